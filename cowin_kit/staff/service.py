"""What the staff pages do, without Flask: centres and sessions of the user's area (the
rules on staff users themselves, their roles, area, passwords, logging in and TOTP, are the
accounts domain's: cowin_kit.accounts.service and cowin_kit.accounts.staff_login).

Refusals are StaffFormError (cowin_kit.errors), shown by cowin_kit.web.user_errors;
audit entries name users by id, never by e-mail.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from cowin_kit.accounts.models import StaffUser
from cowin_kit.accounts.service import actor, audit
from cowin_kit.db import begin_write
from cowin_kit.errors import UserError
from cowin_kit.plugins.interfaces import N_
from cowin_kit.programmes.models import Product, Programme
from cowin_kit.scheduling import slots as slot_grammar
from cowin_kit.scheduling.booking import BookingError
from cowin_kit.scheduling.models import Facility, VaccinationSession
from cowin_kit.scheduling.session_import import import_sessions_csv
from cowin_kit.scheduling.sessions import (
    MSG_NO_SLOTS,
    check_walk_in_quota,
    create_session,
    recurring_dates,
)


class StaffFormError(UserError):
    """A refused form value (cowin_kit.errors: message id, the field to show it at, params)."""


# --- the area --------------------------------------------------------------------------------

def _in_area(query, area: list[int] | None):
    return query if area is None else query.where(Facility.division_id.in_(area))


def _matching(query, q: str):
    """Centres whose code starts with ``q`` or whose name contains it, in any case. The
    area's filter (facility.division_id, indexed) comes first; what is left is one area's
    centres, a few thousand at most, so the name's substring test stays cheap."""
    q = (q or "").strip()
    if not q:
        return query
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return query.where(or_(func.lower(Facility.code).like(f"{escaped.lower()}%", escape="\\"),
                           func.lower(Facility.name).like(f"%{escaped.lower()}%",
                                                          escape="\\")))


def count_centres(session: Session, area: list[int] | None, q: str = "") -> int:
    return session.scalar(_matching(_in_area(select(func.count()).select_from(Facility),
                                             area), q)) or 0


def centres(session: Session, area: list[int] | None, *, offset: int = 0,
            limit: int = 20, q: str = "") -> list[Facility]:
    return list(session.scalars(_matching(_in_area(select(Facility), area), q)
                                .options(selectinload(Facility.division))
                                .order_by(Facility.name, Facility.code)
                                .offset(offset).limit(limit)))


def centre(session: Session, area: list[int] | None, facility_id: int) -> Facility | None:
    """The centre if it is in the area; a centre elsewhere is as good as unknown."""
    return session.scalar(_in_area(select(Facility).where(Facility.id == facility_id), area))


def upcoming_sessions(session: Session, facility_ids: list[int], today: dt.date,
                      until: dt.date | None = None,
                      limit: int = 500) -> dict[int, list[VaccinationSession]]:
    """Sessions from ``today`` on (up to ``until``), by centre, with capacities and slots."""
    if not facility_ids:
        return {}
    query = (select(VaccinationSession)
             .where(VaccinationSession.facility_id.in_(facility_ids),
                    VaccinationSession.date >= today)
             .options(selectinload(VaccinationSession.capacities),
                      selectinload(VaccinationSession.slots))
             .order_by(VaccinationSession.date, VaccinationSession.created_at).limit(limit))
    if until is not None:
        query = query.where(VaccinationSession.date <= until)
    out: dict[int, list[VaccinationSession]] = {}
    for vs in session.scalars(query):
        out.setdefault(vs.facility_id, []).append(vs)
    return out


def products(session: Session, profile) -> list[Product]:
    """The profile's active products, in the profile's order."""
    out = []
    for spec in profile["programmes"]:
        programme = session.scalar(select(Programme).where(Programme.code == spec["code"]))
        if programme is None or not programme.is_active:
            continue
        by_code = {p.code: p for p in programme.products if p.is_active}
        out += [by_code[p["code"]] for p in spec["products"] if p["code"] in by_code]
    return out


# --- adding a session ------------------------------------------------------------------------

def parse_slots(text: str) -> list[slot_grammar.SlotTimes]:
    """"09:00-11:00, 11:00-13:00" (commas, semicolons or new lines between slots)."""
    try:
        slots = slot_grammar.parse_list(text)
    except slot_grammar.SlotError as exc:
        raise StaffFormError(exc.msgid, exc.field, **exc.params) from None
    if not slots:
        raise StaffFormError(MSG_NO_SLOTS, "slots")
    return slots


@dataclass
class NewSession:
    date: dt.date
    product_id: int
    min_age: int
    max_age: int | None
    capacities: dict[int, int]
    slots: str
    fee: object = 0
    walk_in_quota: int = 0
    # Recurring: every day from ``date`` to ``until`` falling on ``weekdays`` (0 = Monday).
    until: dt.date | None = None
    weekdays: list[int] | None = None


