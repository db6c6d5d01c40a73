"""A vaccinator's day at a centre: today's sessions and their queue, finding a person, and
marking them arrived. Recording the dose is :mod:`cowin_kit.vaccination.recording`; the
no-shows at the end of the day :mod:`cowin_kit.vaccination.noshows`.

Flask-free. Every function is given the staff user and checks that what is touched is at
the user's facility (a vaccinator, a facility manager) or in the user's area (an
administrator choosing a facility): else :class:`NotYourFacility` (403), which the pages
answer with 403 and an audit entry.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from cowin_kit.accounts.models import CitizenAccount, StaffUser
from cowin_kit.accounts.roles import is_facility_role
from cowin_kit.accounts.service import actor, audit, in_area
from cowin_kit.db import utcnow
from cowin_kit.errors import UserError
from cowin_kit.plugins.builtin.ids.base import ascii_digits
from cowin_kit.plugins.interfaces import N_, InvalidIdNumber
from cowin_kit.programmes import eligibility
from cowin_kit.programmes.models import Product
from cowin_kit.registration import ids
from cowin_kit.registration.models import Beneficiary, IdDocumentType
from cowin_kit.scheduling.models import (
    Appointment,
    AppointmentStatus,
    Facility,
    VaccinationSession,
)
from cowin_kit.vaccination.lots import usable_lots

# The sites of an injection a vaccinator chooses from (stored code, label).
SITES = (("left_arm", N_("Left upper arm")), ("right_arm", N_("Right upper arm")),
         ("left_thigh", N_("Left thigh")), ("right_thigh", N_("Right thigh")))
SITE_CODES = tuple(code for code, _label in SITES)


class CentreError(UserError):
    """A refused step of the vaccinator's workflow (cowin_kit.errors; 400)."""


class NotYourFacility(CentreError):
    """The appointment, session or facility is not the user's (403, audited by the page)."""

    status = 403


class NotFoundHere(CentreError):
    status = 404


MSG_NOT_YOURS = N_("This appointment is at another centre. You can only see and vaccinate "
                   "people at your own centre.")
MSG_NO_APPOINTMENT = N_("This appointment does not exist.")
MSG_BAD_CODE = N_("The secret code is not right for this appointment. Ask the person to "
                  "read it again from their appointment slip or SMS.")
MSG_NO_MATCH = N_("Nobody has an appointment here today with reference %(reference)s.")
MSG_CODE_FORMAT = N_("The secret code has 4 digits.")
MSG_REFERENCE_FORMAT = N_("The reference has 14 digits.")
MSG_CHOOSE_FACILITY = N_("Choose a centre.")


# --- whose facility -----------------------------------------------------------------------------

def check_facility(user: StaffUser, area: list[int] | None, facility: Facility) -> None:
    """NotYourFacility unless ``facility`` is the user's (a facility role) or in the user's
    area (an administrator)."""
    if is_facility_role(user.role) or user.facility_id is not None:
        if user.facility_id != facility.id:
            raise NotYourFacility(MSG_NOT_YOURS, None)
    elif not in_area(area, facility.division_id):
        raise NotYourFacility(MSG_NOT_YOURS, None)


def working_facility(session: Session, user: StaffUser, area: list[int] | None,
                     chosen: int | None) -> Facility | None:
    """The facility the user works at today: their own, else (an administrator) the one
    ``chosen`` in their area; None when an administrator has not chosen yet."""
    if user.facility_id is not None:
        wanted = user.facility_id if chosen in (None, user.facility_id) else chosen
    elif is_facility_role(user.role):
        raise NotYourFacility(MSG_NOT_YOURS, None)  # a vaccinator set up without a centre
    elif chosen is None:
        return None
    else:
        wanted = chosen
    facility = session.get(Facility, wanted)
    if facility is None:
        raise NotFoundHere(MSG_CHOOSE_FACILITY, "facility")
    check_facility(user, area, facility)
    return facility


