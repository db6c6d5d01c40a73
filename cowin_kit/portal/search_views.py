"""Finding a centre by postal code, by division (down to the profile's lowest level) or near
a place, with filters, a page of PAGE_SIZE centres at a time; for a logged-in person who came
to book (or to move an appointment), the results carry the booking forms."""
from __future__ import annotations

import datetime as dt
import re

from babel.dates import format_skeleton
from flask import abort, g, render_template, request, url_for
from flask_babel import gettext
from markupsafe import Markup
from sqlalchemy import func, select

from cowin_kit.collation import sorted_by_name
from cowin_kit.geography.models import Division
from cowin_kit.geography.service import division_name
from cowin_kit.i18n import time_range
from cowin_kit.portal import (
    forms,
    views as common,  # the blueprint and shared helpers
)
from cowin_kit.portal.views import bp
from cowin_kit.programmes.models import DoseRule
from cowin_kit.registration.family import family
from cowin_kit.runtime import db_session, deployment, read_session
from cowin_kit.scheduling import nearby, search, slots

# --- search --------------------------------------------------------------------------------

# Centres on a page: with their week of sessions about 25 kB of HTML (a second on 3G).
PAGE_SIZE = 20
# How long an anonymous search's centres are reused: public availability, as the API's
# answers (a person booking always gets fresh figures).
CACHE_SECONDS = 10
# Centres "near me" considers (nearest first), before filters and pages.
NEAR_CENTRES = 100
NEAR_RADIUS_KM = 50.0

class _SearchQuery:
    """The search page's parameters, read and checked (GET: bookmarkable, no CSRF)."""

    def __init__(self, args, today: dt.date):
        self.errors: dict[str, str] = {}
        self.pincode = args.get("pincode", "").strip()[:20]
        self.state = _whole(args.get("state"))
        self.district = _whole(args.get("district"))
        self.block = _whole(args.get("block"))
        # A postal code, when typed, is what the person searches by; else the divisions.
        self.by = args.get("by") if args.get("by") in ("pincode", "district", "near") else (
            "district" if (self.district is not None or self.block is not None)
            and not self.pincode else "pincode")
        self.start = today
        raw_date = args.get("date", "").strip()
        if raw_date:
            try:
                self.start = dt.date.fromisoformat(raw_date)
            except ValueError:
                self.errors["date"] = gettext("Enter a date, e.g. %(example)s.",
                                              example=today.isoformat())
            else:
                if self.start < today:
                    self.start = today  # nothing can be booked in the past
                if self.start > today + dt.timedelta(days=366):
                    self.errors["date"] = gettext("Choose a date within the next year.")
                    self.start = today  # (and far from the limits of date arithmetic)
        self.vaccine = args.get("vaccine", "").strip()[:80] or None
        self.age = _whole(args.get("age"))
        if args.get("age") and (self.age is None or self.age > 130):
            self.errors["age"] = gettext("Enter an age in years, e.g. 45.")
            self.age = None
        self.dose = _whole(args.get("dose"))
        self.fee = args.get("fee") if args.get("fee") in ("Free", "Paid") else None
        self.members = [r for r in args.getlist("for") if r.isascii() and r.isdigit()][:10]
        self.move = args.get("move", "").strip()[:40] or None
        raw_page = args.get("page", "").strip()
        self.page = _whole(raw_page) if raw_page else 1
        if self.page is None or self.page < 1:
            self.errors["page"] = gettext("There is no page %(page)s of these results.",
                                          page=raw_page[:12])
            self.page = 1
        self.lat = self.lon = None
        if self.by == "near":
            self.lat, self.lon = _degrees(args.get("lat"), 90), _degrees(args.get("long"), 180)
            if self.lat is None or self.lon is None:
                self.errors["near"] = gettext(
                    "Enter the place as a latitude and a longitude in decimal degrees, "
                    "or search by postal code.")

    @property
    def ready(self) -> bool:
        if self.by == "pincode":
            return bool(self.pincode)
        if self.by == "near":
            return self.lat is not None and self.lon is not None
        return self.district is not None or self.block is not None

    def filters(self) -> search.Filters:
        return search.Filters(vaccine=self.vaccine, age=self.age, dose=self.dose,
                               fee_type=self.fee)


def _whole(raw) -> int | None:
    return int(raw) if isinstance(raw, str) and re.fullmatch(r"[0-9]{1,9}", raw) else None


def _degrees(raw, limit: int) -> float | None:
    """Decimal degrees within ±limit, as a browser's geolocation gives them; else None."""
    if not isinstance(raw, str) or not re.fullmatch(r"-?[0-9]{1,3}(\.[0-9]{1,10})?", raw.strip()):
        return None
    value = float(raw)
    return value if -limit <= value <= limit else None


