"""Sessions and booking: schedule, reschedule and cancel appointments.

Flask-free: every function takes a DB session and plain values, so the web portal, the API,
the CLI and the benchmarks share the same rules. Functions flush but never commit; on a
``BookingError`` the caller's transaction is left as it was (writes run in a savepoint).

Places are taken, moved and given back only through :mod:`cowin_kit.scheduling.places`,
which holds the invariant (places taken = appointments holding one, never more than
capacity) and the lock order every operation here follows: the people, then their
appointments, then capacity rows. On SQLite the booking transaction starts with
``BEGIN IMMEDIATE`` so that concurrent writers queue on the busy timeout instead of failing
with "database is locked".
"""
from __future__ import annotations

import datetime as dt
import re
import secrets
import uuid
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Callable, Iterable

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, make_transient_to_detached

from cowin_kit.accounts.service import audit
from cowin_kit.db import MAX_INT, begin_write, utcnow
from cowin_kit.errors import UserError
from cowin_kit.plugins.builtin.ids.base import whole_number
from cowin_kit.plugins.interfaces import N_
from cowin_kit.programmes import eligibility
from cowin_kit.programmes.eligibility import MAX_AGE
from cowin_kit.programmes.models import Product, Programme
from cowin_kit.registration.models import Beneficiary
from cowin_kit.registration.service import MSG_NOT_FOUND as MSG_NO_BENEFICIARY
from cowin_kit.scheduling import places
from cowin_kit.scheduling.models import (Appointment, AppointmentStatus, Facility,
                                         SessionCapacity, Slot, VaccinationSession)


# --- errors ------------------------------------------------------------------------------

class BookingError(UserError):
    """A booking is refused (cowin_kit.errors: message id, field, params; 400)."""


class NotFound(BookingError):
    """Unknown, or belongs to another account (the same answer, so nobody can probe)."""

    status = 404


class Conflict(BookingError):
    """The request is valid but the state forbids it (active appointment, limit reached)."""

    status = 409


class SessionFull(Conflict):
    pass


MSG_NO_SESSION = N_("This session does not exist.")
MSG_NO_APPOINTMENT = N_("This appointment does not exist.")
MSG_FULL = N_("This session has no places left for dose %(dose)s.")
MSG_NO_SLOTS = N_("Give at least one time slot.")
MSG_BAD_SLOT = N_("The slot is not valid.")
MSG_CHOOSE_BENEFICIARY = N_("Choose at least one beneficiary.")
MSG_BAD_APPOINTMENT_ID = N_("The appointment id is not valid.")
MSG_BAD_DOSE = N_("The dose must be 1 or more.")
MSG_NOT_ACTIVE = N_("This appointment is no longer active.")
MSG_PAST_APPOINTMENT = N_("This appointment is in the past.")


# --- statements of the booking path, built once -------------------------------------------
# A statement built once keeps its compiled form and cache key; building it again for every
# request costs as much as running it.

_SESSION_AND_PRODUCT = (
    select(VaccinationSession, Product)
    .join(Product, Product.id == VaccinationSession.product_id)
    .where(VaccinationSession.id == bindparam("session_id"))
    .options(joinedload(VaccinationSession.slots), joinedload(Product.doses)))
# Locks the people (in id order) as it reads them: the first lock of places.py's order.
_ACCOUNT_BENEFICIARIES = select(Beneficiary).where(
    Beneficiary.id.in_(bindparam("ids", expanding=True)),
    Beneficiary.account_id == bindparam("account_id")).order_by(
    Beneficiary.id).with_for_update()
_INSERT_APPOINTMENT = Appointment.__table__.insert()
_ACTIVE_APPOINTMENT = select(Appointment).where(
    Appointment.beneficiary_id == bindparam("beneficiary_id"),
    Appointment.status == AppointmentStatus.BOOKED)


# --- creating sessions ---------------------------------------------------------------------

