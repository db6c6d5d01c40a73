"""Recording a dose at a centre: the vaccinator's tap, from the page or the offline queue.

One transaction does it all: the lot gives one dose (vaccination.lots.take_dose), the dose is
recorded (vaccination.service.record_dose, with its details), the appointment becomes done,
the audit log and the person's SMS (the outbox) are written. The dose number comes from the
eligibility rules (programmes.eligibility), never from the client.

Idempotent: the client sends a key made when its form was shown (the offline queue keeps
it). The person's row is locked first (scheduling.places' lock order: people, then
appointments), then the key is looked up: a retry, a double tap or a replay finds the dose
its first sending recorded and changes nothing (no second dose, no second use of the lot),
whatever the concurrency. The unique key in the database is the last guard.
"""
from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session, joinedload

from cowin_kit.accounts.models import StaffUser
from cowin_kit.accounts.service import actor, audit
from cowin_kit.db import begin_write
from cowin_kit.notifications import texts
from cowin_kit.plugins.interfaces import N_
from cowin_kit.programmes import eligibility
from cowin_kit.programmes.models import Product
from cowin_kit.registration.models import Beneficiary
from cowin_kit.scheduling import places
from cowin_kit.scheduling.models import Appointment, AppointmentStatus, VaccinationSession
from cowin_kit.vaccination.centre import (
    MSG_NO_APPOINTMENT,
    SITE_CODES,
    CentreError,
    NotFoundHere,
    check_facility,
)
from cowin_kit.vaccination.lots import take_dose
from cowin_kit.vaccination.models import Dose
from cowin_kit.vaccination.service import (
    MSG_ALREADY_RECORDED,
    DoseConflict,
    DoseDetails,
    record_dose,
)

# A phone's clock may run a little ahead of the server's.
CLOCK_SKEW = dt.timedelta(minutes=5)
# A dose given offline may reach the server after midnight: its session's day stays open
# this long for doses given on that day.
LATE_SYNC = dt.timedelta(days=1)
MIN_REASON, MAX_REASON = 5, 500
_KEY = re.compile(r"^[A-Za-z0-9-]{8,64}$")


class ScheduleRefused(CentreError):
    """The dose breaks the schedule (too early, another vaccine, not eligible): a supervisor
    may override it with a reason."""


class SupervisorOnly(CentreError):
    status = 403


MSG_FUTURE = N_("The time given cannot be in the future.")
MSG_BEFORE_SESSION = N_("The time given must be on the day of the session (%(date)s).")
MSG_SESSION_OVER = N_("This session was on %(date)s and is over. Record doses only in "
                      "today's sessions.")
MSG_SESSION_LATER = N_("This session is on %(date)s, not today.")
MSG_SESSION_CANCELLED = N_("This session has been cancelled.")
MSG_NOT_ACTIVE = N_("This appointment was cancelled.")
MSG_BAD_SITE = N_("Choose where the dose was given.")
MSG_BAD_LOT = N_("Choose the lot the dose came from.")
MSG_BAD_KEY = N_("This recording could not be identified. Reload the page and record the "
                 "dose again.")
MSG_KEY_REUSED = N_("This recording was already used for another person. Reload the page "
                    "and record the dose again.")
MSG_COMPLETE = N_("%(name)s has had every dose of this vaccine's schedule.")
MSG_SUPERVISOR = N_("Only a supervisor can record a dose outside the schedule.")
MSG_REASON = N_("Give the reason for the override (%(min)s to %(max)s characters).")


@dataclass(frozen=True)
class DoseRequest:
    """What the vaccinator sends. ``given_at`` is the moment tapped (aware; None: now)."""

    appointment_id: str
    lot_id: object
    site: object
    idempotency_key: object
    given_at: dt.datetime | None = None
    override_reason: str | None = None


@dataclass(frozen=True)
class Recorded:
    dose: Dose
    replay: bool  # recorded earlier (the same key, or this appointment's dose)
    overridden: bool = False


