"""Assisted registration through the staff pages: a call-centre operator confirms the
citizen's consent (a code read out, or an attestation the audit log records), registers
people of that mobile and books sessions of the operator's area."""
import datetime as dt

import pytest
from sqlalchemy import func, select

from cowin_kit.geography.models import Division
from cowin_kit.registration.models import Beneficiary
from cowin_kit.scheduling import places
from cowin_kit.scheduling.models import Appointment, Facility, VaccinationSession
from cowin_kit.testing import last_otp

from helpers import (
    STAFF_PASSWORD,
    TODAY,
    add_member,
    audit_rows,
    csrf,
    make_user,
    session_today,
    sha,
    staff_login,
    web_login,
)

pytestmark = pytest.mark.usefixtures("english")
TOMORROW = TODAY + dt.timedelta(days=1)
CITIZEN = "987654323"


@pytest.fixture
def operator(client, database):
    """A call-centre operator of Lima (1501)."""
    user_id = make_user(database, "calls@example.org", "call_centre", "1501")
    assert staff_login(client, "calls@example.org", STAFF_PASSWORD).status_code == 302
    return user_id


def start(client, mobile=CITIZEN, action="code", attest=False):
    page = client.get("/staff/assist").get_data(as_text=True)
    data = {"mobile": mobile, "action": action, "csrf_token": csrf(page)}
    if attest:
        data["attest"] = "y"
    return client.post("/staff/assist", data=data)


def type_code(client, code):
    page = client.get("/staff/assist/code").get_data(as_text=True)
    return client.post("/staff/assist/code", data={"code": code, "csrf_token": csrf(page)})


def register(client, number, name="Juana Mamani", year="1960"):
    page = client.get("/staff/assist/register").get_data(as_text=True)
    return client.post("/staff/assist/register", data={
        "id_type": "dni", "id_number": number, "name": name, "birth_year": year,
        "birth_date": "", "gender": "female", "language": "es", "csrf_token": csrf(page)})


def reference_of(database, number_suffix_name):
    with database.Session() as s:
        return s.scalar(select(Beneficiary.reference_id).where(
            Beneficiary.name == number_suffix_name))


def lima(database):
    with database.Session() as s:
        return s.scalar(select(Division.id).where(Division.code == "1501"))


def book(client, ref, session_id, slot="12:00AM-11:59PM", query=""):
    page = client.get(f"/staff/assist/book/{ref}{query}")
    assert page.status_code == 200, page.get_data(as_text=True)
    return page, client.post(f"/staff/assist/book/{ref}", data={
        "session_id": session_id, "slot": slot, "csrf_token": csrf(page.get_data(as_text=True))})


def test_with_a_code_a_wrong_one_is_refused_and_the_right_one_books(
        client, database, cowin_kit_instance, operator):
    session_id = session_today(database, "DEMO-PE-0001", day=TOMORROW, quota=0, capacity=5)
    r = start(client)
    assert r.status_code == 302 and r.headers["Location"].endswith("/staff/assist/code")
    code = last_otp(cowin_kit_instance)
    wrong = "000000" if code != "000000" else "111111"
    r = type_code(client, wrong)
    assert r.status_code == 400 and "Incorrect OTP." in r.get_data(as_text=True)
    assert client.get("/staff/assist/family").status_code == 302  # not yet consented
    r = type_code(client, code)
    assert r.status_code == 302 and r.headers["Location"].endswith("/staff/assist/family")

    assert register(client, "40123456").status_code == 302
    family = client.get("/staff/assist/family").get_data(as_text=True)
    assert "Juana Mamani" in family and "40123456" not in family  # the number masked
    ref = reference_of(database, "Juana Mamani")
    page, r = book(client, ref, session_id, query=f"?district={lima(database)}")
    with database.Session() as s:
        centre = s.scalar(select(Facility).where(Facility.code == "DEMO-PE-0001"))
    assert centre.name in page.get_data(as_text=True)  # found by the district search
    assert r.status_code == 302, r.get_data(as_text=True)
    with database.Session() as s:
        appointment = s.scalar(select(Appointment).where(Appointment.session_id == session_id))
        assert (appointment.source, appointment.booked_by) == ("assisted", operator)
        person = s.get(Beneficiary, appointment.beneficiary_id)
        from cowin_kit.accounts.models import CitizenAccount

        assert s.get(CitizenAccount, person.account_id).mobile == "+51987654323"
        assert places.check_capacity(s) == []
    [consent] = audit_rows(database, "assist.consent")
    assert consent.details == {"consent": "otp"}
    [booked] = audit_rows(database, "assist.booked")
    assert booked.details["consent"] == "otp" and booked.actor == f"staff:{operator}"
    assert booked.division_id is not None
    assert audit_rows(database, "appointment.booked")[0].actor == f"staff:{operator}"
    family = client.get("/staff/assist/family").get_data(as_text=True)
    assert f"Secret code: {appointment.secret_code}" in family