def facilities_with_sessions(session: Session, area: list[int] | None, day: dt.date,
                             limit: int = 100) -> list[Facility]:
    """An administrator's choice: the centres of the area with a session on ``day``."""
    query = (select(Facility)
             .where(Facility.id.in_(select(VaccinationSession.facility_id)
                                    .where(VaccinationSession.date == day)))
             .order_by(Facility.name, Facility.id).limit(limit))
    if area is not None:
        query = query.where(Facility.division_id.in_(area))
    return list(session.scalars(query))


# --- the queue -------------------------------------------------------------------------------

def code_check(appointment_id: str, code: str) -> str:
    """What the offline page compares a typed secret code with: the codes themselves are
    not stored on the phone (SHA-256 of the appointment id and the code)."""
    return hashlib.sha256(f"{appointment_id}:{code}".encode()).hexdigest()


def queue_status(appt: Appointment) -> str:
    """booked, arrived, done or missed (cancelled appointments are not in a queue)."""
    if appt.status == AppointmentStatus.BOOKED:
        return "arrived" if appt.arrived_at is not None else "booked"
    return appt.status


@dataclass(frozen=True)
class Person:
    """Who the vaccinator checks: name, birth year, ID type and masked number."""

    id: int
    reference_id: str
    name: str
    birth_year: int
    id_type: str
    id_masked: str

    @classmethod
    def of(cls, person: Beneficiary) -> Person:
        return cls(person.id, person.reference_id, person.name, person.birth_year,
                   person.id_document_type.name, person.id_number_masked)


@dataclass(frozen=True)
class QueueEntry:
    appointment_id: str
    person: Person
    dose_number: int  # booked for
    next_dose: int | None  # what the eligibility rules say the person's next dose is
    status: str  # queue_status
    slot: str
    source: str
    arrived_at: dt.datetime | None
    code_check: str


@dataclass(frozen=True)
class LotChoice:
    id: int
    lot_number: str
    expires_on: dt.date
    doses_left: int


@dataclass
class SessionQueue:
    id: str
    date: dt.date
    product_id: int
    product_name: str
    cancelled: bool
    entries: list[QueueEntry] = field(default_factory=list)
    lots: list[LotChoice] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        counts = {"booked": 0, "arrived": 0, "done": 0, "missed": 0}
        for entry in self.entries:
            counts[entry.status] = counts.get(entry.status, 0) + 1
        return counts


def _next_doses(session: Session, people: list[int], programme_id: int,
                day: dt.date) -> dict[int, int | None]:
    """Each person's next dose of the programme (the eligibility rules): one query."""
    found = eligibility.statuses(session, people, day)
    out = {}
    for pid in people:
        status = next((s for s in found.get(pid, []) if s.programme_id == programme_id), None)
        out[pid] = 1 if status is None else status.next_dose
    return out


def today_queue(session: Session, facility: Facility, day: dt.date) -> list[SessionQueue]:
    """The facility's sessions on ``day``, each with its queue (slot order, then name) and
    the lots of its vaccine that may be used."""
    sessions = list(session.scalars(
        select(VaccinationSession).where(VaccinationSession.facility_id == facility.id,
                                         VaccinationSession.date == day)
        .order_by(VaccinationSession.created_at)))
    if not sessions:
        return []
    products = {p.id: p for p in session.scalars(select(Product).where(
        Product.id.in_({vs.product_id for vs in sessions})))}
    appts = list(session.scalars(
        select(Appointment).where(Appointment.session_id.in_([vs.id for vs in sessions]),
                                  Appointment.status != AppointmentStatus.CANCELLED)
        .options(joinedload(Appointment.slot))))
    people = {p.id: p for p in session.scalars(
        select(Beneficiary).where(Beneficiary.id.in_({a.beneficiary_id for a in appts}))
        .options(joinedload(Beneficiary.id_document_type)))} if appts else {}
    out = []
    for vs in sessions:
        product = products[vs.product_id]
        mine = [a for a in appts if a.session_id == vs.id]
        nexts = _next_doses(session, [a.beneficiary_id for a in mine], product.programme_id,
                            day) if mine else {}
        entries = sorted(
            (QueueEntry(a.id, Person.of(people[a.beneficiary_id]), a.dose_number,
                        nexts.get(a.beneficiary_id), queue_status(a),
                        f"{a.slot.starts:%H:%M}-{a.slot.ends:%H:%M}", a.source, a.arrived_at,
                        code_check(a.id, a.secret_code))
             for a in mine),
            key=lambda e: (e.slot, e.person.name.casefold()))
        lots = [LotChoice(lot.id, lot.lot_number, lot.expires_on,
                          lot.doses_received - lot.doses_used)
                for lot in usable_lots(session, facility.id, product.id, day)]
        out.append(SessionQueue(vs.id, vs.date, product.id, product.name,
                                vs.cancelled_at is not None, entries, lots))
    return out


