"""Places in sessions: taken and given back exactly once, whatever the concurrency.

The invariant of the kit: for every session and dose, ``SessionCapacity.booked`` equals the
number of appointments holding a place there (every status but ``cancelled``: a missed or
a done appointment keeps the place it used), and never exceeds the capacity. Walk-ins
first draw on the session's walk-in quota (``VaccinationSession.walk_ins``, the same way:
one conditional UPDATE); an appointment that did says so (``walk_in_place``), and its
place is given back there.

How it holds, on PostgreSQL where requests run in parallel:

- A place is taken by one conditional ``UPDATE … SET booked = booked + n WHERE booked + n
  <= capacity``; its row count says whether there was room.
- A place is moved or given back only from an appointment row locked in the same
  transaction (``SELECT … FOR UPDATE``, read afresh), and the status change is itself
  conditional. So the session and dose given back are the ones the row holds at that
  moment, not what an earlier read saw: a reschedule and a cancel of one appointment sent
  together queue up on its row, and the second sees what the first did.
- Locks are always taken in one order: the people (beneficiary rows, by id), then their
  appointment rows (by id), then capacity rows (by session and dose). Operations on the
  same person queue up instead of deadlocking.

On SQLite the write transaction starts with ``BEGIN IMMEDIATE`` (``db.begin_write``), which
runs writers one at a time; ``FOR UPDATE`` is left out of the SQL there.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import bindparam, func, inspect, select, update
from sqlalchemy.orm import Session

from cowin_kit.db import utcnow
from cowin_kit.registration.models import Beneficiary
from cowin_kit.scheduling import facts
from cowin_kit.scheduling.models import (
    Appointment,
    AppointmentStatus,
    Facility,
    SessionCapacity,
    VaccinationSession,
)

log = logging.getLogger(__name__)

# Every status but this one holds the place it was booked with.
RELEASED = AppointmentStatus.CANCELLED

_TAKE = (
    update(SessionCapacity)
    .where(SessionCapacity.session_id == bindparam("b_session_id"),
           SessionCapacity.dose_number == bindparam("b_dose"),
           SessionCapacity.booked + bindparam("count") <= SessionCapacity.capacity)
    .values(booked=SessionCapacity.booked + bindparam("count"))
    .execution_options(synchronize_session=False))
_TAKE_IF_OPEN = _TAKE.where(select(VaccinationSession.id).join(
    Facility, Facility.id == VaccinationSession.facility_id).where(
    VaccinationSession.id == SessionCapacity.session_id,
    VaccinationSession.cancelled_at.is_(None), Facility.is_active.is_(True)).exists())
_GIVE_BACK = (
    update(SessionCapacity)
    .where(SessionCapacity.session_id == bindparam("b_session_id"),
           SessionCapacity.dose_number == bindparam("b_dose"),
           SessionCapacity.booked >= bindparam("count"))
    .values(booked=SessionCapacity.booked - bindparam("count"))
    .execution_options(synchronize_session=False))


def take(session: Session, session_id: str, dose: int, count: int = 1) -> bool:
    """Take ``count`` places of ``dose``; False (nothing taken) when there are not enough."""
    return session.execute(_TAKE, {"b_session_id": session_id, "b_dose": dose,
                                   "count": count}).rowcount == 1


def take_if_open(session: Session, session_id: str, dose: int, count: int = 1) -> bool:
    """``take``, only while the session is open (not cancelled, its centre active): the
    booking path's check and take in one statement (cowin_kit.scheduling.taking)."""
    return session.execute(_TAKE_IF_OPEN, {"b_session_id": session_id, "b_dose": dose,
                                           "count": count}).rowcount == 1


def take_walk_in(session: Session, session_id: str) -> bool:
    """Take a place of the session's walk-in quota; False when the quota is used up (the
    caller then takes a place of the dose's capacity with ``take``)."""
    return session.execute(
        update(VaccinationSession)
        .where(VaccinationSession.id == session_id,
               VaccinationSession.walk_ins < VaccinationSession.walk_in_quota,
               VaccinationSession.cancelled_at.is_(None))  # never in a cancelled session
        .values(walk_ins=VaccinationSession.walk_ins + 1)
        .execution_options(synchronize_session=False)).rowcount == 1


def _give_back_walk_ins(session: Session, session_id: str, count: int) -> None:
    if session.execute(
            update(VaccinationSession)
            .where(VaccinationSession.id == session_id, VaccinationSession.walk_ins >= count)
            .values(walk_ins=VaccinationSession.walk_ins - count)
            .execution_options(synchronize_session=False)).rowcount != 1:
        log.error("walk-in places of session %s were already given back; run "
                  "`cowin-kit db check-capacity`", session_id)


def give_back(session: Session, session_id: str, dose: int, count: int = 1) -> None:
    """Give back places held by appointments the caller has just released (locked)."""
    facts.forget_sold_out(session, session_id)
    if session.execute(_GIVE_BACK, {"b_session_id": session_id, "b_dose": dose,
                                    "count": count}).rowcount != 1:
        # Only possible when the counts already disagreed: say so, never go below zero.
        log.error("places of session %s dose %s were already given back; run "
                  "`cowin-kit db check-capacity`", session_id, dose)


def lock_people(session: Session, beneficiary_ids: Iterable[int]) -> set[int]:
    """Lock the people's rows, in id order: the first lock of every place-moving operation.
    Returns the ids still there once locked (a person removed meanwhile is missing)."""
    ids = sorted(set(beneficiary_ids))
    if not ids or session.get_bind().dialect.name == "sqlite":  # the write lock is held
        return set(ids)
    return set(session.scalars(select(Beneficiary.id).where(Beneficiary.id.in_(ids))
                               .order_by(Beneficiary.id).with_for_update()))