def _chosen_divisions(q: _SearchQuery, levels: int) -> Division | None:
    """The divisions chosen in the lists (``q.state``, ``q.district``, ``q.block``), each
    under the one before: a choice given alone names its parents (a bookmarked
    ``?district=``), and one left under another parent (the person changed a list above it,
    without a script to empty the lists below) is dropped. Returns the deepest: the area
    searched (a first-level division only where the profile has no other level)."""
    rs = read_session()
    chosen = {}
    for level, ident in ((1, q.state), (2, q.district), (3, q.block)):
        d = rs.get(Division, ident) if ident is not None and level <= levels else None
        chosen[level] = d if d is not None and d.level == level else None
    for level in (3, 2):
        d = chosen[level]
        if d is not None and chosen[level - 1] is None and d.parent_id is not None:
            chosen[level - 1] = rs.get(Division, d.parent_id)
    for level in (2, 3):
        d, parent = chosen[level], chosen[level - 1]
        if d is not None and (parent is None or d.parent_id != parent.id):
            chosen[level] = None
    q.state, q.district, q.block = (chosen[n].id if chosen[n] is not None else None
                                    for n in (1, 2, 3))
    return chosen[3] or chosen[2] or (chosen[1] if levels == 1 else None)


def _divisions(parent_id: int | None, level: int) -> list[tuple[int, str]]:
    lang = common.lang()
    query = select(Division).where(Division.level == level)
    if parent_id is not None:
        query = query.where(Division.parent_id == parent_id)
    rows = [(d.id, division_name(d, lang)) for d in read_session().scalars(query)]
    return sorted_by_name(rows, lang, lambda r: r[1])


def _booking_context(q: _SearchQuery):
    """Who is being booked (or which appointment moved), for a logged-in person."""
    if g.account is None:
        return [], None
    members = {m.reference_id: m for m in family(db_session(), g.account.id, common.lang(),
                                                 common.now().date(),
                                                 deployment().profile.default_language)}
    if q.move:
        moving = next((m for m in members.values()
                       if m.appointment and m.appointment.id == q.move), None)
        if moving is None:
            abort(404)
        return [moving], moving.appointment
    chosen = [members[r] for r in q.members if r in members]
    if len(chosen) != len(q.members):
        abort(404)
    return chosen, None


def _vaccines_in(centres: list[dict]) -> list[str]:
    """The vaccines the results offer, for the vaccine filter."""
    return sorted_by_name({s["vaccine"] for c in centres for s in c["sessions"]}, common.lang())


def _found(q: _SearchQuery, area: Division | None, fresh: bool) -> list[dict]:
    """The search's centres with their week of sessions, unfiltered: nearest first near a
    place (each with ``distance_km``), else as the calendar orders them. Anonymous searches
    are kept CACHE_SECONDS (figures_cache), as the API's public answers are."""
    lang = common.lang()

    def build():
        if q.by == "near":
            nearest = nearby.nearest_centres(read_session(), q.lat, q.lon, NEAR_CENTRES,
                                             NEAR_RADIUS_KM)
            km = dict(nearest)
            found = search.calendar(read_session(), lang, q.start, days=common.SEARCH_DAYS,
                                    facility_ids=list(km))
            return sorted(({**c, "distance_km": km[c["center_id"]]} for c in found),
                          key=lambda c: (c["distance_km"], c["center_id"]))
        where = {"pincode": q.pincode} if q.by == "pincode" else {"district_id": area.id}
        return search.calendar(read_session(), lang, q.start, days=common.SEARCH_DAYS,
                               **where)

    if fresh:
        return build()
    place = (round(q.lat, 3), round(q.lon, 3)) if q.by == "near" else (
        q.pincode if q.by == "pincode" else area.id)
    return deployment().figures_cache.get(("portal-search", q.by, place, q.start, lang),
                                          CACHE_SECONDS, build)


