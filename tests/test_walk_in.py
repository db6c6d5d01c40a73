"""Walk-ins at a centre through the staff pages: a person found by their ID or registered on
the spot (with or without a mobile), then given a place in today's session: the walk-in
quota first, then the dose's capacity, then a clear refusal."""
import datetime as dt

import pytest
from sqlalchemy import func, select

from cowin_kit.accounts.models import CitizenAccount
from cowin_kit.db import utcnow
from cowin_kit.registration.models import Beneficiary
from cowin_kit.scheduling import places
from cowin_kit.scheduling.models import Appointment, VaccinationSession

from helpers import (
    STAFF_PASSWORD,
    TODAY,
    add_member,
    audit_rows,
    csrf,
    facility,
    facility_user_at,
    make_user,
    open_session,
    session_today,
    staff_login,
    web_login,
)

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def vaccinator(client, database):
    user_id = facility_user_at(database, "vax@example.org", "vaccinator", "DEMO-PE-0001")
    assert staff_login(client, "vax@example.org", STAFF_PASSWORD).status_code == 302
    return user_id


def find(client, number, query=""):
    page = client.get(f"/staff/walk-in{query}").get_data(as_text=True)
    return client.post(f"/staff/walk-in{query}", data={
        "id_type": "dni", "id_number": number, "csrf_token": csrf(page)})


def register(client, number, name="Rosa Huamán", year="1970", mobile="", query="", **more):
    r = find(client, number, query)
    assert r.status_code == 200 and "Register a walk-in" in r.get_data(as_text=True)
    return client.post(f"/staff/walk-in/register{query}", data={
        "id_type": "dni", "id_number": number, "name": name, "birth_year": year,
        "birth_date": "", "gender": "female", "language": "es", "mobile": mobile,
        "csrf_token": csrf(r.get_data(as_text=True)), **more})


def book(client, session_id, query="", move=False):
    page = client.get(f"/staff/walk-in/book{query}")
    assert page.status_code == 200, page.get_data(as_text=True)
    data = {"session_id": session_id, "csrf_token": csrf(page.get_data(as_text=True))}
    if move:
        data["move"] = "y"
    return client.post(f"/staff/walk-in/book{query}", data=data)


def appointments(database, session_id):
    with database.Session() as s:
        return s.scalars(select(Appointment).where(Appointment.session_id == session_id)
                         .order_by(Appointment.created_at)).all()


def drift(database):
    with database.Session() as s:
        return places.check_capacity(s)


def test_quota_first_then_capacity_then_a_clear_refusal(client, database, vaccinator):
    session_id = session_today(database, "DEMO-PE-0001", quota=1, capacity=1)
    for number in ("40123456", "40123457"):
        assert register(client, number).status_code == 302
        r = book(client, session_id)
        # A vaccinator goes on to record the dose in the same flow.
        assert r.status_code == 302 and "/staff/today/appointments/" in r.headers["Location"]
    first, second = appointments(database, session_id)
    assert (first.walk_in_place, second.walk_in_place) == (True, False)
    assert {a.source for a in (first, second)} == {"walk_in"}
    assert {a.booked_by for a in (first, second)} == {vaccinator}
    assert first.arrived_at is not None and first.dose_number == 1

    # The record page shows the person, the number masked.
    done = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Rosa Huamán" in done and "40123457" not in done and "Record the dose" in done

    assert register(client, "40123458").status_code == 302
    r = book(client, session_id)
    assert r.status_code == 400
    assert "No places left today in this session" in r.get_data(as_text=True)
    assert len(appointments(database, session_id)) == 2
    assert drift(database) == []
    with database.Session() as s:
        vs = s.get(VaccinationSession, session_id)
        assert (vs.walk_ins, vs.capacities[0].booked) == (1, 1)
        assert s.scalar(select(func.count()).select_from(Beneficiary).where(
            Beneficiary.account_id.is_(None))) == 3  # without a mobile: no account
    centre = facility(database, "DEMO-PE-0001")
    booked = audit_rows(database, "walk_in.booked")
    assert len(booked) == 2 and {e.division_id for e in booked} == {centre.division_id}
    assert booked[0].details["walk_in_place"] is True
    registered = audit_rows(database, "walk_in.registered")
    assert len(registered) == 3 and registered[0].details == {"mobile": False}
    assert not any("4012345" in str(e.details) for e in audit_rows(database))


def test_cancelling_walk_ins_gives_their_places_back(client, database, vaccinator):
    session_id = session_today(database, "DEMO-PE-0001", quota=1, capacity=1)
    for number in ("40123456", "40123457"):
        register(client, number)
        assert book(client, session_id).status_code == 302
    with database.Session() as s:
        locked = places.lock_appointments(s, [a.id for a in appointments(database,
                                                                          session_id)])
        assert len(places.release(s, locked)) == 2
        s.commit()
        vs = s.get(VaccinationSession, session_id)
        assert (vs.walk_ins, vs.capacities[0].booked) == (0, 0)
    assert drift(database) == []
    # The quota is free again for the next walk-in.
    register(client, "40123458")
    assert book(client, session_id).status_code == 302
    assert appointments(database, session_id)[-1].walk_in_place is True
    assert drift(database) == []