def _check_session_values(product: Product, min_age, max_age, capacities, slots, fee):
    if not isinstance(min_age, int) or not 0 <= min_age <= MAX_AGE:
        raise BookingError(N_("The minimum age must be a whole number from 0 to %(max)s."),
                           "min_age", max=MAX_AGE)
    if max_age is not None and (not isinstance(max_age, int) or not min_age <= max_age <= MAX_AGE):
        raise BookingError(N_("The maximum age must be a whole number from the minimum age to "
                              "%(max)s."), "max_age", max=MAX_AGE)
    doses = {r.dose_number for r in product.doses}
    if not capacities or any(c is None or c < 0 for c in capacities.values()):
        raise BookingError(N_("Give a capacity of 0 or more for at least one dose."),
                           "capacity")
    for number, cap in capacities.items():
        if number not in doses and cap:
            raise BookingError(N_("%(vaccine)s has no dose %(dose)s."), "capacity",
                               vaccine=product.name, dose=number)
    if not any(capacities.values()):
        raise BookingError(N_("Give at least one dose a capacity above 0."), "capacity")
    if not slots:
        raise BookingError(MSG_NO_SLOTS, "slots")
    ordered = sorted(slots)
    for i, (start, end) in enumerate(ordered):
        if not start < end:
            raise BookingError(N_("A slot must end after it starts."), "slots")
        if i and start < ordered[i - 1][1]:
            raise BookingError(N_("Slots must not overlap."), "slots")
    try:
        bad_fee = fee is None or not Decimal(str(fee)).is_finite() or Decimal(str(fee)) < 0
    except InvalidOperation:
        bad_fee = True
    if bad_fee:
        raise BookingError(N_("The fee must be 0 or more."), "fee")


def create_session(session: Session, facility: Facility, date: dt.date, product: Product,
                   min_age: int, max_age: int | None, capacities: dict[int, int],
                   slots: list[tuple[dt.time, dt.time]], fee=0) -> VaccinationSession:
    """Create a vaccination session with a capacity per dose number and its time slots."""
    _check_session_values(product, min_age, max_age, capacities, slots, fee)
    vs = VaccinationSession(id=str(uuid.uuid4()), facility=facility, date=date,
                            product_id=product.id, min_age=min_age, max_age=max_age,
                            fee=Decimal(str(fee)))
    vs.capacities = [SessionCapacity(dose_number=n, capacity=c, booked=0)
                     for n, c in sorted(capacities.items()) if c]
    vs.slots = [Slot(starts=s, ends=e) for s, e in sorted(slots)]
    session.add(vs)
    session.flush()
    return vs


# --- the transaction -----------------------------------------------------------------------

def _take_places(session: Session, session_id: str, dose: int, count: int) -> None:
    if not places.take(session, session_id, dose, count):
        raise SessionFull(MSG_FULL, "session_id", dose=dose)


_expire_capacities = places.expire_capacities


# --- looking things up -----------------------------------------------------------------

def _load_session(session: Session, session_id,
                  today: dt.date) -> tuple[VaccinationSession, Product]:
    """The session and its product. Keep the product referenced while checking: the
    identity map holds objects weakly, and check_eligible finds it there."""
    try:
        session_id = str(uuid.UUID(str(session_id)))
    except ValueError:
        raise BookingError(N_("The session id is not valid."), "session_id") from None
    # One round trip: the session, its slots, and its product with the dose rules, which
    # check_eligible then finds in the identity map instead of asking again.
    row = session.execute(_SESSION_AND_PRODUCT, {"session_id": session_id}).unique().first()
    if row is None:
        raise NotFound(MSG_NO_SESSION, "session_id")
    vs, product = row
    if vs.date < today:
        raise BookingError(N_("This session is in the past."), "session_id")
    return vs, product


_TIME_12H = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*([AaPp][Mm])")


def _parse_start(value: str) -> dt.time | None:
    value = value.strip()
    m = _TIME_12H.match(value)  # Co-WIN's "09:00AM-11:00AM"
    if m:
        hour = int(m.group(1)) % 12 + (12 if m.group(3).lower() == "pm" else 0)
        try:
            return dt.time(hour, int(m.group(2)))
        except ValueError:
            return None
    try:
        return dt.time.fromisoformat(value.split("-")[0].strip())
    except ValueError:
        return None


