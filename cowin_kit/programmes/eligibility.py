"""Who may have which dose when: the one home of a programme's dose and eligibility rules.

Booking, the citizen portal, the API (and, later, the vaccinator, certificates and
dashboards) ask here instead of counting doses themselves. Flask-free: functions take a DB
session and plain values and return plain values (:class:`VaccinationStatus`) or raise
:class:`NotEligible`, a user error the caller shows (message id, params, field, status).

A person's doses are counted per programme: a child's routine series and the same child's
COVID-19 series are separate. The next dose is the one after the highest recorded; its
window is counted from the previous dose (earliest date, recommended-by date, and a hard
limit only where the profile marks one).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterable

from sqlalchemy import bindparam, inspect, select
from sqlalchemy.orm import Session

from cowin_kit.plugins.interfaces import N_
from cowin_kit.programmes.models import DoseRule, EligibilityPhase, Product, Programme
from cowin_kit.registration.models import Beneficiary
from cowin_kit.vaccination.models import Dose

MAX_AGE = 120  # years; the oldest age a session may name


class NotEligible(ValueError):
    """A person may not take a dose. ``msgid`` is the English message (marked with ``N_``,
    translated by the caller with ``params``), ``field`` the input to fix."""

    status = 400

    def __init__(self, message: str, field: str | None = None, **params):
        self.msgid, self.field, self.params = message, field, params
        super().__init__(message % params if params else message)


@dataclass(frozen=True)
class GivenDose:
    number: int
    given_on: dt.date
    product_id: int
    product_name: str


@dataclass(frozen=True)
class VaccinationStatus:
    """A person's place in one programme's schedule on a given day.

    ``next_dose`` is None once the schedule has no further dose. ``earliest`` is when it may
    be given, ``due_by`` when it should be (late is ``overdue``, still given), and
    ``hard_limit`` the last day it may be given where the profile marks one.
    ``product_id``/``product_name`` name the product the next dose must be of when the
    schedule fixes it (no mixing), else None. ``complete`` is the primary series done (one
    dose for a single-dose vaccine), as Co-WIN counted "fully vaccinated"."""

    programme_id: int
    programme_code: str
    doses: tuple[GivenDose, ...]
    next_dose: int | None
    earliest: dt.date | None
    due_by: dt.date | None
    hard_limit: dt.date | None
    product_id: int | None
    product_name: str | None
    complete: bool
    overdue: bool

    @property
    def doses_given(self) -> int:
        return len(self.doses)


# Built once: booking runs them on every request.
_DOSE_HISTORY = (
    select(Dose).where(Dose.beneficiary_id == bindparam("beneficiary_id"),
                       Dose.programme_id == bindparam("programme_id"))
    .order_by(Dose.dose_number))
_PHASES = select(EligibilityPhase).where(EligibilityPhase.programme_id == bindparam("programme_id"))


def age_on(person: Beneficiary, on: dt.date) -> int:
    """Age in years on ``on``. Co-WIN counts age from the birth year."""
    return on.year - person.birth_year


def dose_history(session: Session, beneficiary_id: int, programme_id: int) -> list[Dose]:
    """The person's doses of one programme, first dose first."""
    return list(session.scalars(_DOSE_HISTORY, {"beneficiary_id": beneficiary_id,
                                                "programme_id": programme_id}))


def admitted_by_a_phase(session: Session, programme_id: int, age: int, groups: set[str],
                        on: dt.date) -> bool:
    """Whether a phase open on ``on`` admits this person: a phase admits those of its
    minimum age, or in one of its groups; a phase with neither admits everyone. A
    programme without phases admits everyone."""
    phases = session.scalars(_PHASES, {"programme_id": programme_id}).all()
    if not phases:
        return True
    for phase in phases:
        if phase.starts_on is not None and phase.starts_on > on:
            continue
        by_age = phase.min_age_years is not None and age >= phase.min_age_years
        by_group = bool(groups & set(phase.groups or []))
        if by_age or by_group or (phase.min_age_years is None and not phase.groups):
            return True
    return False


def dose_rule(session: Session, product: Product, dose: int) -> DoseRule | None:
    """Product's rule for dose ``dose`` (from the loaded rules when there are some)."""
    if "doses" in inspect(product).dict:  # loaded already (booking loads them with the session)
        return next((r for r in product.doses if r.dose_number == dose), None)
    return session.scalar(select(DoseRule).where(DoseRule.product_id == product.id,
                                                 DoseRule.dose_number == dose))


def _may_mix(programme: Programme, rule: DoseRule | None) -> bool:
    return programme.allow_mixed_products or bool(
        rule is not None and rule.is_booster and programme.mixed_boosters)


def _window(rule: DoseRule, previous: dt.date) -> tuple[dt.date, dt.date | None, dt.date | None]:
    """(earliest, due by, hard limit) of a dose given after one on ``previous``."""
    earliest = previous + dt.timedelta(days=rule.min_interval_days or 0)
    due_by = (previous + dt.timedelta(days=rule.max_interval_days)
              if rule.max_interval_days is not None else None)
    return earliest, due_by, due_by


