"""The end of a vaccination day: appointments nobody came to become no-shows (missed).

A missed appointment is no longer active, so the person may book again
(scheduling.booking refuses a second active appointment, and treats a missed one as closed);
it keeps the place it was booked with (scheduling.places: only a cancelled appointment
gives its place back), as Co-WIN counted it. Running it again changes nothing. A dose
recorded later for a missed appointment (a phone that synced late) still turns it done.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cowin_kit.accounts.service import audit
from cowin_kit.db import begin_write
from cowin_kit.plugins.interfaces import N_
from cowin_kit.scheduling.models import (
    Appointment,
    AppointmentStatus,
    Facility,
    VaccinationSession,
)
from cowin_kit.vaccination.centre import CentreError

MSG_FUTURE_DAY = N_("A day that has not come yet cannot be closed.")


def close_day(session: Session, actor: str, *, today: dt.date, day: dt.date | None = None,
              facility_id: int | None = None, session_id: str | None = None,
              today_at: Callable[[int], dt.date] | None = None) -> int:
    """Mark the still-booked appointments missed: of one session (``session_id``), of a day
    (``day``, at ``facility_id`` or everywhere), or, with neither, of every day before
    ``today``. Audited per session closed; returns how many became missed.

    ``today_at`` (a centre's division id -> its today): where the profile gives divisions
    their own time zones, each centre's day ends in its own zone; ``today`` is then the
    latest of them (a day not yet over at a centre is left alone there)."""
    if day is not None and day > today:
        raise CentreError(MSG_FUTURE_DAY, "date")
    begin_write(session)
    query = select(VaccinationSession.id, VaccinationSession.date,
                   VaccinationSession.facility_id, Facility.division_id).join(
        Facility, Facility.id == VaccinationSession.facility_id)
    if session_id is not None:
        query = query.where(VaccinationSession.id == session_id,
                            VaccinationSession.date <= today)
    elif day is not None:
        query = query.where(VaccinationSession.date == day)
    else:
        query = query.where(VaccinationSession.date < today)
    if facility_id is not None:
        query = query.where(VaccinationSession.facility_id == facility_id)
    # Only sessions with someone still booked (a closed day is not audited twice).
    query = query.where(VaccinationSession.id.in_(
        select(Appointment.session_id).where(Appointment.status == AppointmentStatus.BOOKED)))
    total = 0
    for sid, date, _fid, division in session.execute(
            query.order_by(VaccinationSession.date, VaccinationSession.id)).all():
        if today_at is not None:
            here = today_at(division)
            if date > here or (session_id is None and day is None and date >= here):
                continue  # not yet this day (or not yet over) in the centre's zone
        count = session.execute(
            update(Appointment)
            .where(Appointment.session_id == sid,
                   Appointment.status == AppointmentStatus.BOOKED)
            .values(status=AppointmentStatus.MISSED)
            .execution_options(synchronize_session=False)).rowcount
        if count:
            total += count
            audit(session, actor, "session.closed", f"session:{sid}", division_id=division,
                  date=date.isoformat(), missed=count)
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Appointment):
            session.expire(obj)
    session.flush()
    return total


__all__ = ["close_day"]
