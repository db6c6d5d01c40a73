"""Recording doses: idempotent per person, programme and dose number."""
import datetime as dt

import pytest
from sqlalchemy import func, select

from cowin_kit.accounts.models import CitizenAccount
from cowin_kit.programmes import eligibility
from cowin_kit.programmes.models import DoseRule, Product, Programme
from cowin_kit.registration.service import IdContext, register_beneficiary
from cowin_kit.vaccination.models import Dose
from cowin_kit.vaccination.service import DoseConflict, DoseError, record_dose

DAY = dt.date(2031, 3, 3)


@pytest.fixture
def person(app, db_session):
    dep = app.extensions["cowin_kit"]
    ctx = IdContext.from_settings(dict(dep.id_providers), dep.settings)
    acc = CitizenAccount(mobile="+51987650001")
    db_session.add(acc)
    db_session.flush()
    p = register_beneficiary(db_session, ctx, document_code="dni", id_number="41234567",
                             name="Rosa Mamani", birth_year=1980, gender="female")
    p.account_id = acc.id
    db_session.flush()
    return p


def _product(s, code="bbibp-corv"):
    return s.scalar(select(Product).where(Product.code == code))


def _count(s):
    return s.scalar(select(func.count()).select_from(Dose))


def test_a_retry_returns_the_dose_already_recorded(db_session, person):
    s = db_session
    first = record_dose(s, beneficiary_id=person.id, product=_product(s), dose_number=1,
                        given_on=DAY)
    again = record_dose(s, beneficiary_id=person.id, product=_product(s).id, dose_number=1,
                        given_on=DAY)
    assert again.id == first.id and _count(s) == 1
    assert first.programme_id == _product(s).programme_id


def test_another_dose_under_the_same_number_is_a_conflict(db_session, person):
    s = db_session
    record_dose(s, beneficiary_id=person.id, product=_product(s), dose_number=1, given_on=DAY)
    with pytest.raises(DoseConflict) as refused:
        record_dose(s, beneficiary_id=person.id, product=_product(s), dose_number=1,
                    given_on=DAY + dt.timedelta(days=1))
    assert refused.value.status == 409 and "already recorded" in str(refused.value)
    with pytest.raises(DoseError):
        record_dose(s, beneficiary_id=person.id, product=_product(s), dose_number=0,
                    given_on=DAY)
    with pytest.raises(DoseError):
        record_dose(s, beneficiary_id=person.id, product=987654, dose_number=1, given_on=DAY)
    assert _count(s) == 1


def test_each_programme_has_its_own_series(db_session, person):
    """A measles campaign's dose 1 and the COVID-19 dose 1 of the same person both stand."""
    s = db_session
    measles = Programme(code="measles-test", disease="Measles", name="Measles", names={})
    product = Product(code="mr", name="MR", manufacturer="SII", min_age_years=0,
                      primary_doses=2, doses=[DoseRule(dose_number=1),
                                              DoseRule(dose_number=2, min_interval_days=28)])
    measles.products.append(product)
    s.add(measles)
    s.flush()
    record_dose(s, beneficiary_id=person.id, product=_product(s), dose_number=1, given_on=DAY)
    record_dose(s, beneficiary_id=person.id, product=product, dose_number=1, given_on=DAY)
    assert _count(s) == 2
    covid = eligibility.vaccination_status(s, person.id, _product(s).programme_id, DAY)
    mr = eligibility.vaccination_status(s, person.id, measles.id, DAY)
    assert (covid.next_dose, mr.next_dose) == (2, 2)
    assert mr.earliest == DAY + dt.timedelta(days=28) and mr.product_name == "MR"
    by_person = eligibility.statuses(s, [person.id], DAY)[person.id]
    assert [st.programme_code for st in by_person] == ["covid19", "measles-test"]