def status_from(programme: Programme, doses: list[Dose], today: dt.date) -> VaccinationStatus:
    """The status from a programme and the person's doses of it (first dose first, each
    with its product loaded). No query of its own beyond the products' rules."""
    given = tuple(GivenDose(d.dose_number, d.given_on, d.product_id, d.product.name)
                  for d in doses)
    number = len(doses) + 1
    earliest = due_by = hard = None
    required = None
    if doses:
        first = doses[0].product
        rule = next((r for r in first.doses if r.dose_number == number), None)
        complete = len(doses) >= first.primary_doses
        if rule is None:
            number = None
        else:
            earliest, due_by, hard = _window(rule, doses[-1].given_on)
            if not _may_mix(programme, rule):
                required = first
    else:
        complete = False
    return VaccinationStatus(
        programme_id=programme.id, programme_code=programme.code, doses=given,
        next_dose=number, earliest=earliest, due_by=due_by, hard_limit=hard,
        product_id=required.id if required else None,
        product_name=required.name if required else None, complete=complete,
        overdue=due_by is not None and today > due_by)


def vaccination_status(session: Session, beneficiary_id: int, programme_id: int,
                       today: dt.date) -> VaccinationStatus:
    """One person's status in one programme."""
    return status_from(session.get(Programme, programme_id),
                       dose_history(session, beneficiary_id, programme_id), today)


def statuses(session: Session, beneficiary_ids: Iterable[int],
             today: dt.date) -> dict[int, list[VaccinationStatus]]:
    """Each person's status in every programme they have a dose of, the programme of their
    earliest dose first (a family page: two queries, whatever the family size)."""
    ids = list(beneficiary_ids)
    by_person: dict[int, dict[int, list[Dose]]] = {i: {} for i in ids}
    if not ids:
        return {}
    rows = session.execute(
        select(Dose, Product).join(Product, Product.id == Dose.product_id)
        .where(Dose.beneficiary_id.in_(ids))
        .order_by(Dose.beneficiary_id, Dose.given_on, Dose.programme_id, Dose.dose_number))
    for dose, product in rows:
        by_person[dose.beneficiary_id].setdefault(dose.programme_id, []).append(dose)
    programmes = {p.id: p for p in session.scalars(select(Programme).where(
        Programme.id.in_({pid for series in by_person.values() for pid in series})))}
    return {pid: [status_from(programmes[prog], sorted(ds, key=lambda d: d.dose_number), today)
                  for prog, ds in series.items()]
            for pid, series in by_person.items()}


def check_may_take(session: Session, person: Beneficiary, product: Product, dose: int,
                   on: dt.date, *, min_age: int = 0, max_age: int | None = None) -> None:
    """Raise NotEligible unless ``person`` may take dose ``dose`` of ``product`` on ``on``:
    age (the product's, narrowed by ``min_age``/``max_age`` of a session), the programme's
    phases, the next dose, the product of the first dose, the interval from the previous
    dose."""
    age = age_on(person, on)
    low = max(min_age, product.min_age_years)
    highs = [h for h in (max_age, product.max_age_years) if h is not None]
    if age < low or (highs and age > min(highs)):
        raise NotEligible(N_("%(name)s is not of an age for this session."), "beneficiaries",
                          name=person.name)
    if not admitted_by_a_phase(session, product.programme_id, age,
                               set(person.priority_groups or []), on):
        raise NotEligible(N_("%(name)s is not eligible yet under the vaccination phases."),
                          "beneficiaries", name=person.name)
    history = dose_history(session, person.id, product.programme_id)
    if dose != len(history) + 1:
        raise NotEligible(N_("%(name)s's next dose is dose %(next)s."), "dose",
                          name=person.name, next=len(history) + 1)
    rule = dose_rule(session, product, dose)
    if rule is None:
        raise NotEligible(N_("%(vaccine)s has no dose %(dose)s."), "dose",
                          vaccine=product.name, dose=dose)
    if not history:
        return
    first = history[0]
    if product.id != first.product_id:
        if not _may_mix(session.get(Programme, product.programme_id), rule):
            raise NotEligible(N_("%(name)s must take the same vaccine as the first dose "
                                 "(%(vaccine)s)."), "session_id", name=person.name,
                              vaccine=first.product.name)
    earliest, _due_by, hard = _window(rule, history[-1].given_on)
    if on < earliest:
        raise NotEligible(N_("Dose %(dose)s can be given from %(date)s."), "session_id",
                          dose=dose, date=earliest.isoformat())
    if hard is not None and on > hard:
        raise NotEligible(N_("Dose %(dose)s had to be given by %(date)s."), "session_id",
                          dose=dose, date=hard.isoformat())


__all__ = ["MAX_AGE", "NotEligible", "GivenDose", "VaccinationStatus", "age_on",
           "dose_history", "admitted_by_a_phase", "dose_rule", "status_from",
           "vaccination_status", "statuses", "check_may_take"]
