"""A routine childhood programme (Peru's SPR, measles-mumps-rubella) booked end to end, its
ages counted from the date of birth and its series apart from the same child's COVID-19 one."""
import datetime as dt

import pytest
from sqlalchemy import select

from cowin_kit.accounts.models import CitizenAccount
from cowin_kit.programmes import eligibility
from cowin_kit.programmes.models import Product, Programme
from cowin_kit.registration.service import (
    IdContext,
    RegistrationError,
    register_beneficiary,
)
from cowin_kit.scheduling.booking import BookingError, schedule
from cowin_kit.scheduling.models import Facility
from cowin_kit.scheduling.sessions import create_session
from cowin_kit.vaccination.service import record_dose

TODAY = dt.date(2031, 3, 3)
BORN = dt.date(2029, 6, 15)  # 20 months old on TODAY: dose 1 due since 12 months
SLOTS = [(dt.time(9), dt.time(11))]


@pytest.fixture
def family(app, db_session):
    """A parent's account with a child registered under it (date of birth given)."""
    dep = app.extensions["cowin_kit"]
    ctx = IdContext.from_settings(dict(dep.id_providers), dep.settings)
    account = CitizenAccount(mobile="+51987650002")
    db_session.add(account)
    db_session.flush()
    child = register_beneficiary(
        db_session, ctx, document_code="dni", id_number="79012345", name="Mateo Quispe",
        birth_year=BORN.year, birth_date=BORN, gender="male", account_id=account.id,
        max_per_account=4, current_year=TODAY.year)
    return account, child, ctx


def _product(s, code):
    return s.scalar(select(Product).where(Product.code == code))


def _session(s, code, date=TODAY, min_age=0):
    facility = s.scalar(select(Facility).where(Facility.is_demo.is_(True))
                        .order_by(Facility.code))
    return create_session(s, facility, date, _product(s, code), min_age, None,
                          {1: 10, 2: 10}, SLOTS)


def test_a_child_is_booked_for_the_due_routine_dose(db_session, family):
    s = db_session
    account, child, _ctx = family
    spr = _product(s, "spr")
    programme = s.get(Programme, spr.programme_id)
    assert programme.age_from == "date_of_birth" and spr.min_age == "12 months"

    status = eligibility.vaccination_status(s, child.id, programme.id, TODAY)
    assert (status.next_dose, status.earliest, status.doses_given) == (
        1, dt.date(2030, 6, 15), 0)  # from 12 months of age

    vs = _session(s, "spr")
    appt, = schedule(s, account_id=account.id, beneficiary_ids=[child.id], session_id=vs.id,
                     slot="09:00", dose=1, today=TODAY)
    assert appt.dose_number == 1 and appt.session.product_id == spr.id
    record_dose(s, beneficiary_id=child.id, product=spr, dose_number=1, given_on=TODAY,
                facility_id=vs.facility_id, appointment_id=appt.id)

    status = eligibility.vaccination_status(s, child.id, programme.id, TODAY)
    # Dose 2: at 18 months of age (already) and 4 weeks after dose 1 (the later one).
    assert (status.next_dose, status.earliest, status.product_name) == (
        2, TODAY + dt.timedelta(weeks=4), None if programme.allow_mixed_products else spr.name)
    assert not status.complete and not status.overdue

    # The same child's COVID-19 series is its own: no dose given there, dose 1 next; and
    # the COVID-19 vaccines' ages (5 years and more) keep the child out.
    covid = eligibility.vaccination_status(s, child.id, _product(s, "comirnaty").programme_id,
                                           TODAY)
    assert (covid.doses_given, covid.next_dose) == (0, 1)
    later = TODAY + dt.timedelta(days=30)
    with pytest.raises(BookingError, match="not of an age"):
        schedule(s, account_id=account.id, beneficiary_ids=[child.id],
                 session_id=_session(s, "comirnaty", later).id, slot="09:00", dose=1,
                 today=later)
    [(series)] = [st for st in eligibility.statuses(s, [child.id], TODAY)[child.id]]
    assert series.programme_code == "spr" and series.doses_given == 1


def test_routine_ages_count_from_the_date_of_birth(db_session, family):
    s = db_session
    _account, child, _ctx = family
    spr = _product(s, "spr")
    too_young = TODAY.replace(year=2030, month=6, day=14)  # a day before 12 months
    with pytest.raises(eligibility.NotEligible, match="not of an age"):
        eligibility.check_may_take(s, child, spr, 1, too_young)
    eligibility.check_may_take(s, child, spr, 1, too_young + dt.timedelta(days=1))
    # Until the fifth birthday (max_age = "4 years" includes the whole fifth year).
    eligibility.check_may_take(s, child, spr, 1, dt.date(2034, 6, 14))
    with pytest.raises(eligibility.NotEligible):
        eligibility.check_may_take(s, child, spr, 1, dt.date(2034, 6, 15))
    # Dose 2 waits for 18 months of age even when 4 weeks have passed.
    record_dose(s, beneficiary_id=child.id, product=spr, dose_number=1,
                given_on=dt.date(2030, 7, 1))
    with pytest.raises(eligibility.NotEligible, match="from 2030-12-15"):
        eligibility.check_may_take(s, child, spr, 2, dt.date(2030, 12, 1))
    eligibility.check_may_take(s, child, spr, 2, dt.date(2030, 12, 15))


def test_a_child_without_a_date_of_birth_is_asked_for_it(db_session, family):
    s = db_session
    account, _child, ctx = family
    other = register_beneficiary(
        s, ctx, document_code="dni", id_number="79012346", name="Luz Quispe",
        birth_year=2029, gender="female", account_id=account.id, max_per_account=4,
        current_year=TODAY.year)
    with pytest.raises(eligibility.NotEligible) as refused:
        eligibility.check_may_take(s, other, _product(s, "spr"), 1, TODAY)
    assert refused.value.field == "birth_date"
    adult = register_beneficiary(
        s, ctx, document_code="dni", id_number="40012348", name="Rosa Quispe",
        birth_year=1990, gender="female", account_id=account.id, max_per_account=4,
        current_year=TODAY.year)
    with pytest.raises(eligibility.NotEligible, match="not of an age"):  # no date needed
        eligibility.check_may_take(s, adult, _product(s, "spr"), 1, TODAY)
    with pytest.raises(RegistrationError) as wrong_year:
        register_beneficiary(s, ctx, document_code="dni", id_number="79012347", name="Sol",
                             birth_year=2028, birth_date=BORN, gender="female",
                             current_year=TODAY.year)
    assert wrong_year.value.field == "birth_date"
