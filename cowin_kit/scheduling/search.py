"""Finding sessions and centres, shaped for the Co-WIN v2 API (no Flask here)."""
from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import String, Text, cast, func, select
from sqlalchemy.orm import Session

from cowin_kit.geography.models import Division
from cowin_kit.geography.service import division_name
from cowin_kit.programmes.models import Product
from cowin_kit.scheduling.models import Facility, SessionCapacity, Slot, VaccinationSession
from cowin_kit.scheduling.nearby import NEAR_LIMIT, nearest_centres
from cowin_kit.scheduling.slots import slot_text, text as slot_pair_text


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


def place_names(levels: dict, lang: str) -> dict:
    """Co-WIN's names of a centre's place: its state (level 1), district (2) and block (3),
    as written and in ``lang``. ``levels``: division (or row with name, names and source)
    by level."""
    out = {}
    for level, key in ((1, "state_name"), (2, "district_name"), (3, "block_name")):
        d = levels.get(level)
        out[key] = d.name if d is not None else ""
        out[key + "_l"] = division_name(d, lang) if d is not None else ""
    return out


def _centre(facility_id: int, name: str, names: dict | None, address: str,
            postal_code: str | None, lat: float | None, lon: float | None, fee_type: str,
            place: dict, lang: str) -> dict:
    return {
        "center_id": facility_id,
        "name": name,
        "name_l": (names or {}).get(lang) or name,
        "address": address,
        "address_l": address,
        "state_name": place["state_name"],
        "state_name_l": place["state_name_l"],
        "district_name": place["district_name"],
        "district_name_l": place["district_name_l"],
        "block_name": place["block_name"],
        "block_name_l": place["block_name_l"],
        "pincode": postal_code or "",
        "lat": lat,
        "long": lon,
        "fee_type": fee_type,
    }


def centre_fields(facility: Facility, lang: str) -> dict:
    return _centre(facility.id, facility.name, facility.names, facility.address,
                   facility.postal_code, facility.latitude, facility.longitude,
                   facility.fee_type, place_names(_levels(facility.division), lang), lang)


def _fee_text(fee) -> str:
    return f"{fee:.0f}" if fee == int(fee) else f"{fee:.2f}"


def _session(session_id: str, date_text: str, caps: dict[int, int], min_age: int,
             max_age: int | None, vaccine: str, fee_text: str, walk_in: bool,
             slot_texts: list[str], hours: tuple[str, str]) -> dict:
    """``caps``: places left by dose number, in dose order."""
    get = caps.get
    out = {
        "session_id": session_id,
        "date": date_text,
        "available_capacity": sum(caps.values()),
        "available_capacity_dose1": get(1, 0),
        "available_capacity_dose2": get(2, 0),
        "available_capacity_dose3": get(3, 0),
        "min_age_limit": min_age,
        "max_age_limit": max_age,
        "allow_all_age": max_age is None,
        "vaccine": vaccine,
        "fee": fee_text,
        "walkin_ind": "Y" if walk_in else "N",
        "from": hours[0],
        "to": hours[1],
        "slots": slot_texts,
    }
    # Co-WIN's clients read doses 1 and 2 (and 3); later boosters (dose 4 in some profiles)
    # get the same field name pattern, after dose 3's, so that any dose can be searched for.
    later = [(f"available_capacity_dose{n}", left) for n, left in caps.items() if n > 3]
    if later:
        head = list(out.items())
        out = dict(head[:6] + later + head[6:])
    return out


def session_fields(vs: VaccinationSession, product: Product) -> dict:
    caps = dict(sorted((c.dose_number, c.capacity - c.booked) for c in vs.capacities))
    slots = sorted(vs.slots, key=lambda s: s.starts)
    hours = (slots[0].starts.strftime("%H:%M:%S"), slots[-1].ends.strftime("%H:%M:%S")) \
        if slots else ("", "")
    return _session(vs.id, vs.date.strftime("%d-%m-%Y"), caps, vs.min_age, vs.max_age,
                    product.name, _fee_text(vs.fee), vs.walk_in, [slot_text(s) for s in slots],
                    hours)


# --- the searches: one query for the sessions, their places and slots -----------------------

def _aggregated(expr, where):
    """A correlated subquery: ``expr`` of the session's rows, joined by commas."""
    return select(func.aggregate_strings(expr, ",")).where(where).scalar_subquery()


_PLACES_LEFT = _aggregated(
    cast(SessionCapacity.dose_number, String) + ":"
    + cast(SessionCapacity.capacity - SessionCapacity.booked, String),
    SessionCapacity.session_id == VaccinationSession.id)
