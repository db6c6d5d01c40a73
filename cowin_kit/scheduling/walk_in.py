"""Walk-ins: a person who comes to a centre without an appointment gets one on the spot, in
one of today's sessions there, and the vaccinator records the dose against it.

The place comes from the session's walk-in quota first (``places.take_walk_in``), then from
the dose's free capacity (``places.take``); with neither, the walk-in is refused. Who may
have which dose is asked of the eligibility module (through ``booking.check_eligible``), the
places are moved only through ``places``, in its lock order (the person, then their
appointments, then the session's rows). Flask-free; functions flush, the caller commits.
"""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from cowin_kit.accounts.service import actor as staff_actor, audit, in_area
from cowin_kit.db import begin_write, utcnow
from cowin_kit.errors import UserError
from cowin_kit.metrics import note
from cowin_kit.plugins.interfaces import N_
from cowin_kit.programmes import eligibility
from cowin_kit.programmes.models import Product
from cowin_kit.registration.models import Beneficiary
from cowin_kit.scheduling import booking, places, slots
from cowin_kit.scheduling.models import (
    Appointment,
    AppointmentSource,
    AppointmentStatus,
    Facility,
    Slot,
    VaccinationSession,
)

MSG_NOT_TODAY = N_("A walk-in can only join one of today's sessions.")
MSG_OVER = N_("This session is over for today.")
MSG_NO_PLACES = N_("No places left today in this session, not even for walk-ins.")
MSG_HAS_APPOINTMENT = N_("%(name)s already has an appointment on %(date)s at %(centre)s. "
                         "Tick the box to cancel it and vaccinate here today instead.")
MSG_OUTSIDE = N_("This centre is outside your area.")
MSG_CHOOSE_CENTRE = N_("Choose a centre of your area.")


class OutsideArea(UserError):
    """Staff acting on a centre (or a person's booking) outside their area or facility."""

    status = 403


class HasAppointment(booking.Conflict):
    """The person holds an active appointment elsewhere; ``move_existing`` cancels it."""


@dataclass(frozen=True)
class TodaySession:
    """One of today's sessions at a centre, as the walk-in page lists it."""

    id: str
    vaccine: str
    min_age: int
    max_age: int | None
    walk_in_left: int  # places of the walk-in quota left
    places_left: dict[int, int]  # dose -> places of its capacity left
    open: bool  # not cancelled and a slot still to come
    cancelled: bool


def staff_facility(session: Session, user, area: list[int] | None, requested) -> Facility:
    """The centre a user registers walk-ins at: a facility role's own one; an area role's
    choice (``requested``, an id or a centre's code) within their area. OutsideArea (403)
    otherwise; a ``requested`` that is no centre at all is a BookingError on ``facility``."""
    if user.facility_id is not None:
        if requested not in (None, "", user.facility_id, str(user.facility_id)):
            raise OutsideArea(MSG_OUTSIDE, "facility")
        facility = session.get(Facility, user.facility_id)
    else:
        facility = None
        if isinstance(requested, int) or (isinstance(requested, str)
                                          and requested.isascii() and requested.isdigit()
                                          and len(requested) < 10):
            facility = session.get(Facility, int(requested))
        elif isinstance(requested, str) and requested.strip():  # a centre's code
            facility = session.scalar(select(Facility).where(
                Facility.code == requested.strip()[:40].upper()))
        if facility is None:
            raise booking.BookingError(MSG_CHOOSE_CENTRE, "facility")
    if facility is None or not in_area(area, facility.division_id):
        raise OutsideArea(MSG_OUTSIDE, "facility")
    return facility


def _open_slot(vs: VaccinationSession, today: dt.date, now: dt.time | None) -> Slot | None:
    """The slot a walk-in joins: the first one that has not ended (None: the day is over)."""
    for slot in sorted(vs.slots, key=lambda s: s.starts):
        if now is None or not slots.has_ended(vs.date, slot.ends, today=today, now=now):
            return slot
    return None


def todays_sessions(session: Session, facility_id: int, today: dt.date,
                    now: dt.time | None) -> list[TodaySession]:
    """Today's sessions at the centre, those still open first."""
    rows = session.execute(
        select(VaccinationSession, Product).join(Product,
                                                 Product.id == VaccinationSession.product_id)
        .where(VaccinationSession.facility_id == facility_id, VaccinationSession.date == today)
        .options(selectinload(VaccinationSession.capacities),
                 selectinload(VaccinationSession.slots))
        .order_by(VaccinationSession.created_at)).all()
    out = [TodaySession(
        id=vs.id, vaccine=product.name, min_age=vs.min_age, max_age=vs.max_age,
        walk_in_left=max(0, vs.walk_in_quota - vs.walk_ins),
        places_left={c.dose_number: c.capacity - c.booked for c in vs.capacities},
        open=vs.cancelled_at is None and _open_slot(vs, today, now) is not None,
        cancelled=vs.cancelled_at is not None) for vs, product in rows]
    return sorted(out, key=lambda s: not s.open)