def test_a_person_registered_by_their_family_is_found_not_duplicated(
        app, client, database, cowin_kit_instance, vaccinator):
    citizen = app.test_client()
    web_login(citizen, cowin_kit_instance)
    assert add_member(citizen, "40123456", name="Ana Quispe").status_code == 302
    session_id = session_today(database, "DEMO-PE-0001")

    r = find(client, "40 123 456")  # as typed, with spaces: the provider's canonical form
    assert r.status_code == 302 and "/staff/walk-in/book" in r.headers["Location"]
    page = client.get("/staff/walk-in/book").get_data(as_text=True)
    assert "Ana Quispe" in page and "40123456" not in page  # masked
    # Registering the same number again finds the same person.
    page = client.get("/staff/walk-in/register").get_data(as_text=True)
    r = client.post("/staff/walk-in/register", data={
        "id_type": "dni", "id_number": "40123456", "name": "Someone Else",
        "birth_year": "1990", "gender": "male", "language": "es", "csrf_token": csrf(page)})
    assert r.status_code == 302
    assert book(client, session_id).status_code == 302
    with database.Session() as s:
        assert s.scalar(select(func.count()).select_from(Beneficiary)) == 1
        person = s.scalar(select(Beneficiary))
        assert person.name == "Ana Quispe" and person.account_id is not None
    assert len(audit_rows(database, "walk_in.found")) == 2
    assert audit_rows(database, "walk_in.registered") == []


def test_a_bad_id_number_is_shown_at_its_field(client, database, vaccinator):
    r = find(client, "10117410-3")  # a wrong check digit
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and 'id="id_number-error"' in html
    assert 'value="10117410-3"' in html  # what was typed is kept
    r = register(client, "40123456", name=" ", year="19x0")
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert 'id="name-error"' in html and 'id="birth_year-error"' in html
    assert 'value="19x0"' in html


def test_with_a_new_mobile_the_person_joins_its_account_within_the_family_limit(
        client, database, vaccinator):
    for i in range(4):
        r = register(client, f"4012346{i}", name=f"Person {i}", mobile="987 654 322")
        assert r.status_code == 302, r.get_data(as_text=True)
    with database.Session() as s:
        account = s.scalar(select(CitizenAccount).where(CitizenAccount.mobile == "+51987654322"))
        assert account is not None
        assert s.scalar(select(func.count()).select_from(Beneficiary).where(
            Beneficiary.account_id == account.id)) == 4
    r = register(client, "40123470", mobile="987654322")
    assert r.status_code == 400
    assert "already has 4 people registered" in r.get_data(as_text=True)
    r = register(client, "40123471", mobile="12")
    assert r.status_code == 400 and 'id="mobile-error"' in r.get_data(as_text=True)
    assert audit_rows(database, "walk_in.registered")[0].details == {"mobile": True}


def test_an_ineligible_person_is_refused_with_the_reason(client, database, vaccinator):
    session_id = session_today(database, "DEMO-PE-0001", min_age=18)
    register(client, "40123456", name="Niño Pérez", year=str(TODAY.year - 10))
    r = book(client, session_id)
    assert r.status_code == 400
    assert "Niño Pérez is not of an age for this session." in r.get_data(as_text=True)
    assert appointments(database, session_id) == []


def test_a_session_that_is_over_or_cancelled_is_refused(client, database, vaccinator,
                                                         cowin_kit_clock):
    cowin_kit_clock.set_local("America/Lima", dt.datetime.combine(TODAY, dt.time(12)))
    over = session_today(database, "DEMO-PE-0001", ends=dt.time(11, 59))
    cancelled = session_today(database, "DEMO-PE-0001", product_code="vaxzevria")
    with database.Session() as s:
        s.get(VaccinationSession, cancelled).cancelled_at = utcnow()
        s.commit()
    register(client, "40123456")
    page = client.get("/staff/walk-in/book").get_data(as_text=True)
    assert "No session is open at this centre now." in page
    for session_id, message in (
            (over, "This session is over for today."),
            (cancelled, "This session has been cancelled; choose another one.")):
        r = client.post("/staff/walk-in/book", data={"session_id": session_id,
                                                     "csrf_token": csrf(page)})
        assert r.status_code == 400 and message in r.get_data(as_text=True)
    assert drift(database) == []


