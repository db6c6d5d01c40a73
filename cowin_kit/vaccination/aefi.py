"""Adverse events following immunisation (AEFI): reporting one, following it up, listing and
exporting an area's.

Flask-free. Reported by staff at the centre (a dose of the person at their facility, or in
an administrator's area), by the person's account on the portal or through the API (its
own members only; the views check that), always about one of the person's doses (the
latest unless another is chosen). A report belongs to the division of the facility that
gave the dose: its district officials (Can.FOLLOW_UP_AEFI) see it, follow it up with
notes, a status and WHO's causality category, and export their area's reports without
names or ID numbers. Every step is audited. Flushed, never committed: the caller commits.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, selectinload

from cowin_kit.accounts.models import StaffUser
from cowin_kit.accounts.service import audit, in_area
from cowin_kit.errors import UserError
from cowin_kit.geography.models import Division
from cowin_kit.plugins.interfaces import N_
from cowin_kit.programmes.models import Product
from cowin_kit.registration.choices import local_name
from cowin_kit.registration.models import Beneficiary
from cowin_kit.scheduling.models import Facility
from cowin_kit.vaccination.aefi_models import AefiFollowUp, AefiReport
from cowin_kit.vaccination.aefi_terms import (
    SYMPTOM_NAMES,
    AefiStatus,
    Causality,
    Outcome,
    ReporterKind,
    SeriousCriterion,
    Seriousness,
)
from cowin_kit.vaccination.models import Dose, VaccineLot

MAX_TEXT = 2000  # a description, a note


class AefiError(UserError):
    """A report or follow-up that cannot be recorded as given (400)."""


class AefiNotFound(AefiError):
    status = 404


class AefiForbidden(AefiError):
    """Outside the user's facility or area (403; the staff views audit it)."""

    status = 403


MSG_NOT_FOUND = N_("This report does not exist.")
MSG_NO_PERSON = N_("This person is not registered.")
MSG_NO_DOSE = N_("%(name)s has no recorded dose: a side effect is reported after a "
                 "vaccination.")
MSG_OUTSIDE = N_("This person has no dose recorded at your centre or in your area.")
MSG_REPORT_OUTSIDE = N_("This report is not in your area.")
MSG_CHOOSE_DOSE = N_("Choose one of the doses recorded for this person.")
MSG_CHOOSE_SYMPTOM = N_("Choose at least one symptom.")
MSG_UNKNOWN_SYMPTOM = N_("%(code)s is not a symptom on this list.")
MSG_DESCRIBE_OTHER = N_("Describe the other symptom.")
MSG_SERIOUSNESS = N_("Choose how serious it was.")
MSG_CRITERIA = N_("Say what made it serious.")
MSG_NOT_SERIOUS = N_("Only a serious event has these: choose Serious, or untick them.")
MSG_DEATH = N_("A death is a serious event: choose Serious and tick Death.")
MSG_OUTCOME = N_("Choose the outcome.")
MSG_ONSET = N_("Enter the day it started.")
MSG_BEFORE_DOSE = N_("It cannot have started before the dose of %(date)s.")
MSG_FUTURE = N_("It cannot have started in the future.")
MSG_TOO_LONG = N_("Write at most %(max)s characters.")
MSG_STATUS = N_("Choose a status.")
MSG_NOTE = N_("Write a note: what was found or done.")
MSG_CAUSALITY = N_("Choose a causality category from the list.")
MSG_CLOSE_SERIOUS = N_("A serious event is closed only with a causality assessment: choose "
                       "its category.")


# --- the profile's symptoms ------------------------------------------------------------------

@dataclass(frozen=True)
class Symptom:
    code: str
    name: str | None  # the profile's, in its first language; None: the kit's (translated)
    names: dict = field(default_factory=dict)

    def label(self, gettext: Callable[[str], str], lang: str, default_language: str) -> str:
        if self.name:
            return local_name(self.name, self.names, lang, default_language)
        return gettext(SYMPTOM_NAMES[self.code])