_SLOT_TIMES = _aggregated(cast(Slot.starts, String) + "-" + cast(Slot.ends, String),
                          Slot.session_id == VaccinationSession.id)


class _Places:
    """Divisions by id, read once per search with their ancestors (a few small queries,
    whatever the number of centres), and the place names of a centre in each."""

    def __init__(self, session: Session, lang: str):
        self.session, self.lang = session, lang
        self.rows: dict[int, object] = {}
        self.names: dict[int, dict] = {}

    def load(self, ids) -> None:
        """The divisions ``ids`` and all their ancestors, in one statement (a recursive
        query up the tree, whatever its depth)."""
        wanted = set(ids) - self.rows.keys()
        if not wanted:
            return
        up = (select(Division.id, Division.parent_id).where(Division.id.in_(wanted))
              .cte("up", recursive=True))
        up = up.union(select(Division.id, Division.parent_id)
                      .join(up, Division.id == up.c.parent_id))
        self.rows.update((r.id, r) for r in self.session.execute(
            select(Division.id, Division.level, Division.parent_id, Division.name,
                   Division.names, Division.source).where(Division.id.in_(select(up.c.id)))))

    def of(self, division_id: int) -> dict:
        found = self.names.get(division_id)
        if found is None:
            levels, row = {}, self.rows.get(division_id)
            while row is not None and row.level not in levels:
                levels[row.level] = row
                row = self.rows.get(row.parent_id)
            found = self.names[division_id] = place_names(levels, self.lang)
        return found


def _time(text: str) -> dt.time:
    return dt.time.fromisoformat(text.strip())


def _places_left(text: str | None) -> dict[int, int]:
    """{dose number: places left}, in dose order, from the aggregated "1:40,2:7" (in any
    order)."""
    caps, last, ordered = {}, 0, True
    for part in text.split(",") if text else ():
        dose, _, left = part.partition(":")
        n = int(dose)
        caps[n] = int(left)
        ordered, last = ordered and n > last, n
    return caps if ordered else dict(sorted(caps.items()))


def _timing(text: str | None) -> tuple[list[str], tuple[str, str]]:
    """(slot texts, (from, to)) from the aggregated "09:00:00-11:00:00,…" (in any order)."""
    pairs = sorted((_time(a), _time(b)) for a, b in
                   (p.split("-") for p in (text or "").split(",") if p))
    hours = (pairs[0][0].strftime("%H:%M:%S"), pairs[-1][1].strftime("%H:%M:%S")) \
        if pairs else ("", "")
    return [slot_pair_text(a, b) for a, b in pairs], hours


def _session_rows(session: Session, facility_filter, dates: list[dt.date], lang: str):
    """(centre fields, session fields, fee type) for each session, by centre, day and
    product: one statement (places and slots aggregated per session), read as plain rows.

    A district's answer is thousands of sessions, so the per-row work is what a cold answer
    costs: Core rows on the session's connection (no ORM result machinery), each centre's
    fields built once (its ``names`` JSON, read as text, decoded once, not on each of its
    sessions' rows), and what repeats (days, slot sets, fees) formatted once per search."""
    query = (select(VaccinationSession.id, VaccinationSession.date, VaccinationSession.min_age,
                    VaccinationSession.max_age, VaccinationSession.fee,
                    VaccinationSession.walk_in, Product.name.label("vaccine"),
                    Facility.id.label("facility_id"), Facility.name,
                    cast(Facility.names, Text).label("names"),
                    Facility.address, Facility.postal_code, Facility.latitude,
                    Facility.longitude, Facility.fee_type, Facility.division_id,
                    _PLACES_LEFT.label("places"), _SLOT_TIMES.label("slot_times"))
             # The centres first, then their sessions by (centre, day): read from the
             # date's index instead, a day of a whole country's sessions would be scanned.
             .select_from(Facility)
             .join(VaccinationSession, VaccinationSession.facility_id == Facility.id)
             .join(Product, Product.id == VaccinationSession.product_id)
             .where(facility_filter, Facility.is_active.is_(True),
                    VaccinationSession.date.in_(dates), VaccinationSession.cancelled_at.is_(None))
             .order_by(Facility.id, VaccinationSession.date, VaccinationSession.product_id))
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        # The per-session subqueries make PostgreSQL's estimate of a district's search
        # cross jit_above_cost, and compiling it (about 20 ms) costs more than running it
        # (a few index probes per session). LOCAL: for this read transaction only, which
        # also holds under PgBouncer in transaction mode.
        conn.exec_driver_sql("SET LOCAL jit = off")
    rows = conn.execute(query).all()
    places = _Places(session, lang)
    places.load({r.division_id for r in rows})
    days = {d: d.strftime("%d-%m-%Y") for d in dates}
    timings: dict[str | None, tuple] = {}  # the same slots recur at most centres
    fees: dict = {}
    centre, centre_id = None, None
    for (sid, day, min_age, max_age, fee, walk_in, vaccine, facility_id, name, names, address,
         postal_code, lat, lon, fee_type, division_id, left, slot_times) in rows:
        if facility_id != centre_id:  # rows come by centre
            centre_id = facility_id
            centre = _centre(facility_id, name, json.loads(names) if names else None, address,
                             postal_code, lat, lon, fee_type, places.of(division_id), lang)
        timing = timings.get(slot_times)
        if timing is None:
            timing = timings[slot_times] = _timing(slot_times)
        fee_text = fees.get(fee)
        if fee_text is None:
            fee_text = fees[fee] = _fee_text(fee)
        yield centre, _session(sid, days[day], _places_left(left), min_age, max_age, vaccine,
                               fee_text, walk_in, list(timing[0]), timing[1]), fee_type