def _resolve_slot(vs: VaccinationSession, slot) -> Slot:
    """``slot`` is a slot id, a start time, or text: "09:00", "09:00:00", "09:00AM-11:00AM"."""
    found = None
    if isinstance(slot, bool):
        slot = None
    if isinstance(slot, str) and len(slot) > 40:  # no slot is written that long
        raise BookingError(MSG_BAD_SLOT, "slot")
    if isinstance(slot, str) and whole_number(slot) is not None:
        slot = whole_number(slot)
    if isinstance(slot, int):
        found = next((s for s in vs.slots if s.id == slot), None)
    else:
        start = slot if isinstance(slot, dt.time) else (
            _parse_start(slot) if isinstance(slot, str) else None)
        if start is None:
            raise BookingError(MSG_BAD_SLOT, "slot")
        found = next((s for s in vs.slots if s.starts.replace(tzinfo=None) == start), None)
    if found is None:
        raise BookingError(N_("This slot is not one of the session's."), "slot")
    return found


def _account_beneficiaries(session: Session, account_id: int, ids: Iterable) -> list[Beneficiary]:
    ids = list(ids or [])
    if not ids:
        raise BookingError(MSG_CHOOSE_BENEFICIARY, "beneficiaries")
    try:
        ids = [int(i) for i in ids]
    except (TypeError, ValueError):
        raise BookingError(N_("A beneficiary id is not valid."), "beneficiaries") from None
    if len(set(ids)) != len(ids):
        raise BookingError(N_("A beneficiary is listed twice."), "beneficiaries")
    found = {b.id: b for b in session.scalars(_ACCOUNT_BENEFICIARIES,
                                              {"ids": ids, "account_id": account_id})}
    if len(found) != len(ids):
        raise NotFound(MSG_NO_BENEFICIARY, "beneficiaries")
    return [found[i] for i in ids]


def citizen_actor(account_id: int) -> str:
    """The audit log's name for a citizen account: its id, never the mobile number."""
    return f"citizen:{account_id}"


def locked_account_appointments(session: Session, account_id: int,
                                appointment_ids: Iterable) -> list[Appointment]:
    """The account's appointments, locked for a change and read afresh (the people first,
    then the appointments: places.py's lock order). NotFound when one is not the account's,
    or was removed meanwhile."""
    appts = [account_appointment(session, account_id, i) for i in appointment_ids]
    places.lock_people(session, {a.beneficiary_id for a in appts})
    fresh = places.lock_appointments(session, [a.id for a in appts])
    if len(fresh) != len(appts):
        raise NotFound(MSG_NO_APPOINTMENT, "appointment_id")
    by_id = {a.id: a for a in fresh}
    return [by_id[a.id] for a in appts]


def account_appointment(session: Session, account_id: int, appointment_id) -> Appointment:
    """One of the account's appointments; NotFound for another account's, as for none."""
    try:
        appointment_id = str(uuid.UUID(str(appointment_id)))
    except ValueError:
        raise BookingError(MSG_BAD_APPOINTMENT_ID, "appointment_id") from None
    appt = session.scalar(select(Appointment).join(
        Beneficiary, Beneficiary.id == Appointment.beneficiary_id).where(
        Appointment.id == appointment_id, Beneficiary.account_id == account_id))
    if appt is None:
        raise NotFound(MSG_NO_APPOINTMENT, "appointment_id")
    return appt


def check_eligible(session: Session, person: Beneficiary, vs: VaccinationSession,
                   dose: int) -> None:
    """Raise BookingError (400) unless ``person`` may take ``dose`` in session ``vs``: the
    programme's rules (cowin_kit.programmes.eligibility) within the session's ages."""
    product = session.get(Product, vs.product_id)
    try:
        eligibility.check_may_take(session, person, product, dose, vs.date,
                                   min_age=vs.min_age, max_age=vs.max_age)
    except eligibility.NotEligible as exc:
        raise BookingError(exc.msgid, exc.field, **exc.params) from None