def profile_symptoms(profile) -> list[Symptom]:
    """The symptoms of the profile's [aefi] table (the kit's list when it has none)."""
    aefi = profile["aefi"] if "aefi" in profile.data else {}
    items = (aefi or {}).get("symptoms") or [{"code": c} for c in SYMPTOM_NAMES]
    return [Symptom(i["code"], i.get("name"), dict(i.get("names") or {})) for i in items]


# --- reporting ---------------------------------------------------------------------------------

@dataclass
class AefiInput:
    """What a report says, as a form or the API gives it (checked by ``report_aefi``)."""

    seriousness: str | None
    symptoms: list[str]
    onset_on: dt.date | None
    outcome: str | None
    onset_time: dt.time | None = None
    serious_criteria: list[str] = field(default_factory=list)
    description: str = ""
    dose_id: int | None = None


def person_doses(session: Session, beneficiary_id: int) -> list[Dose]:
    """The person's doses, oldest first (the last is the default one to report about)."""
    return list(session.scalars(select(Dose).where(Dose.beneficiary_id == beneficiary_id)
                                .options(selectinload(Dose.product), selectinload(Dose.lot))
                                .order_by(Dose.given_on, Dose.id)))


def _facility_divisions(session: Session, doses: list[Dose]) -> dict[int, int]:
    ids = {d.facility_id for d in doses if d.facility_id is not None}
    if not ids:
        return {}
    return dict(session.execute(select(Facility.id, Facility.division_id)
                                .where(Facility.id.in_(ids))).all())


def staff_doses(session: Session, user: StaffUser, area: list[int] | None,
                beneficiary_id: int) -> tuple[Beneficiary, list[Dose]]:
    """The person and the doses a staff user may report about: given at their facility (a
    facility role), or at a facility in their area (None: the whole country).
    AefiNotFound for no such person, AefiForbidden when none of their doses is in scope."""
    person = session.get(Beneficiary, beneficiary_id)
    if person is None:
        raise AefiNotFound(MSG_NO_PERSON, "beneficiary")
    doses = person_doses(session, person.id)
    if user.facility_id is not None:
        doses = [d for d in doses if d.facility_id == user.facility_id]
    elif area is not None:
        divisions = _facility_divisions(session, doses)
        allowed = set(area)
        doses = [d for d in doses if divisions.get(d.facility_id) in allowed]
    if not doses:
        raise AefiForbidden(MSG_OUTSIDE, "beneficiary")
    return person, doses


def _one_of(value, enum, msgid: str, name: str) -> str:
    try:
        return enum(value).value
    except ValueError:
        raise AefiError(msgid, name) from None


def _check_text(text: str | None, name: str) -> str:
    text = (text or "").strip()
    if len(text) > MAX_TEXT:
        raise AefiError(MSG_TOO_LONG, name, max=MAX_TEXT)
    return text


def _check_onset(data: AefiInput, dose: Dose, now: dt.datetime) -> None:
    if not isinstance(data.onset_on, dt.date):
        raise AefiError(MSG_ONSET, "onset")
    day, at = data.onset_on, data.onset_time
    if day > now.date() or (day == now.date() and at is not None and at > now.time()):
        raise AefiError(MSG_FUTURE, "onset")
    given_at = dose.given_at.astimezone(now.tzinfo) if dose.given_at else None
    if day < dose.given_on or (at is not None and given_at is not None
                               and day == given_at.date() and at < given_at.time()):
        raise AefiError(MSG_BEFORE_DOSE, "onset", date=dose.given_on.isoformat())


