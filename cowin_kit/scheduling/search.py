"""Finding sessions and centres, shaped for the Co-WIN v2 API (no Flask here)."""
from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from cowin_kit.geography.models import Division
from cowin_kit.geography.service import division_name
from cowin_kit.programmes.models import Product
from cowin_kit.scheduling.models import Facility, VaccinationSession
from cowin_kit.scheduling.slots import slot_text


def _levels(division: Division | None) -> dict[int, Division]:
    """The division and its ancestors, by level (1 = state, 2 = district, 3 = block)."""
    out = {}
    while division is not None:
        out[division.level] = division
        division = division.parent
    return out


def descendant_ids(session: Session, division_id: int) -> list[int]:
    """A division and every division below it (districts hold blocks, blocks hold centres)."""
    ids, frontier = [division_id], [division_id]
    while frontier:
        frontier = list(session.scalars(select(Division.id)
                                        .where(Division.parent_id.in_(frontier))))
        ids += frontier
    return ids


def postal_codes_are_numbers(example: str) -> bool:
    """Whether a country's postal codes are plain numbers (its profile's example is digits,
    or it has no postal codes at all): Co-WIN sent a pincode as a JSON integer, and clients
    typed it so."""
    return example == "" or (example.isascii() and example.isdigit())


def pincode_answer(code: str | None, numbers: bool) -> int | str:
    """A centre's postal code as Co-WIN's answers carry it: digits-only codes as a JSON
    integer (leading zeros dropped: "06000" is 6000; the searches pad it back), codes with
    letters ("K1A 0B1") as they are written, and a centre without a code 0 in a country of
    numeric codes (or of none) and "" in one of lettered codes."""
    code = (code or "").strip()
    if code.isascii() and code.isdigit():
        return int(code)
    if not code:
        return 0 if numbers else ""
    return code


def postal_code_query(raw: str, pattern: str, example: str) -> str | None:
    """The stored form of a postal code a client searches with, or None when it is none of
    the country's: as written, or, in a country of fixed-length numeric codes, the number
    an answer carried, left-padded with zeros to the example's length (7001 -> "07001")."""
    raw = raw.strip()
    if not raw or not example:
        return None
    if re.fullmatch(pattern, raw):
        return raw
    if postal_codes_are_numbers(example) and raw.isascii() and raw.isdigit() \
            and len(raw) < len(example) and re.fullmatch(pattern, raw.zfill(len(example))):
        return raw.zfill(len(example))
    return None


def centre_fields(facility: Facility, lang: str) -> dict:
    levels = _levels(facility.division)

    def name(level: int, localised: bool) -> str:
        d = levels.get(level)
        if d is None:
            return ""
        return division_name(d, lang) if localised else d.name

    return {
        "center_id": facility.id,
        "name": facility.name,
        "name_l": (facility.names or {}).get(lang) or facility.name,
        "address": facility.address,
        "address_l": facility.address,
        "state_name": name(1, False),
        "state_name_l": name(1, True),
        "district_name": name(2, False),
        "district_name_l": name(2, True),
        "block_name": name(3, False),
        "block_name_l": name(3, True),
        "pincode": facility.postal_code or "",
        "lat": facility.latitude,
        "long": facility.longitude,
        "fee_type": facility.fee_type,
    }


def session_fields(vs: VaccinationSession, product: Product) -> dict:
    caps = {c.dose_number: c.capacity - c.booked for c in vs.capacities}
    slots = sorted(vs.slots, key=lambda s: s.starts)
    # Co-WIN's clients read doses 1 and 2 (and 3); later boosters (dose 4 in some profiles)
    # get the same field name pattern, so that any dose can be searched for.
    later = {f"available_capacity_dose{n}": left for n, left in sorted(caps.items()) if n > 3}
    return {
        "session_id": vs.id,
        "date": vs.date.strftime("%d-%m-%Y"),
        "available_capacity": sum(caps.values()),
        "available_capacity_dose1": caps.get(1, 0),
        "available_capacity_dose2": caps.get(2, 0),
        "available_capacity_dose3": caps.get(3, 0),
        **later,
        "min_age_limit": vs.min_age,
        "max_age_limit": vs.max_age,
        "allow_all_age": vs.max_age is None,
        "vaccine": product.name,
        "fee": f"{vs.fee:.0f}" if vs.fee == int(vs.fee) else f"{vs.fee:.2f}",
        "walkin_ind": "Y" if vs.walk_in else "N",
        "from": slots[0].starts.strftime("%H:%M:%S") if slots else "",
        "to": slots[-1].ends.strftime("%H:%M:%S") if slots else "",
        "slots": [slot_text(s) for s in slots],
    }


def _sessions(session: Session, facility_filter, dates: list[dt.date]):
    query = (select(VaccinationSession, Product)
             .join(Product, Product.id == VaccinationSession.product_id)
             .join(Facility, Facility.id == VaccinationSession.facility_id)
             .where(VaccinationSession.date.in_(dates), facility_filter,
                    Facility.is_active.is_(True), VaccinationSession.cancelled_at.is_(None))
             .options(selectinload(VaccinationSession.capacities),
                      selectinload(VaccinationSession.slots),
                      selectinload(VaccinationSession.facility).selectinload(Facility.division))
             .order_by(Facility.id, VaccinationSession.date, Product.id))
    return session.execute(query).all()


def _filter_for(session: Session, *, pincode: str | None = None, district_id: int | None = None):
    if pincode is not None:
        return Facility.postal_code == pincode
    return Facility.division_id.in_(descendant_ids(session, district_id))


