"""The staff lists that grow long: centres searched by name or code, appointments of the
area searched by the beneficiary's reference and filtered, both a page at a time."""
import datetime as dt

import pytest
from sqlalchemy import select

from cowin_kit.geography.models import Division
from cowin_kit.scheduling.models import Facility, SessionCapacity, VaccinationSession

from helpers import STAFF_PASSWORD, TODAY, api_register, make_user, staff_login

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def lima_admin(client, database):
    make_user(database, "lima@example.org", "district_admin", "1501")
    assert staff_login(client, "lima@example.org", STAFF_PASSWORD).status_code == 302
    return client


def add_centres(database, count, division_code="150101"):
    with database.Session() as s:
        division = s.scalar(select(Division.id).where(Division.code == division_code))
        s.add_all([Facility(code=f"BIG-{n:04}", name=f"Posta número {n}", division_id=division,
                            address="") for n in range(count)])
        s.commit()


def test_centres_are_searched_by_name_or_code_and_paged(lima_admin, database):
    add_centres(database, 45)
    page = lima_admin.get("/staff/").get_data(as_text=True)
    assert "Page 1 of 3" in page  # 45 + the 10 demo centres of Lima, 20 a page
    found = lima_admin.get("/staff/?q=big-004").get_data(as_text=True)
    assert "Centres found: 5" in found and "Page 1 of 1" in found
    assert "BIG-0040" in found and "BIG-0039" not in found
    found = lima_admin.get("/staff/?q=MIRAFLORES").get_data(as_text=True)
    assert "Centres found: 1" in found and "DEMO-PE-0002" in found
    many = lima_admin.get("/staff/?q=posta&page=2").get_data(as_text=True)
    assert "Centres found: 45" in many and "Page 2 of 3" in many
    assert 'href="/staff/?q=posta&amp;page=3"' in many  # the search is kept
    none = lima_admin.get("/staff/?q=100%25").get_data(as_text=True)  # "%" is no wildcard
    assert "No centre matches this search." in none


def test_a_too_long_search_is_a_form_error(lima_admin):
    r = lima_admin.get("/staff/?q=" + "x" * 101)
    assert r.status_code == 400 and 'id="q-error"' in r.get_data(as_text=True)


def test_the_centre_search_stays_in_the_area(lima_admin):
    page = lima_admin.get("/staff/?q=Arequipa").get_data(as_text=True)
    assert "No centre matches this search." in page and "DEMO-PE-0016" not in page


def session_at(database, code):
    with database.Session() as s:
        vs = s.scalar(select(VaccinationSession).join(Facility).join(SessionCapacity).where(
            Facility.code == code, VaccinationSession.date > TODAY,
            VaccinationSession.max_age.is_(None), SessionCapacity.dose_number == 1,
            SessionCapacity.capacity > 0).order_by(VaccinationSession.date))
        return vs.id, vs.slots[0].starts.strftime("%H:%M"), vs.date


def book(client, auth, session, ref):
    session_id, slot, _date = session
    r = client.post("/api/v2/appointment/schedule", headers=auth, json={
        "dose": 1, "session_id": session_id, "slot": slot, "beneficiaries": [ref]})
    assert r.status_code == 200, r.get_json()


@pytest.fixture
def booked(app, ana, dni_type, database):
    """Two people booked in Lima (DEMO-PE-0001) and one in Arequipa (DEMO-PE-0016)."""
    api = app.test_client()
    refs = []
    for number, name in (("40123456", "Ana Quispe"), ("40123457", "Rosa Mamani"),
                         ("40123458", "Luz Condori")):
        r = api_register(api, ana, dni_type, number, name=name)
        assert r.status_code == 200, r.get_json()
        refs.append(r.get_json()["beneficiary_reference_id"])
    lima = session_at(database, "DEMO-PE-0001")
    book(api, ana, lima, refs[0])
    book(api, ana, lima, refs[1])
    book(api, ana, session_at(database, "DEMO-PE-0016"), refs[2])
    return refs, lima[2]


def test_appointments_of_the_area_with_masked_id_numbers(lima_admin, booked):
    refs, day = booked
    page = lima_admin.get("/staff/appointments").get_data(as_text=True)
    assert "Appointments found: 2" in page
    assert "Ana Quispe" in page and "Rosa Mamani" in page and "Luz Condori" not in page
    assert "XXXXXX56" in page and "40123456" not in page and "40123457" not in page
    assert "Booked" in page and "DEMO-PE-0001" in page


def test_appointments_are_found_by_reference_and_filtered(lima_admin, booked):
    refs, day = booked
    page = lima_admin.get(f"/staff/appointments?ref={refs[1]}").get_data(as_text=True)
    assert "Appointments found: 1" in page and "Rosa Mamani" in page
    assert "Ana Quispe" not in page
    outside = lima_admin.get(f"/staff/appointments?ref={refs[2]}").get_data(as_text=True)
    assert "No appointment matches this search." in outside  # Arequipa's: not this area
    for query, count in ((f"date={day.isoformat()}", 2),
                         (f"date={(day + dt.timedelta(days=1)).isoformat()}", 0),
                         ("centre=DEMO-PE-0001", 2), ("centre=DEMO-PE-0002", 0),
                         ("status=booked", 2), ("status=done", 0)):
        page = lima_admin.get(f"/staff/appointments?{query}").get_data(as_text=True)
        assert f"Appointments found: {count}" in page, query


@pytest.mark.parametrize("query,message", [("date=2026-13-01", "Enter a real date"),
                                           ("status=lost", "Choose one of the statuses"),
                                           ("ref=" + "9" * 30, "Beneficiary reference ID")])
def test_wrong_appointment_filters_are_form_errors(lima_admin, query, message):
    r = lima_admin.get(f"/staff/appointments?{query}")
    assert r.status_code == 400 and message in r.get_data(as_text=True)


def test_appointments_are_paged_keeping_the_filters(lima_admin, booked, monkeypatch):
    from cowin_kit.staff import appointments_views

    monkeypatch.setattr(appointments_views, "PER_PAGE", 1)
    first = lima_admin.get("/staff/appointments?status=booked").get_data(as_text=True)
    assert "Page 1 of 2" in first
    assert 'href="/staff/appointments?status=booked&amp;page=2"' in first
    second = lima_admin.get("/staff/appointments?status=booked&page=2").get_data(as_text=True)
    assert "Page 2 of 2" in second
    names = {"Ana Quispe", "Rosa Mamani"}
    assert {n for n in names if n in first} | {n for n in names if n in second} == names
    assert not {n for n in names if n in first} & {n for n in names if n in second}