def _check(data: AefiInput, doses: list[Dose], known: list[str],
           now: dt.datetime) -> tuple[Dose, dict]:
    """The dose reported about and the checked values; AefiError naming the field."""
    dose = doses[-1]
    if data.dose_id is not None:
        dose = next((d for d in doses if d.id == data.dose_id), None)
        if dose is None:
            raise AefiError(MSG_CHOOSE_DOSE, "dose")
    symptoms = list(dict.fromkeys(data.symptoms or []))
    if not symptoms:
        raise AefiError(MSG_CHOOSE_SYMPTOM, "symptoms")
    for code in symptoms:
        if code not in known:
            raise AefiError(MSG_UNKNOWN_SYMPTOM, "symptoms", code=str(code)[:40])
    symptoms.sort(key=known.index)
    description = _check_text(data.description, "description")
    if "other" in symptoms and not description:
        raise AefiError(MSG_DESCRIBE_OTHER, "description")
    seriousness = _one_of(data.seriousness, Seriousness, MSG_SERIOUSNESS, "seriousness")
    criteria = []
    for value in dict.fromkeys(data.serious_criteria or []):
        criteria.append(_one_of(value, SeriousCriterion, MSG_CRITERIA, "serious_criteria"))
    if seriousness == Seriousness.SERIOUS and not criteria:
        raise AefiError(MSG_CRITERIA, "serious_criteria")
    if seriousness != Seriousness.SERIOUS and criteria:
        raise AefiError(MSG_NOT_SERIOUS, "serious_criteria")
    outcome = _one_of(data.outcome, Outcome, MSG_OUTCOME, "outcome")
    if outcome == Outcome.DIED and SeriousCriterion.DEATH not in criteria:
        raise AefiError(MSG_DEATH, "seriousness")
    _check_onset(data, dose, now)
    criteria.sort(key=list(SeriousCriterion).index)
    return dose, dict(seriousness=seriousness, serious_criteria=criteria, symptoms=symptoms,
                      onset_on=data.onset_on, onset_time=data.onset_time, outcome=outcome,
                      description=description)


def report_aefi(session: Session, *, person: Beneficiary, doses: list[Dose], data: AefiInput,
                symptoms: list[Symptom], now: dt.datetime, staff: StaffUser | None = None,
                account_id: int | None = None, channel: str = "") -> AefiReport:
    """Record a report about one of ``doses`` (the person's doses the reporter may report
    about: all of an account's own member's, or those ``staff_doses`` allows). ``now`` is
    the deployment's local time (aware). ``staff``: reported at the centre; else
    ``account_id``: by the person's account (``channel`` "portal" or "api", for the log)."""
    if not doses:
        raise AefiError(MSG_NO_DOSE, "beneficiary", name=person.name)
    dose, values = _check(data, doses, [s.code for s in symptoms], now)
    division_id = None
    if dose.facility_id is not None:
        division_id = session.scalar(select(Facility.division_id)
                                     .where(Facility.id == dose.facility_id))
    kind = ReporterKind.VACCINATOR if staff is not None else ReporterKind.CITIZEN
    report = AefiReport(beneficiary_id=person.id, dose_id=dose.id, reporter_kind=kind.value,
                        reported_by_staff=staff.id if staff is not None else None,
                        reported_by_account=None if staff is not None else account_id,
                        division_id=division_id, status=AefiStatus.REPORTED.value,
                        reported_on=now.date(), **values)
    session.add(report)
    session.flush()
    who = f"staff:{staff.id}" if staff is not None else f"citizen:{account_id}"
    audit(session, who, "aefi.reported", f"aefi_report:{report.id}", division_id=division_id,
          beneficiary=f"beneficiary:{person.id}", seriousness=values["seriousness"],
          reporter=kind.value, channel=channel or ("centre" if staff is not None else ""))
    return report


# --- following up ------------------------------------------------------------------------------

def report_in_area(session: Session, area: list[int] | None, report_id: int) -> AefiReport:
    """A report the user's area holds; AefiNotFound, or AefiForbidden outside the area (a
    report without a division is the national level's)."""
    report = session.get(AefiReport, report_id)
    if report is None:
        raise AefiNotFound(MSG_NOT_FOUND, "report")
    if not in_area(area, report.division_id):
        raise AefiForbidden(MSG_REPORT_OUTSIDE, "report")
    return report


