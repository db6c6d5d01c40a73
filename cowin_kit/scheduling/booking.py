"""Booking: schedule, reschedule and cancel appointments.

Flask-free: every function takes a DB session and plain values, so the web portal, the API,
the CLI and the benchmarks share the same rules. Functions flush but never commit; on a
``BookingError`` the caller rolls back (every caller does): ``schedule`` runs no savepoint,
as its refusals come before it writes, or from a write that wrote nothing, except when the
one-active-appointment index refuses the insert, which PostgreSQL only allows to happen
when another request of the same person committed meanwhile.
Sessions themselves are made in :mod:`cowin_kit.scheduling.sessions`; slots are read and
"ended" is decided in :mod:`cowin_kit.scheduling.slots`.

Places are taken, moved and given back only through :mod:`cowin_kit.scheduling.places`,
which holds the invariant (places taken = appointments holding one, never more than
capacity) and the lock order every operation here follows: the people, then their
appointments, then capacity rows (``schedule`` writes through
:mod:`cowin_kit.scheduling.taking`, which takes them the same way, in one statement on
PostgreSQL). On SQLite the booking transaction starts with
``BEGIN IMMEDIATE`` so that concurrent writers queue on the busy timeout instead of failing
with "database is locked".
"""
from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, make_transient_to_detached

from cowin_kit import clock
from cowin_kit.accounts import otp
from cowin_kit.accounts.service import audit
from cowin_kit.db import MAX_INT, begin_write, utcnow
from cowin_kit.errors import UserError
from cowin_kit.metrics import note
from cowin_kit.plugins.builtin.ids.base import whole_number
from cowin_kit.plugins.interfaces import N_
from cowin_kit.programmes import eligibility
from cowin_kit.programmes.eligibility import MSG_BAD_DOSE
from cowin_kit.programmes.models import Product
from cowin_kit.registration.models import Beneficiary
from cowin_kit.registration.service import MSG_NOT_FOUND as MSG_NO_BENEFICIARY
from cowin_kit.request_source import current_source
from cowin_kit.scheduling import booking_texts, facts, places, slots, taking
from cowin_kit.scheduling.models import (
    Appointment,
    AppointmentSource,
    AppointmentStatus,
    Facility,
    Slot,
    VaccinationSession,
)
from cowin_kit.vaccination.models import Dose

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
MSG_BAD_SLOT = N_("The slot is not valid.")
MSG_CHOOSE_BENEFICIARY = N_("Choose at least one beneficiary.")
MSG_BAD_APPOINTMENT_ID = N_("The appointment id is not valid.")
MSG_NOT_ACTIVE = N_("This appointment is no longer active.")
MSG_PAST_APPOINTMENT = N_("This appointment is in the past.")
MSG_SESSION_CANCELLED = N_("This session has been cancelled; choose another one.")


# --- statements of the booking path, built once -------------------------------------------
# A statement built once keeps its compiled form and cache key; building it again for every
# request costs as much as running it.

# KEY SHARE on the session's row: a session being cancelled (FOR UPDATE, in
# scheduling.session_cancel) makes a booking wait, then see it cancelled.
_SESSION_AND_PRODUCT = (
    select(VaccinationSession, Product, Facility.is_active)
    .join(Product, Product.id == VaccinationSession.product_id)
    .join(Facility, Facility.id == VaccinationSession.facility_id)
    .where(VaccinationSession.id == bindparam("session_id"))
    .options(joinedload(VaccinationSession.slots), joinedload(Product.doses))
    .with_for_update(key_share=True, of=VaccinationSession)
    .execution_options(populate_existing=True))