def find_sessions(session: Session, lang: str, day: dt.date, *, pincode: str | None = None,
                  district_id: int | None = None) -> list[dict]:
    """One day's sessions, flat: the centre's fields and the session's in one object."""
    out = []
    for vs, product in _sessions(session, _filter_for(session, pincode=pincode,
                                                      district_id=district_id), [day]):
        out.append({**centre_fields(vs.facility, lang), "from": "", "to": "",
                    **session_fields(vs, product)})
    return out


def calendar(session: Session, lang: str, start: dt.date, *, pincode: str | None = None,
             district_id: int | None = None, days: int = 7) -> list[dict]:
    """Seven days from ``start``, grouped by centre, with fees for paid centres."""
    dates = [start + dt.timedelta(days=i) for i in range(days)]
    centres: dict[int, dict] = {}
    for vs, product in _sessions(session, _filter_for(session, pincode=pincode,
                                                      district_id=district_id), dates):
        entry = centres.get(vs.facility_id)
        if entry is None:
            fields = session_fields(vs, product)
            entry = {**centre_fields(vs.facility, lang), "from": fields["from"],
                     "to": fields["to"], "sessions": []}
            centres[vs.facility_id] = entry
        entry["sessions"].append(session_fields(vs, product))
        if vs.facility.fee_type == "Paid":
            fees = entry.setdefault("vaccine_fees", [])
            if not any(f["vaccine"] == product.name for f in fees):
                fees.append({"vaccine": product.name, "fee": session_fields(vs, product)["fee"]})
    return list(centres.values())


@dataclass(frozen=True)
class Filters:
    """Search filters, of the portal's search page and of the API's search queries; None
    means "any". Frozen, so that the API's answer cache can key on it."""

    vaccine: str | None = None  # a product's name or (given the products) code, in any case
    age: int | None = None  # the person's age: sessions that admit it
    min_age: int | None = None  # sessions whose min_age_limit is exactly this (Co-WIN's 18/45)
    dose: int | None = None  # sessions with places left for this dose
    fee_type: str | None = None  # "Free" or "Paid": centres of that kind
    available_only: bool = False


def _vaccines(f: Filters, products: Iterable[Product]) -> set[str] | None:
    """The casefolded product names ``f.vaccine`` stands for: itself, and the names of the
    products whose code it is."""
    if not f.vaccine:
        return None
    wanted = f.vaccine.casefold()
    return {wanted} | {p.name.casefold() for p in products if p.code.casefold() == wanted}


def _admits(s: dict, f: Filters, vaccines: set[str] | None) -> bool:
    if vaccines is not None and s["vaccine"].casefold() not in vaccines:
        return False
    if f.age is not None:
        if f.age < s["min_age_limit"]:
            return False
        if s.get("max_age_limit") is not None and f.age > s["max_age_limit"]:
            return False
    if f.min_age is not None and s["min_age_limit"] != f.min_age:
        return False
    if f.dose is not None and s.get(f"available_capacity_dose{f.dose}", 0) <= 0:
        return False
    if f.available_only and s["available_capacity"] <= 0:
        return False
    return True


def filter_centres(centres: list[dict], f: Filters,
                   products: Iterable[Product] = ()) -> list[dict]:
    """Calendar entries (``calendar``'s shape) keeping only the sessions that pass the
    filters, only the centres left with a session, and only their fees of the vaccines left.
    ``products`` lets ``f.vaccine`` be a product code too."""
    vaccines, out = _vaccines(f, products), []
    for c in centres:
        if f.fee_type and c["fee_type"] != f.fee_type:
            continue
        sessions = [s for s in c["sessions"] if _admits(s, f, vaccines)]
        if not sessions:
            continue
        entry = {**c, "sessions": sessions}
        if "vaccine_fees" in c:  # only the fees of the vaccines still offered
            left = {s["vaccine"] for s in sessions}
            entry["vaccine_fees"] = [fee for fee in c["vaccine_fees"] if fee["vaccine"] in left]
        out.append(entry)
    return out


def filter_sessions(sessions: list[dict], f: Filters,
                    products: Iterable[Product] = ()) -> list[dict]:
    """``find_sessions``' flat answer, keeping only the sessions that pass the filters."""
    vaccines = _vaccines(f, products)
    return [s for s in sessions
            if not (f.fee_type and s["fee_type"] != f.fee_type) and _admits(s, f, vaccines)]


def products(session: Session) -> list[Product]:
    """Every product (what a search's ``vaccine`` may name), by id."""
    return list(session.scalars(select(Product).order_by(Product.id)))


def centres_near(session: Session, lang: str, lat: float, lon: float,
                 limit: int = 20) -> list[dict]:
    """Centres by great-circle distance from a point (fine for a country's few thousand)."""
    def distance(f: Facility) -> float:
        p1, p2 = math.radians(lat), math.radians(f.latitude)
        dp, dl = p2 - p1, math.radians(f.longitude - lon)
        a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
        return 6371.0 * 2 * math.asin(math.sqrt(min(1.0, a)))

    facilities = session.scalars(select(Facility).where(Facility.latitude.is_not(None),
                                                        Facility.longitude.is_not(None),
                                                        Facility.is_active.is_(True))
                                 .options(selectinload(Facility.division))).all()
    nearest = sorted(facilities, key=distance)[:limit]
    out = []
    for f in nearest:
        fields = centre_fields(f, lang)
        out.append({k: fields[k] for k in ("center_id", "name", "name_l", "district_name",
                                           "district_name_l", "state_name", "state_name_l",
                                           "block_name", "block_name_l", "pincode", "lat",
                                           "long")}
                   | {"location": f.address, "distance_km": round(distance(f), 2)})
    return out