def _filter_for(session: Session, *, pincode: str | None = None, district_id: int | None = None,
                facility_ids: Iterable[int] | None = None):
    if facility_ids is not None:
        return Facility.id.in_(list(facility_ids))
    if pincode is not None:
        return Facility.postal_code == pincode
    return Facility.division_id.in_(descendant_ids(session, district_id))


def find_sessions(session: Session, lang: str, day: dt.date, *, pincode: str | None = None,
                  district_id: int | None = None) -> list[dict]:
    """One day's sessions, flat: the centre's fields and the session's in one object."""
    where = _filter_for(session, pincode=pincode, district_id=district_id)
    return [{**centre, "from": "", "to": "", **fields} for centre, fields, _fee_type
            in _session_rows(session, where, [day], lang)]


def calendar(session: Session, lang: str, start: dt.date, *, pincode: str | None = None,
             district_id: int | None = None, facility_ids: Iterable[int] | None = None,
             days: int = 7) -> list[dict]:
    """Seven days from ``start``, grouped by centre, with fees for paid centres."""
    dates = [start + dt.timedelta(days=i) for i in range(days)]
    where = _filter_for(session, pincode=pincode, district_id=district_id,
                        facility_ids=facility_ids)
    out: dict[int, dict] = {}
    for centre, fields, fee_type in _session_rows(session, where, dates, lang):
        entry = out.get(centre["center_id"])
        if entry is None:
            entry = out[centre["center_id"]] = {**centre, "from": fields["from"],
                                                "to": fields["to"], "sessions": []}
        entry["sessions"].append(fields)
        if fee_type == "Paid":
            fees = entry.setdefault("vaccine_fees", [])
            if not any(f["vaccine"] == fields["vaccine"] for f in fees):
                fees.append({"vaccine": fields["vaccine"], "fee": fields["fee"]})
    return list(out.values())


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


# --- by distance ------------------------------------------------------------------------------

_NEAR_FIELDS = ("center_id", "name", "name_l", "district_name", "district_name_l",
                "state_name", "state_name_l", "block_name", "block_name_l", "pincode", "lat",
                "long")


def centres_near(session: Session, lang: str, lat: float, lon: float,
                 limit: int = NEAR_LIMIT) -> list[dict]:
    """Co-WIN's findByLatLong: the nearest centres (nearest_centres), with their place
    names, ``location`` (the address) and ``distance_km``."""
    nearest = nearest_centres(session, lat, lon, limit)
    if not nearest:
        return []
    rows = {r.id: r for r in session.execute(
        select(Facility.id, Facility.name, Facility.names, Facility.address,
               Facility.postal_code, Facility.latitude, Facility.longitude,
               Facility.fee_type, Facility.division_id)
        .where(Facility.id.in_([fid for fid, _km in nearest])))}
    places = _Places(session, lang)
    places.load({r.division_id for r in rows.values()})
    out = []
    for fid, km in nearest:
        r = rows[fid]
        fields = _centre(r.id, r.name, r.names, r.address, r.postal_code, r.latitude,
                         r.longitude, r.fee_type, places.of(r.division_id), lang)
        out.append({k: fields[k] for k in _NEAR_FIELDS}
                   | {"location": r.address, "distance_km": round(km, 2)})
    return out