# Locks the people (in id order) as it reads them: the first lock of places.py's order. With
# each person, in the same round trip: their active appointment and its day, if any, and
# their doses of the session's programme (a row per dose), which the rules need.
# Core rows, not ORM entities (their building was a fifth of a booking's CPU): the person's
# fields the rules and the texts use, and each dose's number, day and product.
_PEOPLE = (
    select(Beneficiary.id, Beneficiary.reference_id, Beneficiary.account_id, Beneficiary.name,
           Beneficiary.birth_year, Beneficiary.birth_date, Beneficiary.priority_groups,
           Beneficiary.language, Appointment.id, VaccinationSession.date, Dose.dose_number,
           Dose.given_on, Dose.product_id)
    .outerjoin(Appointment, (Appointment.beneficiary_id == Beneficiary.id)
               & (Appointment.status == AppointmentStatus.BOOKED))
    .outerjoin(VaccinationSession, VaccinationSession.id == Appointment.session_id)
    .outerjoin(Dose, (Dose.beneficiary_id == Beneficiary.id)
               & (Dose.programme_id == bindparam("programme_id")))
    .where(Beneficiary.account_id == bindparam("account_id"))
    .order_by(Beneficiary.id, Dose.dose_number).with_for_update(of=Beneficiary))
_PEOPLE_BY_ID = _PEOPLE.where(Beneficiary.id.in_(bindparam("ids", expanding=True)))
_PEOPLE_BY_REF = _PEOPLE.where(Beneficiary.reference_id.in_(bindparam("ids", expanding=True)))
# schedule_on_driver reads the same, with the login, in taking._CALLER_AND_PEOPLE.
_ACTIVE_APPOINTMENT = select(Appointment).where(
    Appointment.beneficiary_id == bindparam("beneficiary_id"),
    Appointment.status == AppointmentStatus.BOOKED)


# --- the transaction -----------------------------------------------------------------------

def _take_places(session: Session, session_id: str, dose: int, count: int) -> None:
    if not places.take(session, session_id, dose, count):
        facts.mark_sold_out(session, session_id, dose, count)
        raise SessionFull(MSG_FULL, "session_id", dose=dose)


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
    vs, product, centre_open = row
    if vs.date < today:
        raise BookingError(N_("This session is in the past."), "session_id")
    if vs.cancelled_at is not None or not centre_open:
        raise Conflict(MSG_SESSION_CANCELLED, "session_id")
    return vs, product


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
            slots.parse_start(slot) if isinstance(slot, str) else None)
        if start is None:
            raise BookingError(MSG_BAD_SLOT, "slot")
        found = next((s for s in vs.slots if s.starts.replace(tzinfo=None) == start), None)
    if found is None:
        raise BookingError(N_("This slot is not one of the session's."), "slot")
    return found


class _Someone(NamedTuple):
    """The fields of a person that booking reads (a Core row of _PEOPLE, not an ORM
    object): the rules (cowin_kit.programmes.eligibility) and the confirmation's text."""

    id: int
    reference_id: str
    account_id: int | None
    name: str
    birth_year: int
    birth_date: dt.date | None
    priority_groups: list
    language: str | None


class _GivenDose:
    """A dose of a person's history as check_may_take reads it: its number, its day, and
    its product (from the identity map, or loaded when first asked, as Dose.product was)."""

    __slots__ = ("_product", "_session", "dose_number", "given_on", "product_id")

    def __init__(self, session: Session | None, dose_number: int, given_on: dt.date,
                 product_id: int, known: Product | None = None):
        self._session = session
        self.dose_number, self.given_on, self.product_id = dose_number, given_on, product_id
        self._product = known if known is not None and known.id == product_id else None

    @property
    def product(self) -> Product:
        if self._product is not None:
            return self._product
        if self._session is None:  # the driver path (schedule_on_driver) looks nothing up
            raise HandOver()
        return self._session.get(Product, self.product_id)


@dataclass
class _Person:
    """A person being booked, as _lock_people read them."""

    person: _Someone
    active_id: str | None  # their active appointment, if any
    active_on: dt.date | None  # its day
    doses: list[_GivenDose]  # of the session's programme, first dose first


def _lock_people(session: Session, account_id: int, ids: Iterable | None,
                 refs: Iterable | None, programme_id: int) -> list[_Person]:
    """The account's people named by row id (``ids``) or reference id (``refs``), locked,
    in the order given."""
    by_ref, ids = _named(ids, refs)
    # On the session's connection: Core rows, without the ORM's execution. Core does not
    # autoflush, so the caller's pending changes (a person just added or moved to this
    # account) are written first, as an ORM query would; a clean session sends nothing.
    session.flush()
    rows = session.connection().execute(
        _PEOPLE_BY_REF if by_ref else _PEOPLE_BY_ID,
        {"ids": ids, "account_id": account_id, "programme_id": programme_id})
    return _people(rows, ids, by_ref, session)