MSG_SESSION_EXISTS = N_("This centre already has a session of %(vaccine)s on that day.")
MSG_CENTRE_INACTIVE = N_("This centre is deactivated: it takes no new sessions.")


@dataclass
class AddedSessions:
    created: list[VaccinationSession]
    skipped: list[dt.date]  # days that already had a session of this vaccine


def add_sessions(session: Session, user: StaffUser, facility: Facility, values: NewSession,
                 *, today: dt.date, products_offered: list[Product]) -> AddedSessions:
    """Create one session, or one per matching day of a range, at a centre of the user's
    area, in the caller's transaction. A single day that already has a session of the
    vaccine is refused; such days of a range are skipped and named. StaffFormError."""
    product = next((p for p in products_offered if p.id == values.product_id), None)
    if not facility.is_active:
        raise StaffFormError(MSG_CENTRE_INACTIVE, None)
    if product is None:
        raise StaffFormError(N_("Choose one of the vaccines offered."), "product")
    if values.date < today:
        raise StaffFormError(N_("The date must be today or later."), "date")
    last = values.until or values.date
    if last > today + dt.timedelta(days=366):
        raise StaffFormError(N_("Choose a date within the next year."),
                             "until" if values.until else "date")
    try:
        dates = recurring_dates(values.date, values.until, values.weekdays)
        check_walk_in_quota(values.walk_in_quota)
    except BookingError as exc:
        raise StaffFormError(exc.msgid, exc.field, **exc.params) from None
    slots = parse_slots(values.slots)
    fee = values.fee if facility.fee_type == "Paid" else 0
    begin_write(session)
    taken = set(session.scalars(select(VaccinationSession.date).where(
        VaccinationSession.facility_id == facility.id,
        VaccinationSession.date.in_(dates),
        VaccinationSession.product_id == product.id)))
    if values.until is None and taken:
        raise StaffFormError(MSG_SESSION_EXISTS, "date", vaccine=product.name)
    created = []
    try:
        with session.begin_nested():
            for date in dates:
                if date in taken:
                    continue
                created.append(create_session(session, facility, date, product,
                                              values.min_age, values.max_age,
                                              values.capacities, slots, fee,
                                              walk_in_quota=values.walk_in_quota))
    except BookingError as exc:
        raise StaffFormError(exc.msgid, exc.field, **exc.params) from None
    except IntegrityError:  # the same session added by someone else at the same moment
        raise StaffFormError(MSG_SESSION_EXISTS, "date", vaccine=product.name) from None
    for vs in created:
        audit(session, actor(user), "session.created", f"session:{vs.id}",
              division_id=facility.division_id, facility=facility.code,
              date=vs.date.isoformat(), vaccine=product.code,
              capacities={str(k): v for k, v in sorted(values.capacities.items()) if v},
              slots=len(slots),
              **({"walk_in_quota": values.walk_in_quota} if values.walk_in_quota else {}))
    return AddedSessions(created, sorted(taken))


def add_session(session: Session, user: StaffUser, facility: Facility, values: NewSession,
                *, today: dt.date, products_offered: list[Product]) -> VaccinationSession:
    """Create one session (``values.until`` unset) or raise StaffFormError."""
    values.until = None
    return add_sessions(session, user, facility, values, today=today,
                        products_offered=products_offered).created[0]


# --- importing sessions ----------------------------------------------------------------------

def import_sessions(session: Session, user: StaffUser, area: list[int] | None, path: Path,
                    filename: str, *, today: dt.date) -> dict[str, int]:
    """Import a sessions CSV for centres of the user's area. Raises CsvProblems naming every
    wrong line (those of centres outside the area too); nothing is written then."""
    from cowin_kit.csvfiles import CsvProblems, read_rows
    from cowin_kit.scheduling.session_import import (
        CAPACITY_PREFIX,
        SESSION_COLUMNS,
        SESSION_OPTIONAL,
    )

    try:
        rows = read_rows(path, SESSION_COLUMNS, optional=SESSION_OPTIONAL,
                         optional_prefixes=(CAPACITY_PREFIX,))
    except CsvProblems as exc:
        raise CsvProblems(filename, exc.problems) from None
    problems: list[tuple[int, str]] = []
    if area is not None:
        codes = {row["facility_code"] for _line, row in rows}
        outside = set(session.scalars(select(Facility.code).where(
            Facility.code.in_(codes), Facility.division_id.not_in(area))))
        problems = [(line, f"facility_code {row['facility_code']!r} is not a centre of your "
                           "area")
                    for line, row in rows if row["facility_code"] in outside]
    begin_write(session)
    nested = session.begin_nested()  # so that lines outside the area leave nothing behind
    try:
        result = import_sessions_csv(session, path, today=today)
    except CsvProblems as exc:
        nested.rollback()
        problems = sorted(problems + exc.problems)
        raise CsvProblems(filename, problems) from None
    if problems:
        nested.rollback()
        raise CsvProblems(filename, problems)
    nested.commit()
    audit(session, actor(user), "sessions.imported", "upload", **result)
    return result