# --- one appointment -------------------------------------------------------------------------

@dataclass(frozen=True)
class AppointmentView:
    """An appointment as the record page shows it."""

    appointment: Appointment
    session: VaccinationSession
    facility: Facility
    product: Product
    person: Person
    status: str
    next_dose: int | None
    lots: list[LotChoice]
    dose_id: int | None  # the dose recorded at this appointment, when done


def appointment_at(session: Session, user: StaffUser, area: list[int] | None,
                   appointment_id: str, day: dt.date) -> AppointmentView:
    """One appointment at the user's facility, with what recording its dose needs."""
    from cowin_kit.vaccination.models import Dose

    appt = session.get(Appointment, str(appointment_id))
    if appt is None:
        raise NotFoundHere(MSG_NO_APPOINTMENT, "appointment_id")
    vs = appt.session
    check_facility(user, area, vs.facility)
    product = session.get(Product, vs.product_id)
    person = session.get(Beneficiary, appt.beneficiary_id)
    nexts = _next_doses(session, [person.id], product.programme_id, day)
    lots = [LotChoice(lot.id, lot.lot_number, lot.expires_on, lot.doses_received - lot.doses_used)
            for lot in usable_lots(session, vs.facility_id, product.id, day)]
    dose_id = session.scalar(select(Dose.id).where(Dose.appointment_id == appt.id))
    return AppointmentView(appt, vs, vs.facility, product, Person.of(person),
                           queue_status(appt), nexts[person.id], lots, dose_id)


def mark_arrived(session: Session, user: StaffUser, area: list[int] | None,
                 appointment_id: str, day: dt.date) -> Appointment:
    """Note that the person is here (once; a second tap changes nothing)."""
    appt = session.get(Appointment, str(appointment_id))
    if appt is None:
        raise NotFoundHere(MSG_NO_APPOINTMENT, "appointment_id")
    check_facility(user, area, appt.session.facility)
    if appt.session.date != day:
        raise CentreError(N_("This appointment is not today."), None)
    if appt.status == AppointmentStatus.BOOKED and appt.arrived_at is None:
        appt.arrived_at = utcnow()
        audit(session, actor(user), "appointment.arrived", f"appointment:{appt.id}",
              division_id=appt.session.facility.division_id)
        session.flush()
    return appt


# --- finding a person -----------------------------------------------------------------------

@dataclass(frozen=True)
class Found:
    """A person found, with their appointment here today (None: none here today)."""

    person: Person
    appointment_id: str | None
    status: str | None


def _today_here(session: Session, facility: Facility, day: dt.date, person_ids) -> dict:
    rows = session.execute(
        select(Appointment).join(VaccinationSession,
                                 VaccinationSession.id == Appointment.session_id)
        .where(Appointment.beneficiary_id.in_(list(person_ids)),
               VaccinationSession.facility_id == facility.id,
               VaccinationSession.date == day,
               Appointment.status != AppointmentStatus.CANCELLED)
        .order_by(Appointment.created_at)).scalars()
    return {a.beneficiary_id: a for a in rows}