def lock_appointments(session: Session, appointment_ids: Iterable[str]) -> list[Appointment]:
    """The appointments, locked and read afresh (after the people's locks), by id."""
    ids = sorted(set(appointment_ids))
    if not ids:
        return []
    return list(session.scalars(
        select(Appointment).where(Appointment.id.in_(ids)).order_by(Appointment.id)
        .with_for_update().execution_options(populate_existing=True)))


def release(session: Session, appointments: Iterable[Appointment],
            status: AppointmentStatus = RELEASED) -> list[Appointment]:
    """Mark locked appointments ``status`` (cancelled) and give their places back; those
    already released are left alone. Returns the ones released."""
    released, counts = [], {}
    now = utcnow()
    for appt in sorted(appointments, key=lambda a: a.id):
        if appt.status == RELEASED:
            continue
        done = session.execute(
            update(Appointment)
            .where(Appointment.id == appt.id, Appointment.status == appt.status,
                   Appointment.session_id == appt.session_id)
            .values(status=status, cancelled_at=now)
            .execution_options(synchronize_session=False)).rowcount
        if done != 1:  # cannot happen under the row lock; never give a place back twice
            continue
        # dose None: a place of the session's walk-in quota
        key = (appt.session_id, None if appt.walk_in_place else appt.dose_number)
        counts[key] = counts.get(key, 0) + 1
        released.append(appt)
    for (session_id, dose), count in sorted(counts.items(), key=lambda kv: (kv[0][0],
                                                                             kv[0][1] or 0)):
        if dose is None:
            _give_back_walk_ins(session, session_id, count)
        else:
            give_back(session, session_id, dose, count)
    for appt in released:
        session.expire(appt)
    sessions = {sid for sid, _dose in counts}
    expire_capacities(session, *sessions)
    for obj in list(session.identity_map.values()):
        if isinstance(obj, VaccinationSession) and obj.id in sessions:
            session.expire(obj)
    return released


def expire_capacities(session: Session, *session_ids: str) -> None:
    """Loaded capacity rows are stale after a bulk UPDATE; reload them when next read."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, SessionCapacity) and inspect(obj).identity[0] in session_ids:
            session.expire(obj)


def set_capacity(session: Session, session_id: str, dose: int, capacity: int) -> bool:
    """Change a session's capacity for a dose; False when it would fall below the places
    already taken (conditional, so a place booked meanwhile is never taken away)."""
    done = session.execute(
        update(SessionCapacity)
        .where(SessionCapacity.session_id == session_id, SessionCapacity.dose_number == dose,
               SessionCapacity.booked <= capacity)
        .values(capacity=capacity).execution_options(synchronize_session=False)).rowcount
    expire_capacities(session, session_id)
    facts.forget_sold_out(session, session_id)
    return done == 1


# --- checking the invariant in a live database ---------------------------------------------

@dataclass(frozen=True)
class Drift:
    """A capacity row that disagrees with the appointments holding its places."""

    session_id: str
    dose_number: int
    capacity: int
    booked: int
    holding: int  # appointments holding a place there


def check_capacity(session: Session) -> list[Drift]:
    """Every (session, dose) whose places taken differ from the appointments holding them,
    or exceed its capacity; also appointments holding a place where no capacity row is."""
    holding = (select(Appointment.session_id, Appointment.dose_number,
                      func.count().label("n"))
               .where(Appointment.status != RELEASED, Appointment.walk_in_place.is_(False))
               .group_by(Appointment.session_id, Appointment.dose_number).subquery())
    rows = session.execute(
        select(SessionCapacity.session_id, SessionCapacity.dose_number,
               SessionCapacity.capacity, SessionCapacity.booked,
               func.coalesce(holding.c.n, 0).label("holding"))
        .outerjoin(holding, (holding.c.session_id == SessionCapacity.session_id)
                   & (holding.c.dose_number == SessionCapacity.dose_number))
        .order_by(SessionCapacity.session_id, SessionCapacity.dose_number)).mappings()
    drift = [Drift(**row) for row in rows
             if row["booked"] != row["holding"] or row["booked"] > row["capacity"]]
    orphans = session.execute(
        select(holding.c.session_id, holding.c.dose_number, holding.c.n.label("holding"))
        .outerjoin(SessionCapacity, (holding.c.session_id == SessionCapacity.session_id)
                   & (holding.c.dose_number == SessionCapacity.dose_number))
        .where(SessionCapacity.session_id.is_(None))).mappings()
    drift += [Drift(**row, capacity=0, booked=0) for row in orphans]
    # The walk-in quotas: reported with dose number 0.
    walk_ins = (select(Appointment.session_id, func.count().label("n"))
                .where(Appointment.status != RELEASED, Appointment.walk_in_place.is_(True))
                .group_by(Appointment.session_id).subquery())
    rows = session.execute(
        select(VaccinationSession.id.label("session_id"),
               VaccinationSession.walk_in_quota.label("capacity"),
               VaccinationSession.walk_ins.label("booked"),
               func.coalesce(walk_ins.c.n, 0).label("holding"))
        .outerjoin(walk_ins, walk_ins.c.session_id == VaccinationSession.id)
        .where((VaccinationSession.walk_ins != func.coalesce(walk_ins.c.n, 0))
               | (VaccinationSession.walk_ins > VaccinationSession.walk_in_quota))
        .order_by(VaccinationSession.id)).mappings()
    drift += [Drift(**row, dose_number=0) for row in rows]
    return drift