def _close_missed(session: Session, person: Beneficiary, today: dt.date) -> Appointment | None:
    """Return the person's active appointment; one in a past session is closed as missed,
    so that a no-show can book again."""
    appt = session.scalar(_ACTIVE_APPOINTMENT, {"beneficiary_id": person.id})
    if appt is not None and appt.session.date < today:
        appt.status = AppointmentStatus.MISSED
        session.flush()
        return None
    return appt


def _secret_code() -> str:
    return f"{secrets.randbelow(10000):04d}"


# --- schedule, reschedule, cancel ------------------------------------------------------

def _check_slot_open(vs: VaccinationSession, chosen: Slot, today: dt.date,
                     now: dt.time | None) -> None:
    """Nothing in the past: today's slots that have ended cannot be booked. ``now`` is the
    local time in the deployment's time zone (None skips the check, e.g. in imports)."""
    if now is not None and vs.date == today and chosen.ends.replace(tzinfo=None) <= now:
        raise BookingError(N_("This time slot has already ended; choose a later one."), "slot")


def schedule(session: Session, *, account_id: int, beneficiary_ids: Iterable,
             session_id, slot, dose: int, today: dt.date,
             now: dt.time | None = None) -> list[Appointment]:
    """Book one or more of the account's beneficiaries into a session's slot for ``dose``."""
    if not isinstance(dose, int) or isinstance(dose, bool) or not 1 <= dose <= MAX_INT:
        raise BookingError(MSG_BAD_DOSE, "dose")
    begin_write(session)
    people = _account_beneficiaries(session, account_id, beneficiary_ids)
    vs, _product = _load_session(session, session_id, today)
    chosen = _resolve_slot(vs, slot)
    _check_slot_open(vs, chosen, today, now)
    for person in people:
        check_eligible(session, person, vs, dose)
        if _close_missed(session, person, today) is not None:
            raise Conflict(N_("%(name)s already has an appointment; reschedule or cancel "
                              "it first."), "beneficiaries", name=person.name)
    created = utcnow()
    rows = [{"id": str(uuid.uuid4()), "beneficiary_id": person.id, "session_id": vs.id,
             "slot_id": chosen.id, "dose_number": dose, "secret_code": _secret_code(),
             "status": AppointmentStatus.BOOKED, "reschedule_count": 0, "created_at": created,
             "cancelled_at": None} for person in people]
    try:
        with session.begin_nested():
            session.flush()  # anything pending goes first, as with an ORM flush
            _take_places(session, vs.id, dose, len(people))
            # One INSERT statement without the unit of work (the capacity row stays locked
            # until commit on PostgreSQL: keep what follows the UPDATE short); the rows
            # become session objects below.
            session.connection().execute(_INSERT_APPOINTMENT, rows)
    except IntegrityError:
        # Another request booked one of them meanwhile (one active appointment per person).
        raise Conflict(N_("A beneficiary already has an appointment; reschedule or cancel "
                          "it first."), "beneficiaries") from None
    finally:
        _expire_capacities(session, vs.id)
    made = []
    for row in rows:  # persistent objects of the rows just inserted, as a flush leaves them
        appt = Appointment(**row)
        make_transient_to_detached(appt)
        session.add(appt)
        made.append(appt)
        audit(session, citizen_actor(account_id), "appointment.booked",
              f"appointment:{appt.id}", session_id=vs.id, dose=dose)
    return made


