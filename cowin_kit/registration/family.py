"""A family: an account's members with their doses and their active appointments, as plain
values. One query for every caller (the portal's pages, the API's beneficiaries), so the two
cannot show different families. No Flask here."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from cowin_kit.programmes import eligibility
from cowin_kit.programmes.eligibility import VaccinationStatus
from cowin_kit.programmes.models import Product
from cowin_kit.registration.choices import local_name
from cowin_kit.registration.models import Beneficiary
from cowin_kit.scheduling.models import Appointment, AppointmentStatus, VaccinationSession
from cowin_kit.scheduling.search import centre_fields


@dataclass
class FamilyAppointment:
    id: str
    date: dt.date
    starts: dt.time
    ends: dt.time
    dose: int
    vaccine: str
    centre: str  # the centre's name in the reader's language
    address: str
    district: str  # in the reader's language
    secret_code: str
    reschedule_count: int
    session_id: str
    past: bool
    # The centre as the API's search shows it (cowin_kit.scheduling.search.centre_fields).
    centre_fields: dict = field(default_factory=dict)


@dataclass
class Member:
    reference_id: str
    name: str
    birth_year: int
    birth_date: dt.date | None
    gender: str
    id_type: str  # the ID document's name in the reader's language
    id_type_name: str  # its name as registered (the default language's)
    id_masked: str
    verification: str
    priority_groups: list[str]
    # The person's place in each programme they have a dose of (cowin_kit.programmes.eligibility).
    statuses: list[VaccinationStatus] = field(default_factory=list)
    appointment: FamilyAppointment | None = None

    @property
    def doses(self) -> list[tuple[int, dt.date, str]]:
        """(number, date, vaccine) of every dose, programme by programme."""
        return [(d.number, d.given_on, d.product_name) for s in self.statuses for d in s.doses]

    @property
    def next_dose(self) -> int:
        """The next dose of the programme the person started first (dose 1 when none was
        started; the booking page asks the session's programme itself)."""
        started = self.statuses[0] if self.statuses else None
        if started is None:
            return 1
        return started.next_dose or started.doses_given + 1

    @property
    def bookable(self) -> bool:
        """No appointment to keep: none, or one in the past (missed; booking closes it)."""
        return self.appointment is None or self.appointment.past

    @property
    def can_change(self) -> bool:
        """Edit and delete only while no dose is recorded (the services enforce it too)."""
        return not self.doses


def family(session: Session, account_id: int, lang: str, today: dt.date,
           default_language: str | None = None) -> list[Member]:
    """The account's members, oldest registration first, each with their doses and their
    active appointment (names in ``lang``; ``default_language`` is the one the registered
    names are in). A few queries, whatever the family size."""
    people = session.scalars(
        select(Beneficiary).where(Beneficiary.account_id == account_id)
        .options(selectinload(Beneficiary.id_document_type))
        .order_by(Beneficiary.id)).all()
    ids = [p.id for p in people]
    statuses = eligibility.statuses(session, ids, today)
    appointments = {}  # one active appointment per person (a unique index says so)
    for a in session.scalars(
            select(Appointment).where(Appointment.beneficiary_id.in_(ids),
                                      Appointment.status == AppointmentStatus.BOOKED)
            .options(selectinload(Appointment.slot),
                     selectinload(Appointment.session).selectinload(VaccinationSession.facility))):
        vs = a.session
        fields = centre_fields(vs.facility, lang)
        appointments[a.beneficiary_id] = FamilyAppointment(
            id=a.id, date=vs.date, starts=a.slot.starts, ends=a.slot.ends, dose=a.dose_number,
            vaccine=session.get(Product, vs.product_id).name,
            centre=fields["name_l"], address=fields["address"],
            district=fields["district_name_l"], secret_code=a.secret_code,
            reschedule_count=a.reschedule_count, session_id=vs.id, past=vs.date < today,
            centre_fields=fields)
    out = []
    for p in people:
        doc = p.id_document_type
        out.append(Member(
            reference_id=p.reference_id, name=p.name, birth_year=p.birth_year,
            birth_date=p.birth_date, gender=p.gender,
            id_type=local_name(doc.name, doc.names, lang, default_language),
            id_type_name=doc.name, id_masked=p.id_number_masked,
            verification=p.id_verification_status, priority_groups=list(p.priority_groups or []),
            statuses=statuses.get(p.id, []), appointment=appointments.get(p.id)))
    return out