def _named(ids: Iterable | None, refs: Iterable | None) -> tuple[bool, list]:
    """Whether the people are named by reference id, and their ids, checked for form."""
    by_ref = refs is not None
    ids = list((refs if by_ref else ids) or [])
    if not ids:
        raise BookingError(MSG_CHOOSE_BENEFICIARY, "beneficiaries")
    try:
        ids = [str(i) for i in ids] if by_ref else [int(i) for i in ids]
    except (TypeError, ValueError):
        raise BookingError(N_("A beneficiary id is not valid."), "beneficiaries") from None
    if len(set(ids)) != len(ids):
        raise BookingError(N_("A beneficiary is listed twice."), "beneficiaries")
    return by_ref, ids


def _people(rows, ids: list, by_ref: bool, session: Session | None,
            product: Product | None = None) -> list[_Person]:
    """_PEOPLE's rows as the people named by ``ids``, in that order (NotFound for one
    missing: not the account's, or no one's). ``product``: the session's, known to the
    doses of it without a lookup."""
    found: dict = {}
    for row in rows:
        key = row[1] if by_ref else row[0]
        seen = found.get(key)
        if seen is None:
            seen = found[key] = _Person(_Someone(*row[:8]), row[8], row[9], [])
        if row[10] is not None:
            seen.doses.append(_GivenDose(session, row[10], row[11], row[12], product))
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
                   dose: int, known: facts.SessionFacts | None = None,
                   history: list | None = None) -> None:
    """Raise BookingError (400) unless ``person`` may take ``dose`` in session ``vs``: the
    programme's rules (cowin_kit.programmes.eligibility) within the session's ages.
    ``known``: the session's facts, when the caller has them (no query for the product,
    programme and phases); ``history``: the person's doses of its programme, likewise."""
    if known is not None:
        product, programme, phases = known.product, known.programme, known.phases
    else:
        product, programme, phases = session.get(Product, vs.product_id), None, None
    try:
        eligibility.check_may_take(session, person, product, dose, vs.date,
                                   min_age=vs.min_age, max_age=vs.max_age,
                                   programme=programme, phases=phases, history=history)
    except eligibility.NotEligible as exc:
        raise BookingError(exc.msgid, exc.field, **exc.params) from None


def _close_missed(session: Session, person: Beneficiary, today: dt.date) -> Appointment | None:
    """Return the person's active appointment; one in a past session is closed as missed,
    so that a no-show can book again (the walk-in path; schedule() reads the active
    appointment with the person and uses _mark_missed)."""
    appt = session.scalar(_ACTIVE_APPOINTMENT, {"beneficiary_id": person.id})
    if appt is not None and appt.session.date < today:
        appt.status = AppointmentStatus.MISSED
        session.flush()
        return None
    return appt


def _mark_missed(session: Session, appointment_id: str) -> None:
    """Close an active appointment of a past session as missed (its place stays taken: a
    missed appointment holds it, as places.py counts)."""
    session.execute(update(Appointment)
                    .where(Appointment.id == appointment_id,
                           Appointment.status == AppointmentStatus.BOOKED)
                    .values(status=AppointmentStatus.MISSED)
                    .execution_options(synchronize_session="fetch"))


def _secret_code() -> str:
    return f"{secrets.randbelow(10000):04d}"


# --- schedule, reschedule, cancel ------------------------------------------------------

def _check_slot_open(vs: VaccinationSession, chosen: Slot, today: dt.date,
                     now: dt.time | None) -> None:
    """Nothing in the past: a slot that has ended cannot be booked. ``now`` is the local
    time in the deployment's time zone (None skips the check, e.g. in imports)."""
    if now is not None and slots.has_ended(vs.date, chosen.ends, today=today, now=now):
        raise BookingError(N_("This time slot has already ended; choose a later one."), "slot")


def centre_clock(division_id: int | None, today: dt.date, now: dt.time | None,
                 zone_of=None) -> tuple[dt.date, dt.time | None]:
    """Today and the time at a centre of this division: its own time zone when ``zone_of``
    (division id -> IANA zone) is given, the caller's ``today``/``now`` otherwise (one-zone
    profiles pass none: nothing to ask)."""
    if zone_of is None:
        return today, now
    local = clock.local_now(zone_of(division_id))
    return local.date(), (local.time() if now is not None else None)