def next_dose(session: Session, person: Beneficiary, product: Product) -> int:
    """The dose a person would take of this product's programme: the one after their last
    (eligibility.check_may_take then says whether they may, and when)."""
    return len(eligibility.dose_history(session, person.id, product.programme_id)) + 1


@dataclass
class WalkIn:
    appointment: Appointment
    already_here: bool  # the person was booked in this session already: nothing taken
    moved_from: str | None  # the session of the appointment cancelled for this one


def book(session: Session, *, user, facility: Facility, beneficiary_id: int, session_id,
         today: dt.date, now: dt.time | None, move_existing: bool = False) -> WalkIn:
    """Give a person at the centre an appointment in one of today's sessions there (source
    walk_in, booked by ``user``, marked arrived). An appointment of theirs in this session
    is simply kept; one elsewhere is cancelled (its place given back) only with
    ``move_existing``, else HasAppointment (409)."""
    begin_write(session)
    if beneficiary_id not in places.lock_people(session, [beneficiary_id]):
        raise booking.NotFound(booking.MSG_NO_BENEFICIARY, "beneficiary")
    person = session.get(Beneficiary, beneficiary_id, populate_existing=True)
    if person is None:
        raise booking.NotFound(booking.MSG_NO_BENEFICIARY, "beneficiary")
    vs, product = booking._load_session(session, session_id, today)
    if vs.facility_id != facility.id:  # the same answer as for no session
        raise booking.NotFound(booking.MSG_NO_SESSION, "session_id")
    if vs.date != today:
        raise booking.BookingError(MSG_NOT_TODAY, "session_id")
    slot = _open_slot(vs, today, now)
    if slot is None:
        raise booking.BookingError(MSG_OVER, "session_id")
    dose = next_dose(session, person, product)
    booking.check_eligible(session, person, vs, dose)
    existing = booking._close_missed(session, person, today)
    if existing is not None:  # read afresh under its lock (gone meanwhile: none)
        existing = next(iter(places.lock_appointments(session, [existing.id])), None)
    if existing is not None and existing.status == AppointmentStatus.BOOKED:
        if existing.session_id == vs.id:
            return WalkIn(existing, already_here=True, moved_from=None)
        if not move_existing:
            other = existing.session
            raise HasAppointment(MSG_HAS_APPOINTMENT, "move", name=person.name,
                                 date=other.date.isoformat(), centre=other.facility.name)
    appointment = Appointment(
        id=str(uuid.uuid4()), beneficiary_id=person.id, session_id=vs.id, slot_id=slot.id,
        dose_number=dose, secret_code=booking._secret_code(),
        status=AppointmentStatus.BOOKED, reschedule_count=0, created_at=utcnow(),
        source=AppointmentSource.WALK_IN, booked_by=user.id, arrived_at=utcnow())
    moved_from = None
    try:
        with session.begin_nested():
            if existing is not None and existing.status == AppointmentStatus.BOOKED:
                moved_from = existing.session_id
                places.release(session, [existing])
                audit(session, staff_actor(user), "appointment.cancelled",
                      f"appointment:{existing.id}", division_id=facility.division_id,
                      reason="walk_in", session_id=moved_from)
            appointment.walk_in_place = places.take_walk_in(session, vs.id)
            if not appointment.walk_in_place and not places.take(session, vs.id, dose):
                raise booking.SessionFull(MSG_NO_PLACES, "session_id")
            session.add(appointment)
            session.flush()
    except IntegrityError:  # booked meanwhile by another request (one active appointment)
        raise booking.Conflict(N_("A beneficiary already has an appointment; reschedule or "
                                  "cancel it first."), "beneficiaries") from None
    finally:
        places.expire_capacities(session, vs.id)
        session.expire(vs)
    if moved_from is not None:  # their place elsewhere given back
        note(session, "booking", "cancelled")
    note(session, "booking", "walk_in")  # counted when the walk-in commits
    audit(session, staff_actor(user), "walk_in.booked", f"appointment:{appointment.id}",
          division_id=facility.division_id, session_id=vs.id, dose=dose,
          walk_in_place=appointment.walk_in_place, moved=moved_from is not None)
    return WalkIn(appointment, already_here=False, moved_from=moved_from)


__all__ = ["MSG_HAS_APPOINTMENT", "MSG_NO_PLACES", "MSG_NOT_TODAY",
           "MSG_OUTSIDE", "MSG_OVER", "HasAppointment", "OutsideArea", "TodaySession",
           "WalkIn", "book", "next_dose", "staff_facility", "todays_sessions"]
