"""The kit's wall clock (cowin_kit.clock) and the tests' pinned clock.

A CI run once failed 30 tests when it crossed midnight in Lima (05:00 UTC): the template
databases seeded "today's" sessions once, the kit then asked the real clock, and after
midnight the seeded day was yesterday. Now every rule about days asks cowin_kit.clock,
the test process pins it (cowin_kit.testing.pinned_now; COWIN_KIT_TEST_NOW chooses the
instant), and a template is seeded again for a day of the clock it was not seeded for.
"""
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from cowin_kit import clock
from cowin_kit.profiles import load_profile
from cowin_kit.scheduling.models import VaccinationSession
from cowin_kit.testing import pinned_now

from helpers import STAFF_PASSWORD, TODAY, csrf, facility_user_at, session_today, staff_login

PROFILES = sorted(p.parent.name for p in
                  (Path(__file__).parents[1] / "country_profiles").glob("*/profile.toml"))
LIMA = "America/Lima"


def test_the_kit_and_the_tests_share_one_pinned_day(app):
    with app.test_request_context():
        from cowin_kit.runtime import deployment

        assert clock.now() == pinned_now()
        assert deployment().today() == TODAY
        assert deployment().now().utcoffset() == dt.timedelta(hours=-5)
    with app.app_context():
        from cowin_kit.runtime import deployment

        with deployment().db.Session() as s:  # the template's demo week starts today
            assert s.scalar(select(func.min(VaccinationSession.date))) == TODAY


@pytest.mark.parametrize("country", PROFILES)
def test_midnight_in_every_profile_is_the_wall_clock_s(country):
    """Each profile's day turns at its own midnight, read from the one instant."""
    zone = load_profile(country)["timezone"]
    before = dt.datetime(2031, 3, 3, 23, 59, 59, 500000, tzinfo=ZoneInfo(zone))
    with clock.fixed(before):
        assert clock.today(zone) == dt.date(2031, 3, 3)
    with clock.fixed(before + dt.timedelta(seconds=1)):
        assert clock.today(zone) == dt.date(2031, 3, 4)
        assert clock.local_now(zone).time() == dt.time(0, 0, 0, 500000)


def test_the_clock_refuses_a_naive_instant():
    with pytest.raises(ValueError):
        clock.set_source(dt.datetime(2031, 3, 3))


@pytest.fixture
def vaccinator(client, database):
    facility_user_at(database, "vax@example.org", "vaccinator", "DEMO-PE-0001")
    assert staff_login(client, "vax@example.org", STAFF_PASSWORD).status_code == 302


def _walk_in(client, session_id, number):
    page = client.get("/staff/walk-in").get_data(as_text=True)
    r = client.post("/staff/walk-in", data={"id_type": "dni", "id_number": number,
                                            "csrf_token": csrf(page)})
    r = client.post("/staff/walk-in/register", data={
        "id_type": "dni", "id_number": number, "name": "Rosa Huamán", "birth_year": "1970",
        "birth_date": "", "gender": "female", "language": "es", "mobile": "",
        "csrf_token": csrf(r.get_data(as_text=True))})
    assert r.status_code == 302, r.get_data(as_text=True)
    page = client.get("/staff/walk-in/book").get_data(as_text=True)
    return client.post("/staff/walk-in/book", data={"session_id": session_id,
                                                    "csrf_token": csrf(page)})


@pytest.mark.usefixtures("english", "vaccinator")
def test_a_walk_in_half_a_second_before_midnight_and_half_a_second_after(
        client, database, cowin_kit_clock):
    """The kit's day turns with its wall clock, not with the real one: so a pinned clock
    keeps a whole run on the day its data was seeded for."""
    session_id = session_today(database, "DEMO-PE-0001", quota=2, capacity=2)
    cowin_kit_clock.set_local(LIMA, dt.datetime.combine(TODAY, dt.time(23, 59, 59, 500000)))
    r = _walk_in(client, session_id, "40123456")
    assert r.status_code == 302 and "/staff/today/appointments/" in r.headers["Location"]

    cowin_kit_clock.advance(dt.timedelta(seconds=1))  # midnight in Lima
    r = _walk_in(client, session_id, "40123457")
    assert r.status_code == 400 and "This session is in the past." in r.get_data(as_text=True)


@pytest.fixture
def next_day(cowin_kit_clock):
    """The wall clock a day on, before the test's instance is copied from a template."""
    cowin_kit_clock.advance(dt.timedelta(days=1))
    return TODAY + dt.timedelta(days=1)


def test_a_new_day_of_the_clock_gets_a_template_seeded_for_it(next_day, database):
    with database.Session() as s:
        assert s.scalar(select(func.min(VaccinationSession.date))) == next_day