def _known_session(known: facts.SessionFacts | None, today: dt.date) -> facts.SessionFacts:
    """The session's facts (kept a few seconds), refused when unknown, past or closed as
    last read; the write checks again that it is open (cowin_kit.scheduling.taking)."""
    if known is None:
        raise NotFound(MSG_NO_SESSION, "session_id")
    if known.session.date < today:
        raise BookingError(N_("This session is in the past."), "session_id")
    if known.session.cancelled_at is not None or not known.facility.is_active:
        raise Conflict(MSG_SESSION_CANCELLED, "session_id")
    return known


def _session_id(session_id) -> str:
    try:
        return str(uuid.UUID(str(session_id)))
    except ValueError:
        raise BookingError(N_("The session id is not valid."), "session_id") from None


def schedule(session: Session, *, account_id: int, beneficiary_ids: Iterable | None = None,
             beneficiary_refs: Iterable | None = None, session_id, slot, dose: int,
             today: dt.date, now: dt.time | None = None,
             source: str = AppointmentSource.ONLINE, booked_by: int | None = None,
             actor: str | None = None, account=None,
             attach: bool = True, zone_of=None) -> list[Appointment]:
    """Book one or more of the account's beneficiaries (by row id, or by reference id with
    ``beneficiary_refs``) into a session's slot for ``dose``. Staff booking for a citizen
    say so: ``source`` (assisted), ``booked_by`` (their id) and ``actor`` (the audit log's
    name for them; default the citizen). ``account``: the account's id, mobile and language
    when the caller has them (its confirmation texts then need no query). ``attach``: the
    appointments made are put in the session as persistent objects (their relationships
    load); False gives them unattached, holding their rows' values alone, for a caller that
    reads only those (the API: their ids), and spares the session's bookkeeping of them. On
    a BookingError the caller rolls back.

    The lean path (issue 15): the session's facts come from a few seconds' cache, a full
    session's refusal from a short "sold out" mark (no SQL), and the write is one
    statement on PostgreSQL (cowin_kit.scheduling.taking). Round trips: the people (locked)
    with their active appointments and doses, then the write. ``zone_of`` (division id ->
    IANA zone, profiles of several zones): ``today`` and ``now`` are the centre's."""
    if beneficiary_refs is not None:
        beneficiary_refs = list(beneficiary_refs)
    beneficiary_ids = list(beneficiary_ids or [])
    session_id, wanted = _asked(dose, session_id, beneficiary_ids, beneficiary_refs)
    if facts.is_sold_out(session, session_id, dose, wanted):
        raise SessionFull(MSG_FULL, "session_id", dose=dose)
    begin_write(session)
    if zone_of is not None:
        early = facts.session_facts(session, session_id)  # kept: _known_session reuses it
        if early is not None:
            today, now = centre_clock(early.facility.division_id, today, now, zone_of)
    known = _known_session(facts.session_facts(session, session_id), today)
    vs = known.session
    people = _lock_people(session, account_id, beneficiary_ids, beneficiary_refs,
                          known.programme.id)
    plan = _plan(session, known, people, slot=slot, dose=dose, today=today, now=now,
                 account_id=account_id, source=source, booked_by=booked_by, actor=actor,
                 account=account)
    for appointment_id in plan.missed:
        _mark_missed(session, appointment_id)
    try:
        outcome = taking.write_booking(session, session_id=vs.id, dose=dose,
                                       appointments=plan.rows, audits=plan.audits,
                                       texts=plan.texts)
    except IntegrityError:
        raise _taken_meanwhile() from None
    finally:
        places.expire_capacities(session, vs.id)
    _settle(session, outcome, vs.id, dose, len(plan.rows))
    made = [Appointment(**row) for row in plan.rows]
    if attach:
        for appt in made:
            # persistent objects of the rows just inserted, as a flush leaves them
            make_transient_to_detached(appt)
            session.add(appt)
    note(session, "booking", "booked", len(made))  # counted when the booking commits
    return made