def reschedule(session: Session, *, account_id: int, appointment_id, session_id, slot,
               today: dt.date, max_reschedules: int,
               now: dt.time | None = None) -> Appointment:
    """Move an active appointment to another session or slot; its place moves with it."""
    begin_write(session)
    appt, = locked_account_appointments(session, account_id, [appointment_id])
    if appt.status != AppointmentStatus.BOOKED:
        raise Conflict(MSG_NOT_ACTIVE, "appointment_id")
    if appt.session.date < today:
        raise BookingError(MSG_PAST_APPOINTMENT, "appointment_id")
    if appt.reschedule_count >= max_reschedules:
        raise Conflict(N_("This appointment has been rescheduled %(count)s times, the most "
                          "allowed."), "appointment_id", count=appt.reschedule_count)
    vs, _product = _load_session(session, session_id, today)
    chosen = _resolve_slot(vs, slot)
    _check_slot_open(vs, chosen, today, now)
    person = session.get(Beneficiary, appt.beneficiary_id)
    check_eligible(session, person, vs, appt.dose_number)
    old = (appt.session_id, appt.dose_number)
    new = (vs.id, appt.dose_number)
    try:
        with session.begin_nested():
            # Conditional, so two concurrent reschedules cannot both move the same place.
            moved = session.execute(
                update(Appointment)
                .where(Appointment.id == appt.id,
                       Appointment.status == AppointmentStatus.BOOKED,
                       Appointment.session_id == old[0],
                       Appointment.reschedule_count == appt.reschedule_count)
                .values(session_id=vs.id, slot_id=chosen.id,
                        reschedule_count=Appointment.reschedule_count + 1)
                .execution_options(synchronize_session=False)).rowcount
            if moved != 1:  # cannot happen under the row lock; never move a place twice
                raise Conflict(N_("This appointment changed meanwhile; try again."),
                               "appointment_id")
            if old != new:
                # A fixed order of capacity rows, so crossing reschedules cannot deadlock.
                for key in sorted((old, new)):
                    if key == new:
                        _take_places(session, vs.id, appt.dose_number, 1)
                    else:
                        places.give_back(session, old[0], old[1])
    finally:
        _expire_capacities(session, old[0], vs.id)
        session.expire(appt)
    audit(session, citizen_actor(account_id), "appointment.rescheduled",
          f"appointment:{appt.id}", session_id=vs.id, previous_session_id=old[0])
    return appt


def cancel(session: Session, *, account_id: int, appointment_ids: Iterable,
           today: dt.date | None = None) -> list[Appointment]:
    """Cancel some or all of the account's active appointments; their places are given back."""
    ids = list(appointment_ids or [])
    if not ids:
        raise BookingError(N_("Choose at least one appointment."), "appointment_id")
    if len(set(map(str, ids))) != len(ids):
        raise BookingError(N_("An appointment is listed twice."), "appointment_id")
    begin_write(session)
    appts = locked_account_appointments(session, account_id, ids)
    for appt in appts:
        if appt.status != AppointmentStatus.BOOKED:
            raise Conflict(MSG_NOT_ACTIVE, "appointment_id")
        if today is not None and appt.session.date < today:
            raise BookingError(MSG_PAST_APPOINTMENT, "appointment_id")
    # Locked and checked: each place goes back once, to the session the row holds now.
    places.release(session, appts)
    for appt in appts:
        audit(session, citizen_actor(account_id), "appointment.cancelled",
              f"appointment:{appt.id}")
    return appts


# --- demo sessions -------------------------------------------------------------------------

DEMO_SLOTS = [(dt.time(9), dt.time(11)), (dt.time(11), dt.time(13)),
              (dt.time(14), dt.time(16)), (dt.time(16), dt.time(18))]
DEMO_CAPACITY = {1: 50, 2: 30, 3: 20}
DEMO_FEE = 50


def _profile_products(session: Session, profile) -> list[Product]:
    products = []
    for spec in profile["programmes"]:
        programme = session.scalar(select(Programme).where(Programme.code == spec["code"]))
        if programme is None or not programme.is_active:
            continue
        wanted = {p["code"] for p in spec["products"]}
        products += [p for p in programme.products if p.code in wanted and p.is_active]
    return products