def follow_up(session: Session, user: StaffUser, area: list[int] | None, report_id: int, *,
              status: str | None, note: str | None, causality: str | None = None,
              outcome: str | None = None) -> AefiFollowUp:
    """Add a step to a report in the user's area: its new status, a note, the causality
    category when assessed, the outcome when learnt. A serious event is closed only once
    its causality is assessed; a death learnt later makes the event serious."""
    report = report_in_area(session, area, report_id)
    status = _one_of(status, AefiStatus, MSG_STATUS, "status")
    note = _check_text(note, "note")
    if not note:
        raise AefiError(MSG_NOTE, "note")
    causality = _one_of(causality, Causality, MSG_CAUSALITY, "causality") if causality else None
    outcome = _one_of(outcome, Outcome, MSG_OUTCOME, "outcome") if outcome else None
    if (status == AefiStatus.CLOSED and report.seriousness == Seriousness.SERIOUS
            and not (causality or report.causality)):
        raise AefiError(MSG_CLOSE_SERIOUS, "causality")
    step = AefiFollowUp(report=report, staff_user_id=user.id, status=status, note=note,
                        causality=causality, outcome=outcome)
    session.add(step)
    report.status = status
    if causality:
        report.causality = causality
    if outcome:
        report.outcome = outcome
        if outcome == Outcome.DIED:
            report.seriousness = Seriousness.SERIOUS.value
            report.serious_criteria = sorted(
                {*report.serious_criteria, SeriousCriterion.DEATH.value},
                key=list(SeriousCriterion).index)
    report.updated_at = dt.datetime.now(dt.UTC)
    session.flush()
    audit(session, f"staff:{user.id}", "aefi.followed_up", f"aefi_report:{report.id}",
          division_id=report.division_id, status=status, causality=causality or "",
          outcome=outcome or "")
    return step


# --- the area's list ---------------------------------------------------------------------------

@dataclass
class Filters:
    seriousness: str | None = None
    status: str | None = None
    since: dt.date | None = None  # reported on or after
    until: dt.date | None = None  # reported on or before

    def as_details(self) -> dict:
        return {k: (v.isoformat() if isinstance(v, dt.date) else v)
                for k, v in vars(self).items() if v}


_SERIOUS_FIRST = case({Seriousness.SERIOUS.value: 0, Seriousness.SEVERE.value: 1},
                      value=AefiReport.seriousness, else_=2)


def _where(query, area: list[int] | None, filters: Filters):
    if area is not None:
        query = query.where(AefiReport.division_id.in_(area))
    if filters.seriousness:
        query = query.where(AefiReport.seriousness == filters.seriousness)
    if filters.status:
        query = query.where(AefiReport.status == filters.status)
    if filters.since:
        query = query.where(AefiReport.reported_on >= filters.since)
    if filters.until:
        query = query.where(AefiReport.reported_on <= filters.until)
    return query


def count_reports(session: Session, area: list[int] | None, filters: Filters) -> int:
    return session.scalar(_where(select(func.count()).select_from(AefiReport), area,
                                 filters)) or 0


@dataclass
class ReportRow:
    id: int
    reported_on: dt.date
    onset_on: dt.date
    seriousness: str
    status: str
    causality: str | None
    symptoms: list[str]
    person: str
    product: str
    dose_number: int
    facility: str | None


def list_reports(session: Session, area: list[int] | None, filters: Filters, *,
                 offset: int = 0, limit: int = 20) -> list[ReportRow]:
    """The area's reports, serious first, then the newest."""
    query = _where(select(AefiReport, Beneficiary.name, Dose, Product.name, Facility.name)
                   .join(Beneficiary, Beneficiary.id == AefiReport.beneficiary_id)
                   .join(Dose, Dose.id == AefiReport.dose_id)
                   .join(Product, Product.id == Dose.product_id)
                   .outerjoin(Facility, Facility.id == Dose.facility_id), area, filters)
    query = query.order_by(_SERIOUS_FIRST, AefiReport.reported_on.desc(),
                           AefiReport.id.desc()).offset(offset).limit(limit)
    return [ReportRow(id=r.id, reported_on=r.reported_on, onset_on=r.onset_on,
                      seriousness=r.seriousness, status=r.status, causality=r.causality,
                      symptoms=list(r.symptoms), person=name, product=product,
                      dose_number=dose.dose_number, facility=facility)
            for r, name, dose, product, facility in session.execute(query)]


@dataclass
class StepRow:
    at: dt.datetime
    staff: str
    status: str
    note: str
    causality: str | None
    outcome: str | None


