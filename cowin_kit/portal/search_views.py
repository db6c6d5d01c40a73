"""Finding a centre by postal code or district, with filters; for a logged-in person who
came to book (or to move an appointment), the results carry the booking forms."""
from __future__ import annotations

import datetime as dt
import re

from babel.dates import format_skeleton
from flask import abort, g, render_template, request
from flask_babel import gettext
from sqlalchemy import func, select

from cowin_kit.collation import sorted_by_name
from cowin_kit.geography.models import Division
from cowin_kit.geography.service import division_name
from cowin_kit.portal import (
    forms,
    views as common,  # the blueprint and shared helpers
)
from cowin_kit.portal.views import bp
from cowin_kit.programmes.models import DoseRule
from cowin_kit.registration.family import family
from cowin_kit.runtime import db_session, deployment, read_session
from cowin_kit.scheduling import search, slots

# --- search --------------------------------------------------------------------------------

class _SearchQuery:
    """The search page's parameters, read and checked (GET: bookmarkable, no CSRF)."""

    def __init__(self, args, today: dt.date):
        self.errors: dict[str, str] = {}
        self.pincode = args.get("pincode", "").strip()[:20]
        self.state = _whole(args.get("state"))
        self.district = _whole(args.get("district"))
        # A postal code, when typed, is what the person searches by; else the district.
        self.by = args.get("by") if args.get("by") in ("pincode", "district") else (
            "district" if self.district is not None and not self.pincode else "pincode")
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

    @property
    def ready(self) -> bool:
        if self.by == "pincode":
            return bool(self.pincode)
        return self.district is not None

    def filters(self) -> search.Filters:
        return search.Filters(vaccine=self.vaccine, age=self.age, dose=self.dose,
                               fee_type=self.fee)


def _whole(raw) -> int | None:
    return int(raw) if isinstance(raw, str) and re.fullmatch(r"[0-9]{1,9}", raw) else None


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
    centres, vaccines = [], []
    if q.ready and not q.errors:
        if q.by == "district" and read_session().get(Division, q.district) is None:
            q.errors["district"] = gettext("Choose a district from the list.")
        else:
            found = search.calendar(read_session(), common.lang(), q.start, days=common.SEARCH_DAYS,
                                    **({"pincode": q.pincode} if q.by == "pincode"
                                       else {"district_id": q.district}))
            vaccines = _vaccines_in(found)
            centres = search.filter_centres(found, q.filters())
    states = _divisions(None, 1)
    districts = _divisions(q.state, 2) if q.state is not None else []
    back = request.full_path
    return render_template(
        "portal/search.html", q=q, centres=centres, vaccines=vaccines, states=states,
        districts=districts, chosen=chosen, moving=moving, today=today,
        days=[q.start + dt.timedelta(days=i) for i in range(common.SEARCH_DAYS)],
        book_form=forms.BookForm(), back=back,
        postal_example=dep.profile["postal_code_example"],
        session_date=_session_date, slot_times=slots.parse, logged_in=g.account is not None,
        currency=dep.profile["currency"],
        postal_codes=bool(dep.profile["postal_code_example"]),
        dose_numbers=range(1, (read_session().scalar(select(func.max(DoseRule.dose_number)))
                               or 1) + 1),
        level_names=(_level_name(0, gettext("State or region")),
                     _level_name(1, gettext("District"))),
        open_slots=lambda s: _open_slots(s, today, common.now().time()),
        day_label=lambda day: format_skeleton("MMMEd", day, locale=common.lang()),
    ), 400 if q.errors else 200


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


def _session_date(text: str) -> dt.date:
    """A search result's Co-WIN date, "DD-MM-YYYY"."""
    return dt.datetime.strptime(text, "%d-%m-%Y").date()


def _open_slots(s: dict, today: dt.date, now: dt.time) -> list[str]:
    """A session's slots that can still be booked: those that have ended are left out."""
    day = _session_date(s["date"])
    return [text for text in s["slots"]
            if not slots.has_ended(day, slots.parse(text).ends, today=today, now=now)]