def create_demo_sessions(session: Session, profile, days: int = 7, *,
                         today: dt.date | None = None) -> int:
    """Create sessions over the coming ``days`` at every demo centre, one a day per centre,
    the profile's products taking turns, so a new user can try the whole journey at once.
    Safe to run twice; returns how many sessions were created."""
    if today is None:
        from zoneinfo import ZoneInfo

        today = dt.datetime.now(ZoneInfo(profile["timezone"])).date()
    products = _profile_products(session, profile)
    if not products:
        return 0
    facilities = list(session.scalars(select(Facility).where(Facility.is_demo.is_(True))
                                      .order_by(Facility.code)))
    created = 0
    for i, facility in enumerate(facilities):
        for d in range(days):
            product = products[(i + d) % len(products)]
            date = today + dt.timedelta(days=d)
            if _find_session(session, facility.id, date, product.id) is not None:
                continue
            doses = {r.dose_number for r in product.doses}
            create_session(session, facility, date, product, product.min_age_years,
                           product.max_age_years,
                           {n: c for n, c in DEMO_CAPACITY.items() if n in doses}, DEMO_SLOTS,
                           fee=DEMO_FEE if facility.fee_type == "Paid" else 0)
            created += 1
    return created


def _find_session(session: Session, facility_id: int, date: dt.date,
                  product_id: int) -> VaccinationSession | None:
    return session.scalar(select(VaccinationSession).where(
        VaccinationSession.facility_id == facility_id, VaccinationSession.date == date,
        VaccinationSession.product_id == product_id))


# --- importing sessions from CSV -----------------------------------------------------------

SESSION_COLUMNS = ("facility_code", "date", "vaccine", "min_age", "capacity_dose1", "slots")
SESSION_OPTIONAL = ("max_age", "fee")
CAPACITY_PREFIX = "capacity_dose"
_SLOT = re.compile(r"^(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})$")


def _parse_slots(raw: str) -> list[tuple[dt.time, dt.time]]:
    slots = []
    for part in filter(None, (p.strip() for p in raw.split(";"))):
        m = _SLOT.match(part)
        if not m:
            raise ValueError(f"slot {part!r} is not like 09:00-11:00")
        try:
            start, end = (dt.time.fromisoformat(t.zfill(5)) for t in m.groups())
        except ValueError:
            raise ValueError(f"slot {part!r} has an impossible time") from None
        slots.append((start, end))
    return slots


def _parse_row(session: Session, row: dict[str, str], today: dt.date, facilities, products):
    """(facility, date, product, min_age, max_age, capacities, slots, fee) or ValueError."""
    problems = []
    facility = facilities.get(row["facility_code"])
    if facility is None:
        problems.append(f"unknown facility_code {row['facility_code']!r}")
    date = None
    try:
        date = dt.datetime.strptime(row["date"], "%d-%m-%Y").date()
        if date < today:
            problems.append(f"date {row['date']} is in the past")
    except ValueError:
        problems.append(f"date {row['date']!r} is not a DD-MM-YYYY date")
    matches = products.get(row["vaccine"], [])
    product = matches[0] if len(matches) == 1 else None
    if not matches:
        problems.append(f"unknown vaccine {row['vaccine']!r}; use a product code of the "
                        "profile (e.g. " + ", ".join(sorted(products)[:4]) + ")")
    elif len(matches) > 1:
        problems.append(f"vaccine {row['vaccine']!r} is in several programmes")

    def whole(column, empty=None):
        value = row.get(column, "")
        if value == "":
            return empty
        if whole_number(value) is None:
            problems.append(f"{column} {value!r} is not a whole number of 0 or more")
            return empty
        return whole_number(value)

    min_age, max_age = whole("min_age", 0), whole("max_age")
    capacities = {}
    for column in row:
        if column.startswith(CAPACITY_PREFIX):
            number = column[len(CAPACITY_PREFIX):]
            if whole_number(number) is None or whole_number(number) < 1:
                problems.append(f"column {column} should be {CAPACITY_PREFIX}<N>, N from 1")
                continue
            cap = whole(column)
            if cap is not None:
                capacities[whole_number(number)] = cap
    try:
        slots = _parse_slots(row["slots"])
    except ValueError as exc:
        problems.append(str(exc))
        slots = []
    fee = Decimal(0)
    if row.get("fee"):
        try:
            fee = Decimal(row["fee"])
            if not fee.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            problems.append(f"fee {row['fee']!r} is not a number")
            fee = Decimal(0)
    if facility is not None and facility.fee_type == "Free" and fee:
        problems.append(f"fee must be 0: {facility.code} is a free centre")
    if problems:
        raise ValueError("; ".join(problems))
    try:
        _check_session_values(product, min_age, max_age, capacities, slots, fee)
    except BookingError as exc:
        raise ValueError(f"{exc.field}: {exc}") from None
    return facility, date, product, min_age, max_age, capacities, slots, fee