@bp.get("/search")
def search_page():
    dep = deployment()
    today = common.now().date()
    q = _SearchQuery(request.args, today)
    chosen, moving = _booking_context(q)
    if chosen and q.dose is None and "dose" not in request.args:
        doses = {m.next_dose for m in chosen}
        if len(doses) == 1:
            q.dose = doses.pop()  # show the sessions with places for the dose they need
    if q.by == "pincode" and q.pincode and not re.fullmatch(dep.profile["postal_code_pattern"],
                                                             q.pincode):
        q.errors["pincode"] = gettext("Enter a postal code of this country, e.g. %(example)s.",
                                      example=dep.profile["postal_code_example"])
    levels = len(dep.profile["admin_levels"])
    for name, ident in (("district", q.district), ("block", q.block)):
        if q.by == "district" and ident is not None and read_session().get(Division,
                                                                            ident) is None:
            q.errors[name] = gettext("Choose a district from the list.")
    area = _chosen_divisions(q, levels)
    states = _divisions(None, 1)
    districts = _divisions(q.state, 2) if q.state is not None and levels >= 2 else []
    if (q.state is not None and not districts and not q.pincode and q.by != "near"
            and (area is None or area.level == 1)):
        # A country with one level of divisions (AE's emirates), or a state with no
        # districts loaded below it (UG ships no sub-counties): the state is where its
        # centres are searched.
        area = read_session().get(Division, q.state)
        q.district, q.by = q.state, "district"
    centres, vaccines, total, pages, status = [], [], 0, 1, 200
    if q.ready and not q.errors and (q.by != "district" or area is not None):
        found = _found(q, area, fresh=g.account is not None)
        vaccines = _vaccines_in(found)
        matching = search.filter_centres(found, q.filters())
        total = len(matching)
        pages = max(1, -(-total // PAGE_SIZE))
        if q.page > pages:
            q.errors["page"] = gettext("There is no page %(page)s of these results.",
                                       page=q.page)
            status = 404
        else:
            centres = matching[(q.page - 1) * PAGE_SIZE: q.page * PAGE_SIZE]
    blocks = _divisions(q.district, 3) if q.district is not None and levels >= 3 else []
    args = request.args.to_dict(flat=False)

    def page_url(n: int) -> str:
        return url_for("portal.search_page", **{**args, "page": [str(n)]})

    back = request.full_path
    now = common.now().time()
    clocks = _centre_clocks(centres, today, now)
    return render_template(
        "portal/search.html", q=q, centres=centres, vaccines=vaccines, states=states,
        districts=districts, blocks=blocks, chosen=chosen, moving=moving, today=today,
        total=total, pages=pages, page_url=page_url,
        show_results=q.ready and (not q.errors or status == 404),
        first=(q.page - 1) * PAGE_SIZE + 1, area=area,
        days=[q.start + dt.timedelta(days=i) for i in range(common.SEARCH_DAYS)],
        book_form=forms.BookForm(), back=back,
        postal_example=dep.profile["postal_code_example"],
        session_date=_memo(_session_date), slot_label=_memo(_slot_label),
        logged_in=g.account is not None,
        currency=dep.profile["currency"],
        postal_codes=bool(dep.profile["postal_code_example"]),
        dose_numbers=range(1, (read_session().scalar(select(func.max(DoseRule.dose_number)))
                               or 1) + 1),
        level_names=(_level_name(0, gettext("State or region")),
                     _level_name(1, gettext("District")),
                     _level_name(2, gettext("Subdistrict"))),
        near_radius=NEAR_RADIUS_KM, level_count=levels,
        open_slots=_memo(lambda s: _open_slots(s, *clocks.get(s["session_id"], (today, now))),
                         key=lambda s: s["session_id"]),
        day_label=_memo(lambda day: format_skeleton("MMMEd", day, locale=common.lang())),
    ), 400 if q.errors and status == 200 else status


def _level_name(index: int, generic: str) -> str:
    """The profile's name of a level of divisions (Departamento, Provincia…) in the
    reader's language, or the generic label when the profile has none in it."""
    profile = deployment().profile
    levels = profile["admin_levels"]
    if index >= len(levels):
        return generic
    lang = common.lang()
    if lang == profile.default_language:
        return levels[index]["name"]
    return (levels[index].get("names") or {}).get(lang) or generic


def _memo(fn, key=lambda x: x):
    """``fn`` remembering its answers for one page: a page of 20 centres repeats the same
    days and slots a hundred times over, and formatting them dominated its time."""
    seen: dict = {}

    def remembered(arg):
        k = key(arg)
        if k not in seen:
            seen[k] = fn(arg)
        return seen[k]
    return remembered


def _slot_label(text: str) -> Markup:
    """A slot as the reader's locale writes times, "9:00 AM–11:00 AM", each time isolated
    (i18n.time_range) so that Arabic's "م" stays with its own time."""
    times = slots.parse(text)
    return time_range(times.starts, times.ends)


def _session_date(text: str) -> dt.date:
    """A search result's Co-WIN date, "DD-MM-YYYY"."""
    return dt.datetime.strptime(text, "%d-%m-%Y").date()


def _centre_clocks(centres: list[dict], today: dt.date, now: dt.time) -> dict:
    """Session id -> (today, now) at its centre, where the profile gives divisions their
    own time zones (a slot that has ended in the centre's zone is not shown as open);
    empty for a one-zone profile, with no query."""
    dep = deployment()
    if not dep.several_zones or not centres:
        return {}
    from cowin_kit import clock
    from cowin_kit.scheduling.models import Facility

    db = read_session()
    divisions = dict(db.execute(select(Facility.id, Facility.division_id).where(
        Facility.id.in_([c["center_id"] for c in centres]))).all())
    clocks = {}
    for c in centres:
        local = clock.local_now(dep.zone_of(db, divisions.get(c["center_id"])))
        for s in c.get("sessions") or []:
            clocks[s["session_id"]] = (local.date(), local.time())
    return clocks


def _open_slots(s: dict, today: dt.date, now: dt.time) -> list[str]:
    """A session's slots that can still be booked: those that have ended are left out."""
    day = _session_date(s["date"])
    return [text for text in s["slots"]
            if not slots.has_ended(day, slots.parse(text).ends, today=today, now=now)]