class HandOver(Exception):  # noqa: N818 - not an error: a way to go
    """schedule_on_driver cannot book this one by itself (nothing was written): book it
    with schedule(), which can (a missed appointment to close, facts not at hand, a
    product to look up)."""


def schedule_on_driver(conn, bind, *, token: str, settings, beneficiary_refs: list,
                       session_id, slot, dose: int, today: dt.date, now: dt.time | None,
                       zone_of=None) -> list[str]:
    """schedule() for an API caller, on a DBAPI connection of PostgreSQL (``conn``, in a
    transaction it leaves to the caller; ``bind``: the engine whose caches apply): the
    same login (``token``, checked as otp.authenticate_caller does) and the same checks
    and write, without the ORM, in two statements: the caller with their people locked,
    then the write (taking); plus the session's facts on another connection when this
    process has not read them in the last few seconds (issue 15's lean path;
    cowin_kit.api.fast_booking serves it before Flask). Returns the appointments' ids.
    Raises LoginError (401) and BookingError as the view would, and HandOver for what
    only schedule() does; whatever it raises, nothing was written, and the caller rolls
    back."""
    digest = otp.token_digest(token)
    otp.check_signature(token, settings)  # a forged token costs no SQL
    beneficiary_refs = list(beneficiary_refs)
    session_id, wanted = _asked(dose, session_id, [], beneficiary_refs)
    if facts.is_sold_out(bind, session_id, dose, wanted):
        raise SessionFull(MSG_FULL, "session_id", dose=dose)
    known = facts.facts_for(bind, session_id)
    if known is None:
        raise HandOver()  # no such session: schedule() says so
    if zone_of is not None:
        today, now = centre_clock(known.facility.division_id, today, now, zone_of)
    known = _known_session(known, today)
    by_ref, ids = _named(None, beneficiary_refs)
    token_row, rows = taking.driver_caller_and_people(conn, digest, ids, known.programme.id)
    account = otp.caller_from_row(token_row, utcnow())  # or NotAuthenticated
    people = _people(rows, ids, by_ref, None, known.product)
    plan = _plan(None, known, people, slot=slot, dose=dose, today=today, now=now,
                 account_id=account.id, source=AppointmentSource.ONLINE, booked_by=None,
                 actor=None, account=account)
    if plan.missed:
        raise HandOver()
    try:
        outcome = taking.driver_write(conn, session_id=known.session.id, dose=dose,
                                      appointments=plan.rows, audits=plan.audits,
                                      texts=plan.texts)
    except taking.DriverIntegrityError:
        raise _taken_meanwhile() from None
    _settle(bind, outcome, known.session.id, dose, len(plan.rows))
    return [row["id"] for row in plan.rows]


def _taken_meanwhile() -> Conflict:
    """Another request booked one of them meanwhile (one active appointment per person)."""
    return Conflict(N_("A beneficiary already has an appointment; reschedule or cancel it "
                       "first."), "beneficiaries")


def _asked(dose, session_id, ids: list, refs: list | None) -> tuple[str, int]:
    """The session id, checked for form, and how many places are asked for."""
    if not isinstance(dose, int) or isinstance(dose, bool) or not 1 <= dose <= MAX_INT:
        raise BookingError(MSG_BAD_DOSE, "dose")
    return _session_id(session_id), len(refs if refs is not None else ids)


class _Plan(NamedTuple):
    """What a booking writes, every rule checked: rows of its appointments, audit entries
    and confirmation texts, and the missed appointments to close first."""

    rows: list[dict]
    audits: list[dict]
    texts: list[dict]
    missed: list[str]