def import_sessions_csv(session: Session, path: Path | str, *, today: dt.date,
                        progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Create or update sessions from a CSV file (see SESSION_COLUMNS). The whole file is
    checked first; nothing is written when a line is wrong (CsvProblems names them).
    A session is the same when its facility, date and vaccine are: a second import updates
    its ages, fee and capacities (never below the places already booked) and adds slots."""
    from cowin_kit.csvfiles import CsvProblems, read_rows

    rows = read_rows(path, SESSION_COLUMNS, optional=SESSION_OPTIONAL,
                     optional_prefixes=(CAPACITY_PREFIX,))
    facilities = {f.code: f for f in session.scalars(select(Facility))}
    products: dict[str, list[Product]] = {}
    for p in session.scalars(select(Product).where(Product.is_active.is_(True))):
        products.setdefault(p.code, []).append(p)
    problems, parsed, seen = [], [], {}
    for line, row in rows:
        try:
            values = _parse_row(session, row, today, facilities, products)
        except ValueError as exc:
            problems.append((line, str(exc)))
            continue
        facility, date, product = values[:3]
        key = (facility.id, date, product.id)
        if key in seen:
            problems.append((line, f"the same session as line {seen[key]}"))
            continue
        seen[key] = line
        existing = _find_session(session, *key)
        if existing is not None:
            for cap in existing.capacities:
                new = values[5].get(cap.dose_number)
                if new is not None and new < cap.booked:
                    problems.append((line, f"capacity_dose{cap.dose_number} {new} is below "
                                           f"the {cap.booked} place(s) already booked"))
        parsed.append((line, existing, values))
    if problems:
        raise CsvProblems(str(path), problems)
    created = updated = 0
    for line, existing, values in parsed:
        facility, date, product, min_age, max_age, capacities, slots, fee = values
        if existing is None:
            create_session(session, facility, date, product, min_age, max_age, capacities,
                           slots, fee)
            created += 1
        else:
            _update_session(session, existing, min_age, max_age, capacities, slots, fee, line,
                            path)
            updated += 1
        if progress:
            progress(1)
    session.flush()
    return {"created": created, "updated": updated}


def _update_session(session: Session, vs: VaccinationSession, min_age, max_age, capacities,
                    slots, fee, line, path) -> None:
    from cowin_kit.csvfiles import CsvProblems

    vs.min_age, vs.max_age, vs.fee = min_age, max_age, fee
    have = {c.dose_number for c in vs.capacities}
    for number, cap in sorted(capacities.items()):
        if number not in have:
            if cap:
                vs.capacities.append(SessionCapacity(dose_number=number, capacity=cap, booked=0))
            continue
        # Conditional, like booking: a place booked since the check is never taken away.
        if not places.set_capacity(session, vs.id, number, cap):
            raise CsvProblems(str(path), [(line, f"capacity_dose{number} {cap} is below the "
                                                 "places booked meanwhile")])
    starts = {s.starts: s for s in vs.slots}
    for start, end in slots:
        if start in starts:
            starts[start].ends = end
        else:
            vs.slots.append(Slot(starts=start, ends=end))
    session.flush()
    _expire_capacities(session, vs.id)


def available(session: Session, session_id: str) -> dict[int, int]:
    """Places left per dose number."""
    return {c.dose_number: c.capacity - c.booked for c in session.scalars(
        select(SessionCapacity).where(SessionCapacity.session_id == session_id))}


__all__ = ["BookingError", "NotFound", "Conflict", "SessionFull", "create_session", "schedule",
           "reschedule", "cancel", "check_eligible", "create_demo_sessions",
           "import_sessions_csv", "available"]
