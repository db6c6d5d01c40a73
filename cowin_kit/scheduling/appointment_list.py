"""The appointments of an administrator's area, for the staff list: searched by the
beneficiary's reference ID, filtered by day, centre and status, a page at a time. Rows are
plain values; the ID number is only ever the stored masked form.

Every filter is an indexed column (beneficiary.reference_id unique, vaccination_session.date,
facility.code unique, facility.division_id), so a district's list is cheap however many
centres and appointments it has."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cowin_kit.registration.models import Beneficiary
from cowin_kit.scheduling.models import Appointment, Facility, Slot, VaccinationSession


@dataclass(frozen=True)
class AppointmentFilter:
    reference: str = ""
    date: dt.date | None = None
    centre_code: str = ""
    status: str = ""


@dataclass(frozen=True)
class AppointmentRow:
    id: str
    date: dt.date
    starts: dt.time
    ends: dt.time
    centre_code: str
    centre_name: str
    reference_id: str
    name: str
    id_masked: str
    dose_number: int
    status: str
    source: str


def _query(columns, area: list[int] | None, f: AppointmentFilter):
    query = (select(*columns).select_from(Appointment)
             .join(VaccinationSession, VaccinationSession.id == Appointment.session_id)
             .join(Facility, Facility.id == VaccinationSession.facility_id)
             .join(Beneficiary, Beneficiary.id == Appointment.beneficiary_id))
    if area is not None:
        query = query.where(Facility.division_id.in_(area))
    if f.reference:
        query = query.where(Beneficiary.reference_id == f.reference.strip())
    if f.date is not None:
        query = query.where(VaccinationSession.date == f.date)
    if f.centre_code:
        query = query.where(Facility.code == f.centre_code.strip())
    if f.status:
        query = query.where(Appointment.status == f.status)
    return query


def count_appointments(session: Session, area: list[int] | None, f: AppointmentFilter) -> int:
    return session.scalar(_query([func.count(Appointment.id)], area, f)) or 0


def appointments(session: Session, area: list[int] | None, f: AppointmentFilter, *,
                 offset: int = 0, limit: int = 20) -> list[AppointmentRow]:
    """Newest day first, then by slot and centre."""
    query = (_query([Appointment.id, VaccinationSession.date, Slot.starts, Slot.ends,
                     Facility.code, Facility.name, Beneficiary.reference_id, Beneficiary.name,
                     Beneficiary.id_number_masked, Appointment.dose_number, Appointment.status,
                     Appointment.source], area, f)
             .join(Slot, Slot.id == Appointment.slot_id)
             .order_by(VaccinationSession.date.desc(), Slot.starts, Facility.code,
                       Appointment.id)
             .offset(offset).limit(limit))
    return [AppointmentRow(*row) for row in session.execute(query)]