def test_with_an_attestation_the_audit_log_says_so_and_only_new_people_show(
        app, client, database, cowin_kit_instance, operator):
    citizen = app.test_client()
    web_login(citizen, cowin_kit_instance, mobile=CITIZEN)
    add_member(citizen, "40123457", name="Pedro Family")
    session_id = session_today(database, "DEMO-PE-0001", day=TOMORROW, quota=0, capacity=5)

    r = start(client, action="attest")  # the box not ticked
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and 'id="attest-error"' in html
    assert 'value="987654323"' in html  # what was typed is kept
    assert start(client, action="attest", attest=True).status_code == 302
    family = client.get("/staff/assist/family").get_data(as_text=True)
    assert "Pedro Family" not in family  # not proven by a code: the family stays hidden
    with database.Session() as s:
        pedro = s.scalar(select(Beneficiary).where(Beneficiary.name == "Pedro Family"))
    assert client.get(f"/staff/assist/book/{pedro.reference_id}").status_code == 404
    # Registering Pedro's number does not reveal him either.
    r = register(client, "40123457", name="Pedro Again")
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "is not one you may see in this call" in html
    assert "Pedro Family" not in html and 'id="id_number-error"' in html

    assert register(client, "40123458", name="Rosa New").status_code == 302
    family = client.get("/staff/assist/family").get_data(as_text=True)
    assert "Rosa New" in family and "Pedro Family" not in family
    _page, r = book(client, reference_of(database, "Rosa New"), session_id)
    assert r.status_code == 302
    [consent] = audit_rows(database, "assist.consent")
    assert consent.details == {"consent": "attested"}
    [booked] = audit_rows(database, "assist.booked")
    assert booked.details["consent"] == "attested"
    with database.Session() as s:  # Rosa joined the mobile's account, beside Pedro
        rosa = s.scalar(select(Beneficiary).where(Beneficiary.name == "Rosa New"))
        assert rosa.account_id == pedro.account_id
        assert s.scalar(select(func.count()).select_from(Beneficiary)) == 2


def test_an_operator_cannot_book_outside_their_area(client, database, operator):
    with database.Session() as s:
        outside = s.scalar(select(Facility).join(Division).where(
            ~Division.code.startswith("15")).order_by(Facility.id))
        code = outside.code
    session_id = session_today(database, code, day=TOMORROW, quota=0, capacity=5)
    start(client, action="attest", attest=True)
    register(client, "40123456")
    _page, r = book(client, reference_of(database, "Juana Mamani"), session_id)
    assert r.status_code == 403
    [denied] = audit_rows(database, "access.denied")
    assert denied.details["reason"] == "area"
    with database.Session() as s:
        assert s.get(VaccinationSession, session_id).capacities[0].booked == 0
        assert s.scalar(select(func.count()).select_from(Appointment)) == 0


def test_bad_input_is_shown_at_its_field(client, database, operator):
    r = start(client, mobile="12")
    assert r.status_code == 400 and 'id="mobile-error"' in r.get_data(as_text=True)
    r = start(client, mobile="")
    assert r.status_code == 400 and "Enter the citizen's mobile number." in r.get_data(
        as_text=True)
    start(client, action="attest", attest=True)
    r = register(client, "10117410-3", name="", year="abc")
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert 'id="id_number-error"' in html or 'id="name-error"' in html
    assert 'value="abc"' in html
    r = client.get("/staff/assist/book/00000000000000?pincode=abc")
    assert r.status_code == 404


def test_other_roles_cannot_assist(client, database):
    make_user(database, "verifier@example.org", "verifier")
    staff_login(client, "verifier@example.org", STAFF_PASSWORD)
    assert client.get("/staff/assist").status_code == 403


def test_a_consent_code_logs_nobody_in(client, database, cowin_kit_instance, operator):
    """The code a citizen reads out to an operator is for consent only: the operator who
    heard it cannot use its txnId to log in as the citizen."""
    start(client)
    code = last_otp(cowin_kit_instance)
    with database.Session() as s:
        from cowin_kit.accounts.models import OtpTransaction

        txn = s.scalar(select(OtpTransaction.id).where(OtpTransaction.purpose == "assisted"))
    for path in ("/api/v2/auth/public/confirmOTP", "/api/v2/auth/confirmOTP"):
        r = client.post(path, json={"otp": sha(code), "txnId": txn})
        assert r.status_code == 400 and "token" not in r.get_json()
    assert type_code(client, code).status_code == 302  # still good for consent


def test_a_full_session_is_refused_with_the_reason_on_top(client, database, operator):
    from cowin_kit.scheduling.models import SessionCapacity

    session_id = session_today(database, "DEMO-PE-0001", day=TOMORROW, quota=3, capacity=1)
    with database.Session() as s:
        s.get(SessionCapacity, (session_id, 1)).booked = 1
        s.commit()
    start(client, action="attest", attest=True)
    register(client, "40123456")
    _page, r = book(client, reference_of(database, "Juana Mamani"), session_id)
    html = r.get_data(as_text=True)
    # The walk-in quota is for walk-ins at the centre, not for bookings made ahead.
    assert r.status_code == 400 and "This session has no places left for dose 1." in html
    assert 'class="error-summary"' in html
    with database.Session() as s:
        assert s.scalar(select(func.count()).select_from(Appointment)) == 0