def _check_request(req: DoseRequest) -> tuple[str, int, str, str | None]:
    key = req.idempotency_key
    if not isinstance(key, str) or not _KEY.match(key):
        raise CentreError(MSG_BAD_KEY, "idempotency_key")
    if req.site not in SITE_CODES:
        raise CentreError(MSG_BAD_SITE, "site")
    lot = req.lot_id
    if isinstance(lot, str) and lot.isascii() and lot.isdigit() and len(lot) < 10:
        lot = int(lot)
    if not isinstance(lot, int) or isinstance(lot, bool) or not 1 <= lot < 2**31:
        raise CentreError(MSG_BAD_LOT, "lot")
    reason = req.override_reason.strip() if isinstance(req.override_reason, str) else None
    return key, lot, req.site, reason or None


# The appointment with its session and facility: one round trip.
_APPOINTMENT = (select(Appointment)
                .where(Appointment.id == bindparam("appointment_id"))
                .options(joinedload(Appointment.session)
                         .joinedload(VaccinationSession.facility)))


def _load(session: Session, appointment_id) -> Appointment:
    try:
        appointment_id = str(uuid.UUID(str(appointment_id)))
    except ValueError:
        raise NotFoundHere(MSG_NO_APPOINTMENT, "appointment_id") from None
    appt = session.scalar(_APPOINTMENT, {"appointment_id": appointment_id})
    if appt is None:
        raise NotFoundHere(MSG_NO_APPOINTMENT, "appointment_id")
    return appt


def _check_day(session_day: dt.date, given_at: dt.datetime, now: dt.datetime,
               zone: ZoneInfo) -> dt.date:
    """The local day the dose was given, checked against the session's day and now."""
    if given_at > now + CLOCK_SKEW:
        raise CentreError(MSG_FUTURE, "given_at")
    given_on = given_at.astimezone(zone).date()
    today = now.astimezone(zone).date()
    if session_day > today:
        raise CentreError(MSG_SESSION_LATER, "session_id", date=session_day.isoformat())
    if session_day < today and not (given_on == session_day
                                    and session_day >= (now - LATE_SYNC).astimezone(zone).date()):
        raise CentreError(MSG_SESSION_OVER, "session_id", date=session_day.isoformat())
    if given_on != session_day:
        raise CentreError(MSG_BEFORE_SESSION, "given_at", date=session_day.isoformat())
    return given_on


