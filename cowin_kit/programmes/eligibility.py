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
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import bindparam, inspect, select
from sqlalchemy.orm import Session

from cowin_kit.errors import UserError
from cowin_kit.plugins.interfaces import N_
from cowin_kit.programmes.durations import duration_or_days, parse_duration
from cowin_kit.programmes.models import DoseRule, EligibilityPhase, Product, Programme
from cowin_kit.registration.models import Beneficiary
from cowin_kit.vaccination.models import Dose

MAX_AGE = 120  # years; the oldest age a session may name


MSG_BAD_DOSE = N_("The dose must be 1 or more.")
MSG_NO_SUCH_DOSE = N_("%(vaccine)s has no dose %(dose)s.")


class NotEligible(UserError):
    """A person may not take a dose (cowin_kit.errors: message id, the input to fix,
    params; 400)."""


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


def primary_complete(doses: list[Dose]) -> bool:
    """Whether ``doses`` (first dose first) complete the primary series of the first
    dose's product (one dose for a single-dose vaccine), as Co-WIN counted "fully
    vaccinated"."""
    return bool(doses) and len(doses) >= doses[0].product.primary_doses


def born_on(person: Beneficiary, programme: Programme) -> dt.date | None:
    """The day ages are counted from: the date of birth where the programme asks for it
    (None when the person has not given it), else 1 January of the year of birth, so
    that ages in years are Co-WIN's (the year of the dose minus the year of birth)."""
    if programme.age_from == "date_of_birth":
        return person.birth_date
    return dt.date(person.birth_year, 1, 1)


def age_on(born: dt.date, on: dt.date) -> int:
    """Complete years on ``on`` of someone born on ``born``."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _reached(born: dt.date, age: str | None, on: dt.date) -> bool:
    return age is None or on >= parse_duration(age).after(born)


def _past(born: dt.date, age: str | None, on: dt.date) -> bool:
    """Older than ``age`` on ``on``: a maximum age includes that whole age."""
    return age is not None and on >= parse_duration(age).plus_one().after(born)


def dose_history(session: Session, beneficiary_id: int, programme_id: int) -> list[Dose]:
    """The person's doses of one programme, first dose first."""
    return list(session.scalars(_DOSE_HISTORY, {"beneficiary_id": beneficiary_id,
                                                "programme_id": programme_id}))


def admitted_by_a_phase(session: Session, programme_id: int, age: int, groups: set[str],
                        on: dt.date, phases=None) -> bool:
    """Whether a phase open on ``on`` admits this person: a phase admits those of its
    minimum age, or in one of its groups; a phase with neither admits everyone. A
    programme without phases admits everyone. ``phases``: the programme's, when the
    caller has read them already (the booking path keeps them a few seconds)."""
    if phases is None:
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


def same_vaccine(a: Product, b: Product) -> bool:
    """Whether two products are one vaccine: the same product, or formulations of it (a
    child's 10 µg Comirnaty and the 30 µg one share the EU DCC product code). A child who
    turns 12 between doses finishes with the formulation of the new age, as the labels allow,
    where the programme does not mix vaccines."""
    return a.id == b.id or bool(a.dcc_product and a.dcc_product == b.dcc_product
                                and a.programme_id == b.programme_id)


def _may_mix(programme: Programme, rule: DoseRule | None) -> bool:
    return programme.allow_mixed_products or bool(
        rule is not None and rule.is_booster and programme.mixed_boosters)


def _window(rule: DoseRule, previous: dt.date) -> tuple[dt.date, dt.date | None, dt.date | None]:
    """(earliest, due by, hard limit) of a dose given after one on ``previous``. The maximum
    interval is a recommended date unless the rule marks it hard (a late dose is given as soon
    as possible, WHO advises)."""
    low = duration_or_days(rule.min_interval, rule.min_interval_days or 0)
    high = duration_or_days(rule.max_interval, rule.max_interval_days)
    due_by = high.after(previous) if high is not None else None
    return low.after(previous), due_by, due_by if rule.max_interval_hard else None


def status_from(programme: Programme, doses: list[Dose], today: dt.date,
                born: dt.date | None = None) -> VaccinationStatus:
    """The status from a programme and the person's doses of it (first dose first, each
    with its product loaded); ``born`` (see born_on) adds the ages a dose waits for to its
    earliest date. No query of its own beyond the products' rules."""
    given = tuple(GivenDose(d.dose_number, d.given_on, d.product_id, d.product.name)
                  for d in doses)
    number: int | None = len(doses) + 1
    # The schedule followed: the first dose's product, or before any dose the programme's
    # only product (with several, the one chosen decides).
    products = [p for p in programme.products if p.is_active]
    ref = doses[0].product if doses else (products[0] if len(products) == 1 else None)
    complete = primary_complete(doses)
    earliest = due_by = hard = None
    required = None
    rule = next((r for r in ref.doses if r.dose_number == number), None) if ref else None
    if doses and rule is None:
        number = None
    elif rule is not None:
        if doses:
            earliest, due_by, hard = _window(rule, doses[-1].given_on)
            if not _may_mix(programme, rule):
                required = ref
        if born is not None:
            ages = [a for a in (rule.min_age, ref.min_age) if a]
            reached = [parse_duration(a).after(born) for a in ages]
            if not ref.min_age and ref.min_age_years:
                reached.append(parse_duration(f"{ref.min_age_years} years").after(born))
            earliest = max([d for d in (earliest, *reached) if d is not None], default=None)
    return VaccinationStatus(
        programme_id=programme.id, programme_code=programme.code, doses=given,
        next_dose=number, earliest=earliest, due_by=due_by, hard_limit=hard,
        product_id=required.id if required else None,
        product_name=required.name if required else None, complete=complete,
        overdue=due_by is not None and today > due_by)