@dataclass
class ReportDetail:
    report: AefiReport
    name: str
    birth_year: int
    gender: str
    id_type: str
    id_masked: str
    reference_id: str
    dose_number: int
    given_on: dt.date
    product: str
    lot: str | None
    facility: str | None
    facility_code: str | None
    division: Division | None
    reporter: str  # the staff user's e-mail, or "" for the person's account
    steps: list[StepRow]


def report_detail(session: Session, area: list[int] | None, report_id: int) -> ReportDetail:
    report = report_in_area(session, area, report_id)
    person = session.get(Beneficiary, report.beneficiary_id)
    dose = report.dose
    facility = session.get(Facility, dose.facility_id) if dose.facility_id else None
    emails = dict(session.execute(select(StaffUser.id, StaffUser.email).where(
        StaffUser.id.in_({s.staff_user_id for s in report.follow_ups}
                         | {report.reported_by_staff or 0}))).all())
    return ReportDetail(
        report=report, name=person.name, birth_year=person.birth_year, gender=person.gender,
        id_type=person.id_document_type.name, id_masked=person.id_number_masked,
        reference_id=person.reference_id, dose_number=dose.dose_number,
        given_on=dose.given_on, product=dose.product.name,
        lot=dose.lot.lot_number if dose.lot else None,
        facility=facility.name if facility else None,
        facility_code=facility.code if facility else None,
        division=session.get(Division, report.division_id) if report.division_id else None,
        reporter=emails.get(report.reported_by_staff, "") if report.reported_by_staff else "",
        steps=[StepRow(at=s.at, staff=emails.get(s.staff_user_id, ""), status=s.status,
                       note=s.note, causality=s.causality, outcome=s.outcome)
               for s in report.follow_ups])


# --- the committee's export --------------------------------------------------------------------

EXPORT_COLUMNS = (
    "report", "person", "age", "gender", "division_code", "division", "facility_code",
    "product", "lot", "dose", "dose_date", "onset_date", "reported_date", "reporter",
    "symptoms", "seriousness", "serious_criteria", "outcome", "status", "causality",
    "follow_ups")


def person_pseudonym(key: bytes, beneficiary_id: int) -> str:
    """A stable code for a person in exports (the same person's reports share it), which
    only this deployment's key links back to them: never the name, the ID number or the
    reference id people are known by."""
    return hmac.new(key, f"aefi-person:{beneficiary_id}".encode(),
                    hashlib.sha256).hexdigest()[:16]


def _age(person: Beneficiary, on: dt.date) -> int:
    if person.birth_date is not None:
        born = person.birth_date
        return on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    return on.year - person.birth_year


def export_rows(session: Session, area: list[int] | None, filters: Filters,
                key: bytes) -> Iterator[list]:
    """The area's reports as the AEFI committee reviews them, pseudonymised: a person code,
    age at the dose, gender and district; no name, no ID number, no reference id. Oldest
    first, streamed."""
    query = _where(select(AefiReport, Beneficiary, Dose, Product.name, VaccineLot.lot_number,
                          Facility, Division)
                   .join(Beneficiary, Beneficiary.id == AefiReport.beneficiary_id)
                   .join(Dose, Dose.id == AefiReport.dose_id)
                   .join(Product, Product.id == Dose.product_id)
                   .outerjoin(VaccineLot, VaccineLot.id == Dose.lot_id)
                   .outerjoin(Facility, Facility.id == Dose.facility_id)
                   .outerjoin(Division, Division.id == AefiReport.division_id),
                   area, filters).order_by(AefiReport.id)
    steps = dict(session.execute(select(AefiFollowUp.report_id, func.count())
                                 .group_by(AefiFollowUp.report_id)).all())
    for r, person, dose, product, lot, facility, division in session.execute(query):
        yield [r.id, person_pseudonym(key, person.id), _age(person, dose.given_on),
               person.gender, division.code if division else "",
               division.name if division else "", facility.code if facility else "",
               product, lot or "", dose.dose_number,
               dose.given_on.isoformat(), r.onset_on.isoformat(), r.reported_on.isoformat(),
               r.reporter_kind, ";".join(r.symptoms), r.seriousness,
               ";".join(r.serious_criteria), r.outcome, r.status, r.causality or "",
               steps.get(r.id, 0)]