def test_a_booking_elsewhere_is_moved_only_when_asked(app, client, database,
                                                      cowin_kit_instance, vaccinator):
    citizen = app.test_client()
    web_login(citizen, cowin_kit_instance)
    add_member(citizen, "40123456", name="Ana Quispe")
    future, slot, _pin = open_session(database)
    with database.Session() as s:
        person = s.scalar(select(Beneficiary))
        from cowin_kit.scheduling import booking

        old, = booking.schedule(s, account_id=person.account_id, beneficiary_ids=[person.id],
                                session_id=future.id, slot=slot, dose=1, today=TODAY)
        s.commit()
        old_id = old.id
    session_id = session_today(database, "DEMO-PE-0001", quota=1)
    find(client, "40123456")
    r = book(client, session_id)
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "Ana Quispe already has an appointment on" in html
    assert 'id="move-error"' in html
    assert book(client, session_id, move=True).status_code == 302
    with database.Session() as s:
        assert s.get(Appointment, old_id).status == "cancelled"
    assert len(appointments(database, session_id)) == 1
    assert drift(database) == []
    [cancel] = audit_rows(database, "appointment.cancelled")
    assert cancel.details["reason"] == "walk_in" and cancel.actor == f"staff:{vaccinator}"


def test_a_vaccinator_of_another_centre_is_refused_and_audited(client, database):
    facility_user_at(database, "other@example.org", "vaccinator", "DEMO-PE-0002")
    staff_login(client, "other@example.org", STAFF_PASSWORD)
    elsewhere = facility(database, "DEMO-PE-0001")
    assert client.get(f"/staff/walk-in?facility={elsewhere.id}").status_code == 403
    [denied] = audit_rows(database, "access.denied")
    assert denied.details["reason"] == "facility"
    # Their own centre works, and a session of another centre is not theirs to book.
    session_id = session_today(database, "DEMO-PE-0001")
    register(client, "40123456")
    r = book(client, session_id)
    assert r.status_code == 400 and "This session does not exist." in r.get_data(as_text=True)


def test_roles_without_walk_ins_are_refused(client, database):
    make_user(database, "calls@example.org", "call_centre")
    staff_login(client, "calls@example.org", STAFF_PASSWORD)
    assert client.get("/staff/walk-in").status_code == 403
    assert audit_rows(database, "access.denied")[0].details["reason"] == "role"


def test_an_administrator_chooses_a_centre_of_their_area(client, database):
    make_user(database, "lima@example.org", "district_admin", "1501")
    staff_login(client, "lima@example.org", STAFF_PASSWORD)
    page = client.get("/staff/walk-in")
    assert page.status_code == 200 and "Centre code" in page.get_data(as_text=True)
    r = client.get("/staff/walk-in?facility=NO-SUCH-CENTRE")
    assert r.status_code == 400 and "Choose a centre of your area." in r.get_data(as_text=True)
    ok = client.get("/staff/walk-in?facility=demo-pe-0001")
    assert ok.status_code == 200 and facility(database, "DEMO-PE-0001").name in ok.get_data(
        as_text=True)
    with database.Session() as s:
        from cowin_kit.geography.models import Division
        from cowin_kit.scheduling.models import Facility

        outside = s.scalar(select(Facility).join(Division).where(
            ~Division.code.startswith("1501")).order_by(Facility.id))
        outside_id = outside.id
    assert client.get(f"/staff/walk-in?facility={outside_id}").status_code == 403


def test_a_person_booked_here_today_keeps_their_appointment(app, client, database,
                                                             cowin_kit_instance, vaccinator):
    citizen = app.test_client()
    web_login(citizen, cowin_kit_instance)
    add_member(citizen, "40123456", name="Ana Quispe")
    session_id = session_today(database, "DEMO-PE-0001", quota=1, capacity=2)
    with database.Session() as s:
        from cowin_kit.scheduling import booking

        person = s.scalar(select(Beneficiary))
        booked, = booking.schedule(s, account_id=person.account_id,
                                   beneficiary_ids=[person.id], session_id=session_id,
                                   slot="00:00", dose=1, today=TODAY)
        s.commit()
        booked_id = booked.id
    find(client, "40123456")
    r = book(client, session_id)
    assert r.status_code == 302 and booked_id in r.headers["Location"]
    [kept] = appointments(database, session_id)
    assert kept.id == booked_id and kept.source == "online" and not kept.walk_in_place
    assert drift(database) == []


def test_a_service_centre_operator_hands_the_walk_in_over_with_the_secret_code(client,
                                                                               database):
    """A service-centre operator registers people at the door but does not vaccinate: the
    walk-in ends on a confirmation with the secret code the vaccinator finds them by, not on
    the record page (which the role may not open)."""
    make_user(database, "door@example.org", "service_centre", "1501")
    assert staff_login(client, "door@example.org", STAFF_PASSWORD).status_code == 302
    session_id = session_today(database, "DEMO-PE-0001", quota=1, capacity=1)
    query = "?facility=DEMO-PE-0001"
    assert register(client, "40123458", query=query).status_code == 302
    r = book(client, session_id, query=query)
    assert r.status_code == 302 and "/staff/walk-in/appointments/" in r.headers["Location"]
    [appointment] = appointments(database, session_id)
    done = client.get(r.headers["Location"]).get_data(as_text=True)
    assert appointment.secret_code in done and "40123458" not in done
    assert client.get(f"/staff/today/appointments/{appointment.id}").status_code == 403