def record_at_centre(session: Session, user: StaffUser, area: list[int] | None,
                     req: DoseRequest, *, now: dt.datetime, timezone: str,
                     may_supervise: bool, certificate_url: str = "",
                     certificates=None, zone_of=None) -> Recorded:
    """Record the dose of an appointment at the user's facility (see the module's notes).
    ``certificates`` (a cowin_kit.certificates.issuing.IssuingContext): issue the person's
    next certificate in the same transaction (a replay issues none). ``zone_of`` (division id
    -> IANA zone): the centre's own time zone, for "today's session"; None: ``timezone``.

    Refusals: NotFoundHere, NotYourFacility (403), CentreError (the session is over or
    cancelled, the time, the site, the key), LotError (unknown, expired, used-up lot),
    ScheduleRefused (a supervisor may override with a reason), SupervisorOnly (403),
    DoseConflict (409: the person has this dose already, recorded elsewhere)."""
    key, lot_id, site, reason = _check_request(req)
    begin_write(session)
    appt = _load(session, req.appointment_id)
    vs = appt.session
    check_facility(user, area, vs.facility)
    places.lock_people(session, [appt.beneficiary_id])
    appt = places.lock_appointments(session, [appt.id])[0]
    done = session.scalar(select(Dose).where(Dose.idempotency_key == key))
    if done is not None:
        if done.appointment_id != appt.id:
            raise CentreError(MSG_KEY_REUSED, "idempotency_key")
        return Recorded(done, replay=True)
    if appt.status == AppointmentStatus.DONE:
        done = session.scalar(select(Dose).where(Dose.appointment_id == appt.id))
        if done is not None:  # recorded from another form: the same dose, not a second
            return Recorded(done, replay=True)
    if appt.status == AppointmentStatus.CANCELLED:
        raise CentreError(MSG_NOT_ACTIVE, "appointment_id")
    if vs.cancelled_at is not None:
        raise CentreError(MSG_SESSION_CANCELLED, "session_id")
    zone = ZoneInfo(zone_of(vs.facility.division_id) if zone_of else timezone)
    given_at = (req.given_at or now).astimezone(dt.UTC)
    given_on = _check_day(vs.date, given_at, now, zone)

    product = session.get(Product, vs.product_id)
    person = session.get(Beneficiary, appt.beneficiary_id)
    status = eligibility.vaccination_status(session, person.id, product.programme_id, given_on)
    if appt.dose_number <= status.doses_given:  # given meanwhile, somewhere else
        given = next((d for d in status.doses if d.number == appt.dose_number),
                     status.doses[-1])
        raise DoseConflict(MSG_ALREADY_RECORDED, "dose", dose=given.number,
                           vaccine=given.product_name, date=given.given_on.isoformat())
    if status.next_dose is None:
        raise ScheduleRefused(MSG_COMPLETE, "dose", name=person.name)
    dose_number = status.next_dose
    overridden = _check_schedule(session, person, product, dose_number, given_on, vs,
                                 reason, may_supervise)

    details = DoseDetails(idempotency_key=key, lot_id=lot_id, site=site, given_at=given_at,
                          vaccinator_id=user.id,
                          override_reason=reason if overridden else None,
                          overridden_by=user.id if overridden else None)
    with session.begin_nested():
        take_dose(session, lot_id, facility_id=vs.facility_id, product_id=product.id,
                  on=given_on, vaccine=product.name)
        dose = record_dose(session, beneficiary_id=person.id, product=product,
                           dose_number=dose_number, given_on=given_on,
                           facility_id=vs.facility_id, appointment_id=appt.id,
                           details=details, certificates=certificates,
                           source=str(appt.source or "none"))
        if dose.appointment_id != appt.id:  # the key, sent concurrently for someone else
            raise CentreError(MSG_KEY_REUSED, "idempotency_key")
    session.execute(
        update(Appointment)
        .where(Appointment.id == appt.id,
               Appointment.status.in_([AppointmentStatus.BOOKED, AppointmentStatus.MISSED]))
        .values(status=AppointmentStatus.DONE, arrived_at=appt.arrived_at or given_at)
        .execution_options(synchronize_session=False))
    appointment_id = appt.id
    session.expire(appt)
    division = vs.facility.division_id
    audit(session, actor(user), "dose.recorded", f"dose:{dose.id}", division_id=division,
          appointment=appointment_id, dose=dose_number, lot=lot_id)
    if overridden:
        audit(session, actor(user), "dose.override", f"dose:{dose.id}", division_id=division,
              appointment=appointment_id, dose=dose_number)
    texts.notify_person(session, person, kind="dose.recorded", msgid=texts.DOSE_RECORDED,
                        params={"name": person.name, "dose": dose_number,
                                "vaccine": product.name, "date": given_on.isoformat(),
                                "centre": vs.facility.name, "url": certificate_url},
                        dedupe_key=f"dose.recorded:{dose.id}")
    session.flush()
    return Recorded(dose, replay=False, overridden=overridden)


def _check_schedule(session: Session, person: Beneficiary, product: Product, dose: int,
                    on: dt.date, vs, reason: str | None, may_supervise: bool) -> bool:
    """Whether the dose needs the override given (True), or fits the schedule (False)."""
    try:
        eligibility.check_may_take(session, person, product, dose, on, min_age=vs.min_age,
                                   max_age=vs.max_age)
    except eligibility.NotEligible as exc:
        if exc.msgid == eligibility.MSG_NO_SUCH_DOSE:  # no rule to give it by: never
            raise ScheduleRefused(exc.msgid, "dose", **exc.params) from None
        if reason is None:
            raise ScheduleRefused(exc.msgid, "override_reason", **exc.params) from None
        if not may_supervise:
            raise SupervisorOnly(MSG_SUPERVISOR, "override_reason") from None
        if not MIN_REASON <= len(reason) <= MAX_REASON:
            raise CentreError(MSG_REASON, "override_reason", min=MIN_REASON,
                              max=MAX_REASON) from None
        return True
    return False


__all__ = ["CLOCK_SKEW", "LATE_SYNC", "DoseRequest", "Recorded", "ScheduleRefused",
           "SupervisorOnly", "record_at_centre"]
