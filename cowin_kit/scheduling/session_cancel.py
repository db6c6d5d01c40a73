"""Cancelling a whole session: its booked appointments are cancelled, their places given
back, the session is marked cancelled, and each person is told by SMS (an outbox row in the
same transaction) — all or nothing.

The race it must win: a booking into the session at the same moment. Booking reads the
session with a KEY SHARE lock (``booking._load_session``) before it takes a place, and
refuses a cancelled one; this takes the session's row FOR UPDATE, so a booking either
finishes first (and its appointment is found and cancelled here) or waits and then sees
the session cancelled. The locks follow places.py's order: the people, their
appointments, then the session and capacities. The people are known only by reading the
appointments first, so when a booking slipped in between that read and the session's lock,
the whole attempt is rolled back to a savepoint (which releases its locks) and made again.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from cowin_kit.accounts.models import StaffUser
from cowin_kit.accounts.service import actor, audit
from cowin_kit.db import begin_write, utcnow
from cowin_kit.metrics import note
from cowin_kit.notifications.texts import SESSION_CANCELLED, notify_person
from cowin_kit.plugins.interfaces import N_
from cowin_kit.registration.models import Beneficiary
from cowin_kit.scheduling import places
from cowin_kit.scheduling.booking import BookingError, Conflict
from cowin_kit.scheduling.models import Appointment, AppointmentStatus, VaccinationSession

MAX_REASON = 200  # VaccinationSession.cancel_reason
ATTEMPTS = 20  # bookings keep slipping in: give up, the user tries again

MSG_NO_REASON = N_("Say why the session is cancelled; people are told.")
MSG_REASON_TOO_LONG = N_("Use at most %(max)s characters.")
MSG_ALREADY_CANCELLED = N_("This session was already cancelled.")
MSG_SESSION_OVER = N_("This session is over; it cannot be cancelled.")
MSG_BUSY = N_("People are booking this session right now; try again.")


def _booked(session: Session, session_id: str) -> list[tuple[str, int]]:
    return [tuple(r) for r in session.execute(
        select(Appointment.id, Appointment.beneficiary_id)
        .where(Appointment.session_id == session_id,
               Appointment.status == AppointmentStatus.BOOKED)
        .order_by(Appointment.id))]


def _lock_session(session: Session, session_id: str) -> VaccinationSession | None:
    return session.scalar(select(VaccinationSession).where(VaccinationSession.id == session_id)
                          .with_for_update().execution_options(populate_existing=True))


def cancel_session(session: Session, user: StaffUser, vs: VaccinationSession, reason: str, *,
                   today: dt.date, centre_name: str) -> list[Appointment]:
    """Cancel the session and every booked appointment in it; queue one SMS per person.
    Returns the appointments cancelled. Raises BookingError (reason, over) or Conflict."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise BookingError(MSG_NO_REASON, "reason")
    if len(reason) > MAX_REASON:
        raise BookingError(MSG_REASON_TOO_LONG, "reason", max=MAX_REASON)
    begin_write(session)
    session_id = vs.id
    for _attempt in range(ATTEMPTS):
        seen = _booked(session, session_id)
        savepoint = session.begin_nested()
        places.lock_people(session, {b for _a, b in seen})
        places.lock_appointments(session, [a for a, _b in seen])
        locked = _lock_session(session, session_id)
        if locked is None or locked.cancelled_at is not None:
            savepoint.rollback()
            raise Conflict(MSG_ALREADY_CANCELLED, "session")
        if locked.date < today:
            savepoint.rollback()
            raise BookingError(MSG_SESSION_OVER, "session")
        if _booked(session, session_id) != seen:  # booked or changed meanwhile: again
            savepoint.rollback()
            continue
        break
    else:
        raise Conflict(MSG_BUSY, "session")
    appointments = places.lock_appointments(session, [a for a, _b in seen])
    released = places.release(session, [a for a in appointments
                                         if a.session_id == session_id
                                         and a.status == AppointmentStatus.BOOKED])
    locked = session.get(VaccinationSession, session_id, populate_existing=True)
    locked.cancelled_at, locked.cancel_reason = utcnow(), reason
    date = locked.date.strftime("%d-%m-%Y")  # as Co-WIN writes dates; the same in any language
    told = 0
    for appt in released:
        person = session.get(Beneficiary, appt.beneficiary_id)
        if person is None:
            continue
        message = notify_person(session, person, kind="session.cancelled",
                                msgid=SESSION_CANCELLED,
                                params={"name": person.name, "centre": centre_name,
                                        "date": date, "reason": reason},
                                dedupe_key=f"session.cancelled:{appt.id}")
        told += message is not None
    savepoint.commit()
    session.flush()
    note(session, "session_cancelled")  # counted when the cancellation commits
    note(session, "booking", "session_cancelled", len(released))
    audit(session, actor(user), "session.cancelled", f"session:{session_id}",
          division_id=locked.facility.division_id, facility=locked.facility.code,
          date=locked.date.isoformat(), appointments=len(released), texts=told)
    return released