def _plan(session: Session | None, known: facts.SessionFacts, people: list[_Person], *,
          slot, dose: int, today: dt.date, now: dt.time | None, account_id: int, source,
          booked_by, actor, account) -> _Plan:
    """The rules of a booking (slot, eligibility, one active appointment), and its rows.
    ``session``: None on the driver path, where nothing may be looked up (HandOver)."""
    vs = known.session
    chosen = _resolve_slot(vs, slot)
    _check_slot_open(vs, chosen, today, now)
    missed = []
    for p in people:
        check_eligible(session, p.person, vs, dose, known, p.doses)
        if p.active_id is not None:
            if p.active_on >= today:
                raise Conflict(N_("%(name)s already has an appointment; reschedule or "
                                  "cancel it first."), "beneficiaries", name=p.person.name)
            missed.append(p.active_id)
    created = utcnow()
    rows = [{"id": str(uuid.uuid4()), "beneficiary_id": person.id, "session_id": vs.id,
             "slot_id": chosen.id, "dose_number": dose, "secret_code": _secret_code(),
             "status": AppointmentStatus.BOOKED.value, "reschedule_count": 0,
             "created_at": created, "cancelled_at": None, "source": str(source),
             "booked_by": booked_by, "walk_in_place": False}
            for person in (p.person for p in people)]
    who, where = actor or citizen_actor(account_id), current_source()
    audits = [{"at": created, "actor": who, "action": "appointment.booked",
               "target": f"appointment:{row['id']}", "details": {"session_id": vs.id,
                                                                 "dose": dose},
               "source": where, "division_id": None} for row in rows]
    # The confirmations go in this transaction: sent only if the booking commits.
    texts = [booking_texts.booked_row(session, p.person, row, vs, chosen, known.facility,
                                      created, account)
             for p, row in zip(people, rows, strict=True)]
    return _Plan(rows, audits, [t for t in texts if t is not None], missed)


def _settle(bind, outcome: taking.Outcome, session_id: str, dose: int, count: int) -> None:
    """Refuse as the write's outcome says (a full session is marked sold out here)."""
    if outcome is taking.Outcome.FULL:
        facts.mark_sold_out(bind, session_id, dose, count)
        raise SessionFull(MSG_FULL, "session_id", dose=dose)
    if outcome is taking.Outcome.CLOSED:
        raise Conflict(MSG_SESSION_CANCELLED, "session_id")


def reschedule(session: Session, *, account_id: int, appointment_id, session_id, slot,
               today: dt.date, max_reschedules: int,
               now: dt.time | None = None, zone_of=None) -> Appointment:
    """Move an active appointment to another session or slot; its place moves with it.
    ``zone_of``: as for :func:`schedule` (the new session's centre's day and time)."""
    begin_write(session)
    appt, = locked_account_appointments(session, account_id, [appointment_id])
    old_today = today
    if zone_of is not None:
        today = centre_clock(appt.session.facility.division_id, today, now, zone_of)[0]
    if appt.status != AppointmentStatus.BOOKED:
        raise Conflict(MSG_NOT_ACTIVE, "appointment_id")
    if appt.session.date < today:
        raise BookingError(MSG_PAST_APPOINTMENT, "appointment_id")
    if appt.reschedule_count >= max_reschedules:
        raise Conflict(N_("This appointment has been rescheduled %(count)s times, the most "
                          "allowed."), "appointment_id", count=appt.reschedule_count)
    today = old_today
    # With several zones the new centre's day may be behind the caller's: checked below.
    vs, _product = _load_session(session, session_id, today if zone_of is None
                                 else today - dt.timedelta(days=1))
    if zone_of is not None:
        today, now = centre_clock(vs.facility.division_id, today, now, zone_of)
        if vs.date < today:
            raise BookingError(N_("This session is in the past."), "session_id")
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
        places.expire_capacities(session, old[0], vs.id)
        session.expire(appt)
    audit(session, citizen_actor(account_id), "appointment.rescheduled",
          f"appointment:{appt.id}", session_id=vs.id, previous_session_id=old[0])
    booking_texts.rescheduled(session, appt)
    note(session, "booking", "rescheduled")
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
        booking_texts.cancelled(session, appt)
    note(session, "booking", "cancelled", len(appts))
    return appts


__all__ = ["MSG_BAD_APPOINTMENT_ID", "MSG_BAD_SLOT", "MSG_CHOOSE_BENEFICIARY",
           "MSG_FULL", "MSG_NO_APPOINTMENT", "MSG_NO_BENEFICIARY", "MSG_NO_SESSION",
           "MSG_NOT_ACTIVE", "MSG_PAST_APPOINTMENT", "BookingError", "Conflict", "NotFound",
           "SessionFull", "HandOver", "account_appointment", "cancel", "check_eligible",
           "citizen_actor", "locked_account_appointments", "reschedule", "schedule",
           "schedule_on_driver"]