def vaccination_status(session: Session, beneficiary_id: int, programme_id: int,
                       today: dt.date) -> VaccinationStatus:
    """One person's status in one programme."""
    programme = session.get(Programme, programme_id)
    person = session.get(Beneficiary, beneficiary_id)
    return status_from(programme, dose_history(session, beneficiary_id, programme_id), today,
                       born_on(person, programme) if person else None)


def statuses(session: Session, beneficiary_ids: Iterable[int],
             today: dt.date) -> dict[int, list[VaccinationStatus]]:
    """Each person's status in every programme they have a dose of, the programme of their
    earliest dose first (a family page: a few queries, whatever the family size)."""
    ids = list(beneficiary_ids)
    by_person: dict[int, dict[int, list[Dose]]] = {i: {} for i in ids}
    if not ids:
        return {}
    rows = session.execute(
        select(Dose, Product).join(Product, Product.id == Dose.product_id)
        .where(Dose.beneficiary_id.in_(ids))
        .order_by(Dose.beneficiary_id, Dose.given_on, Dose.programme_id, Dose.dose_number))
    for dose, _product in rows:
        by_person[dose.beneficiary_id].setdefault(dose.programme_id, []).append(dose)
    wanted = {pid for series in by_person.values() for pid in series}
    if not wanted:
        return {pid: [] for pid in ids}
    programmes = {p.id: p for p in session.scalars(select(Programme).where(
        Programme.id.in_(wanted)))}
    people = {p.id: p for p in session.scalars(select(Beneficiary).where(
        Beneficiary.id.in_([i for i, series in by_person.items() if series])))}
    return {pid: [status_from(programmes[prog], sorted(ds, key=lambda d: d.dose_number), today,
                              born_on(people[pid], programmes[prog]))
                  for prog, ds in series.items()]
            for pid, series in by_person.items()}


def check_may_take(session: Session, person: Beneficiary, product: Product, dose: int,
                   on: dt.date, *, min_age: int = 0, max_age: int | None = None,
                   programme: Programme | None = None, phases=None,
                   history: list[Dose] | None = None) -> None:
    """Raise NotEligible unless ``person`` may take dose ``dose`` of ``product`` on ``on``:
    age (the product's, narrowed by ``min_age``/``max_age`` of a session), the programme's
    phases, the next dose, the product of the first dose, the interval from the previous
    dose. ``programme`` and ``phases`` (the product's programme and its phases) and
    ``history`` (the person's doses of that programme, first dose first) spare the queries
    when the caller has them."""
    if programme is None:
        programme = session.get(Programme, product.programme_id)
    born = born_on(person, programme)

    def of_age(born: dt.date) -> bool:
        age = age_on(born, on)
        highs = [h for h in (max_age, product.max_age_years) if h is not None]
        return not (age < max(min_age, product.min_age_years) or (highs and age > min(highs))
                    or not _reached(born, product.min_age, on) or _past(born, product.max_age, on))

    if born is None:
        # The year of birth alone may rule the person out (an adult at a child's session);
        # otherwise the date decides.
        year = person.birth_year
        if of_age(dt.date(year, 1, 1)) or of_age(dt.date(year, 12, 31)):
            raise NotEligible(N_("Enter %(name)s's date of birth: this vaccination counts age "
                                 "from it."), "birth_date", name=person.name)
    if born is None or not of_age(born):
        raise NotEligible(N_("%(name)s is not of an age for this session."), "beneficiaries",
                          name=person.name)
    age = age_on(born, on)
    if not admitted_by_a_phase(session, product.programme_id, age,
                               set(person.priority_groups or []), on, phases):
        raise NotEligible(N_("%(name)s is not eligible yet under the vaccination phases."),
                          "beneficiaries", name=person.name)
    if history is None:
        history = dose_history(session, person.id, product.programme_id)
    if dose != len(history) + 1:
        raise NotEligible(N_("%(name)s's next dose is dose %(next)s."), "dose",
                          name=person.name, next=len(history) + 1)
    rule = dose_rule(session, product, dose)
    if rule is None:
        raise NotEligible(MSG_NO_SUCH_DOSE, "dose",
                          vaccine=product.name, dose=dose)
    if not _reached(born, rule.min_age, on):
        raise NotEligible(N_("Dose %(dose)s can be given from %(date)s."), "session_id",
                          dose=dose, date=parse_duration(rule.min_age).after(born).isoformat())
    if not history:
        return
    first = history[0]
    if not same_vaccine(product, first.product) and not _may_mix(programme, rule):
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


__all__ = [
    "MAX_AGE",
    "MSG_BAD_DOSE",
    "MSG_NO_SUCH_DOSE",
    "GivenDose",
    "NotEligible",
    "VaccinationStatus",
    "admitted_by_a_phase",
    "age_on",
    "born_on",
    "check_may_take",
    "dose_history",
    "dose_rule",
    "same_vaccine",
    "status_from",
    "statuses",
    "vaccination_status",
]