def find_by_code(session: Session, facility: Facility, day: dt.date, reference: str,
                 code: str) -> Found:
    """The appointment here today of the person with this reference, if the secret code
    is its code (both are needed: the code alone is only 4 digits)."""
    reference = ascii_digits(reference or "").replace(" ", "").strip()
    code = ascii_digits(code or "").strip()
    if not (len(reference) == 14 and reference.isdigit()):
        raise CentreError(MSG_REFERENCE_FORMAT, "reference")
    if not (len(code) == 4 and code.isdigit()):
        raise CentreError(MSG_CODE_FORMAT, "code")
    person = session.scalar(select(Beneficiary).where(Beneficiary.reference_id == reference))
    appt = _today_here(session, facility, day, [person.id]).get(person.id) if person else None
    if appt is None:
        raise NotFoundHere(MSG_NO_MATCH, "reference", reference=reference)
    if appt.secret_code != code:
        raise CentreError(MSG_BAD_CODE, "code")
    return Found(Person.of(person), appt.id, queue_status(appt))


def find_by_id_number(session: Session, user: StaffUser, facility: Facility, day: dt.date, *,
                      providers: dict, hash_key: str, document_code: str,
                      number: str) -> list[Found]:
    """The registered person with this ID (any person: one without an appointment here
    may be handled as a walk-in). Audited, without the number."""
    doc = session.scalar(select(IdDocumentType).where(IdDocumentType.code == document_code,
                                                      IdDocumentType.is_active.is_(True)))
    provider = providers.get(document_code)
    if doc is None or provider is None:
        raise CentreError(N_("This ID document type is not accepted here."), "id_type")
    try:
        canonical = ids.check_id(provider, number or "")
    except InvalidIdNumber as exc:
        raise CentreError(exc.msgid, "id_number", **exc.params) from None
    person = session.scalar(select(Beneficiary).where(
        Beneficiary.id_number_hash == ids.lookup_hash(hash_key, doc.code, canonical)))
    found = _found(session, facility, day, [person] if person else [])
    audit(session, actor(user), "person.looked_up",
          f"beneficiary:{person.id}" if person else None, division_id=facility.division_id,
          by="id_number", document=doc.code, found=len(found))
    return found


def find_by_mobile(session: Session, user: StaffUser, facility: Facility, day: dt.date, *,
                   region: str | None, mobile: str) -> list[Found]:
    """The people registered under this mobile number (the account's members). Audited,
    without the number."""
    from cowin_kit.accounts.otp import InvalidMobile, normalize_mobile

    try:
        e164 = normalize_mobile(mobile or "", region)
    except InvalidMobile as exc:
        raise CentreError(exc.msgid, "mobile", **exc.params) from None
    account = session.scalar(select(CitizenAccount.id).where(CitizenAccount.mobile == e164))
    people = list(session.scalars(select(Beneficiary).where(Beneficiary.account_id == account)
                                  .order_by(Beneficiary.id))) if account else []
    found = _found(session, facility, day, people)
    audit(session, actor(user), "person.looked_up", f"account:{account}" if account else None,
          division_id=facility.division_id, by="mobile", found=len(found))
    return found


def _found(session: Session, facility: Facility, day: dt.date,
           people: list[Beneficiary]) -> list[Found]:
    here = _today_here(session, facility, day, [p.id for p in people]) if people else {}
    out = []
    for p in people:
        appt = here.get(p.id)
        out.append(Found(Person.of(p), appt.id if appt else None,
                         queue_status(appt) if appt else None))
    return out


__all__ = ["SITES", "SITE_CODES", "AppointmentView", "CentreError", "Found", "LotChoice",
           "NotFoundHere", "NotYourFacility", "Person", "QueueEntry", "SessionQueue",
           "appointment_at", "check_facility", "code_check", "facilities_with_sessions",
           "find_by_code", "find_by_id_number", "find_by_mobile", "mark_arrived",
           "queue_status", "today_queue", "working_facility"]
