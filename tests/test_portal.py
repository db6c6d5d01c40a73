"""The citizen portal through the Flask test client: log in by OTP, register the family,
search, book, reschedule, cancel, slip; and every bad input a person could send."""
import datetime as dt

import pytest
from sqlalchemy import func, select

from cowin_kit.registration.models import Beneficiary
from cowin_kit.scheduling.models import Appointment, Facility, SessionCapacity, VaccinationSession
from cowin_kit.testing import Outbox, last_otp
from cowin_kit.vaccination.service import record_dose

from helpers import MOBILE, TODAY, add_member, csrf, open_session, reference, web_login

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def citizen(client, cowin_kit_instance):
    return web_login(client, cowin_kit_instance)


def test_login_shows_the_family_page_and_logout_ends_it(client, cowin_kit_instance):
    assert client.get("/portal/").headers["Location"].startswith("/portal/login")
    web_login(client, cowin_kit_instance)
    page = client.get("/portal/")
    assert page.status_code == 200 and "Nobody is registered yet" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "private, no-store"
    r = client.post("/portal/logout", data={"csrf_token": csrf(page.get_data(as_text=True))})
    assert r.status_code == 302
    assert client.get("/portal/").status_code == 302  # the token was revoked


def test_login_refuses_bad_numbers_and_codes(client, cowin_kit_instance):
    page = client.get("/portal/login").get_data(as_text=True)
    r = client.post("/portal/login", data={"mobile": "12ab", "csrf_token": csrf(page)})
    text = r.get_data(as_text=True)
    assert r.status_code == 400 and "valid mobile number" in text and 'aria-invalid="true"' in text
    r = client.post("/portal/login", data={"mobile": MOBILE})  # no CSRF token
    assert r.status_code == 400 and "has expired or was sent from another site" in \
        r.get_data(as_text=True)
    assert Outbox(cowin_kit_instance).messages() == []  # nothing was sent

    client.post("/portal/login", data={"mobile": MOBILE, "csrf_token": csrf(page)})
    page = client.get("/portal/login/code").get_data(as_text=True)
    token = csrf(page)
    r = client.post("/portal/login/code", data={"code": "12", "csrf_token": token})
    assert r.status_code == 400 and "6 digits" in r.get_data(as_text=True)
    wrong = "000000" if last_otp(cowin_kit_instance) != "000000" else "111111"
    for _ in range(3):
        r = client.post("/portal/login/code", data={"code": wrong, "csrf_token": token})
        assert r.status_code == 400 and "Incorrect OTP" in r.get_data(as_text=True)
    # Three wrong tries: even the right code is refused now, and a new one must be asked for.
    r = client.post("/portal/login/code", data={"code": last_otp(cowin_kit_instance),
                                                "csrf_token": token})
    assert r.status_code == 400 and "Too many tries" in r.get_data(as_text=True)
    assert 'name="code"' not in r.get_data(as_text=True)  # only "Send a new code" is left
    r = client.post("/portal/login/code", data={"code": last_otp(cowin_kit_instance),
                                                "csrf_token": token})
    assert r.status_code == 302 and r.headers["Location"].endswith("/portal/login")
    assert client.get("/portal/").status_code == 302  # not logged in


def test_the_whole_journey(citizen, database, cowin_kit_instance):
    r = add_member(citizen, "40123456")
    assert r.status_code == 302
    page = citizen.get("/portal/").get_data(as_text=True)
    assert "Ana Quispe is registered" in page and "XXXXXX56" in page
    assert "40123456" not in page  # the ID number is shown masked only
    ref = reference(database)
    assert ref in page

    vs, slot, pincode = open_session(database)
    found = citizen.get(f"/portal/search?by=pincode&pincode={pincode}&for={ref}")
    text = found.get_data(as_text=True)
    assert found.status_code == 200 and vs.id in text and "Booking for: Ana Quispe" in text
    r = citizen.post("/portal/book", data={"session_id": vs.id, "slot": slot, "members": ref,
                                           "csrf_token": csrf(text), "back": "/portal/search"})
    assert r.status_code == 302, r.data
    appointment_url = r.headers["Location"]
    slip_page = citizen.get(appointment_url).get_data(as_text=True)
    assert "Appointment slip" in slip_page and "<svg" in slip_page
    with database.session() as s:
        booked = s.scalar(select(Appointment).where(Appointment.status == "booked"))
        assert booked.session_id == vs.id
        assert booked.secret_code in slip_page
    pdf = citizen.get(appointment_url + "/slip.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")

    # Reschedule to another session with places, through the search page in "move" mode.
    with database.session() as s:
        other = s.scalar(select(VaccinationSession).join(SessionCapacity).join(Facility).where(
            Facility.postal_code.is_not(None),
            VaccinationSession.date > TODAY, VaccinationSession.id != vs.id,
            VaccinationSession.max_age.is_(None),
            VaccinationSession.min_age <= 40, SessionCapacity.dose_number == 1,
            SessionCapacity.capacity > SessionCapacity.booked))
        other_id, other_pin = other.id, other.facility.postal_code
        other_slot = f"{other.slots[-1].starts:%I:%M%p}-{other.slots[-1].ends:%I:%M%p}"
    move_page = citizen.get(f"/portal/search?by=pincode&pincode={other_pin}"
                            f"&move={booked.id}").get_data(as_text=True)
    assert "Choose a new time for Ana Quispe" in move_page
    r = citizen.post(f"/portal/appointments/{booked.id}/reschedule", data={
        "session_id": other_id, "slot": other_slot, "csrf_token": csrf(move_page)})
    assert r.status_code == 302
    with database.session() as s:
        moved = s.get(Appointment, booked.id)
        assert moved.session_id == other_id and moved.reschedule_count == 1
        booked_before = s.get(SessionCapacity, (vs.id, 1)).booked

    cancel_page = citizen.get(f"/portal/appointments/{booked.id}/cancel").get_data(as_text=True)
    r = citizen.post(f"/portal/appointments/{booked.id}/cancel",
                     data={"csrf_token": csrf(cancel_page)})
    assert r.status_code == 302
    assert "The appointment is cancelled" in citizen.get("/portal/").get_data(as_text=True)
    with database.session() as s:
        assert s.get(Appointment, booked.id).status == "cancelled"
        assert s.get(SessionCapacity, (other_id, 1)).booked == 0
        assert s.get(SessionCapacity, (vs.id, 1)).booked == booked_before


def test_member_form_names_the_wrong_field(citizen):
    r = add_member(citizen, "12", name=" ", year="19x0")
    text = r.get_data(as_text=True)
    assert r.status_code == 400
    assert "Please correct the following" in text
    assert 'href="#name"' in text and 'href="#birth_year"' in text
    r = add_member(citizen, "10117410-3")  # a DNI with a wrong check digit
    text = r.get_data(as_text=True)
    assert r.status_code == 400 and "check digit" in text and 'id="id_number-error"' in text
    assert 'value="Ana Quispe"' in text  # what was typed is kept
    r = add_member(citizen, "40123456", year="1800")
    assert r.status_code == 400 and "year of birth between" in r.get_data(as_text=True)


def test_family_limit_duplicates_edit_and_delete(citizen, client, cowin_kit_instance, database):
    for i in range(4):
        assert add_member(citizen, f"4012346{i}", name=f"Person {i}").status_code == 302
    r = add_member(citizen, "40123470")
    assert r.status_code == 400 and "the most allowed" in r.get_data(as_text=True)
    page = citizen.get("/portal/").get_data(as_text=True)
    assert "Add a member" not in page and "has the most people allowed" in page

    ref = reference(database)
    form = citizen.get(f"/portal/members/{ref}/edit").get_data(as_text=True)
    assert 'value="Person 3"' in form and 'name="id_number"' not in form
    r = citizen.post(f"/portal/members/{ref}/edit", data={
        "name": "Person Three", "birth_year": "1975", "gender": "other",
        "priority_groups": ["teachers"], "csrf_token": csrf(form)})
    assert r.status_code == 400 and "not one of the deployment" not in r.get_data(as_text=True)
    r = citizen.post(f"/portal/members/{ref}/edit", data={
        "name": "Person Three", "birth_year": "1975", "gender": "other",
        "priority_groups": ["health-workers"], "csrf_token": csrf(form)})
    assert r.status_code == 302
    with database.session() as s:
        person = s.scalar(select(Beneficiary).where(Beneficiary.reference_id == ref))
        assert (person.name, person.birth_year, person.gender, person.priority_groups) == (
            "Person Three", 1975, "other", ["health-workers"])
        record_dose(s, beneficiary_id=person.id, dose_number=1, product=1,
                    given_on=TODAY)
        s.commit()
    r = citizen.post(f"/portal/members/{ref}/edit", data={
        "name": "X", "birth_year": "1975", "gender": "other", "csrf_token": csrf(form)})
    assert r.status_code == 400 and "recorded dose cannot be changed" in r.get_data(as_text=True)
    r = citizen.post(f"/portal/members/{ref}/delete", data={"csrf_token": csrf(form)})
    assert "recorded dose cannot be deleted" in citizen.get("/portal/").get_data(as_text=True)

    first = None
    with database.session() as s:
        first = s.scalars(select(Beneficiary.reference_id).order_by(Beneficiary.id)).first()
    delete_page = citizen.get(f"/portal/members/{first}/delete").get_data(as_text=True)
    assert "Remove Person 0?" in delete_page
    assert citizen.post(f"/portal/members/{first}/delete",
                        data={"csrf_token": csrf(delete_page)}).status_code == 302
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Beneficiary)) == 3
    assert add_member(citizen, "40123470").status_code == 302  # a place is free again


def test_nobody_reaches_anothers_people(client, cowin_kit_instance, database):
    web_login(client, cowin_kit_instance)
    add_member(client, "40123456")
    ref = reference(database)
    vs, slot, pincode = open_session(database)
    page = client.get(f"/portal/search?by=pincode&pincode={pincode}&for={ref}").get_data(
        as_text=True)
    client.post("/portal/book", data={"session_id": vs.id, "slot": slot, "members": ref,
                                      "csrf_token": csrf(page)})
    with database.session() as s:
        appointment_id = s.scalar(select(Appointment.id))
    client.post("/portal/logout", data={"csrf_token": csrf(page)})

    web_login(client, cowin_kit_instance, "987000999")
    token = csrf(client.get("/portal/").get_data(as_text=True))
    for url in (f"/portal/members/{ref}/edit", f"/portal/members/{ref}/delete",
                f"/portal/appointments/{appointment_id}",
                f"/portal/appointments/{appointment_id}/slip.pdf",
                f"/portal/appointments/{appointment_id}/cancel",
                f"/portal/search?for={ref}", f"/portal/search?move={appointment_id}",
                "/portal/appointments/not-a-uuid"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/portal/members/{ref}/delete",
                       data={"csrf_token": token}).status_code == 404
    assert client.post("/portal/book", data={"session_id": vs.id, "slot": slot, "members": ref,
                                             "csrf_token": token}).status_code == 404
    assert client.post(f"/portal/appointments/{appointment_id}/reschedule", data={
        "session_id": vs.id, "slot": slot, "csrf_token": token}).status_code == 404
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Beneficiary)) == 1
        assert s.get(Appointment, appointment_id).status == "booked"


def test_booking_refusals_are_explained(citizen, database):
    add_member(citizen, "40123456", year=str(TODAY.year - 1))  # a baby
    ref = reference(database)
    vs, slot, pincode = open_session(database)
    page = citizen.get(f"/portal/search?by=pincode&pincode={pincode}&for={ref}").get_data(
        as_text=True)
    back = f"/portal/search?by=pincode&pincode={pincode}&for={ref}"
    r = citizen.post("/portal/book", data={"session_id": vs.id, "slot": slot, "members": ref,
                                           "csrf_token": csrf(page), "back": back})
    assert r.status_code == 302 and r.headers["Location"] == back
    assert "is not of an age for this session" in citizen.get(back).get_data(as_text=True)
    r = citizen.post("/portal/book", data={"session_id": vs.id, "slot": "11:11PM-11:12PM",
                                           "members": ref, "csrf_token": csrf(page),
                                           "back": "https://evil.example/"})
    assert r.status_code == 302 and r.headers["Location"] == "/portal/search"  # no open redirect
    assert "Choose a time" in citizen.get("/portal/search").get_data(as_text=True)
    r = citizen.post("/portal/book", data={"session_id": vs.id, "slot": slot, "members": ref})
    assert r.status_code == 302
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Appointment)) == 0


def test_search_without_login_and_its_bad_inputs(client, database):
    vs, _slot, pincode = open_session(database)
    r = client.get(f"/portal/search?by=pincode&pincode={pincode}")
    text = r.get_data(as_text=True)
    assert r.status_code == 200 and "To book, log in first" in text
    assert 'action="/portal/book"' not in text  # no booking forms for a visitor
    assert "centre" in text and vs.facility_name in text
    r = client.get("/portal/search?by=pincode&pincode=abc")
    assert r.status_code == 400 and "postal code of this country" in r.get_data(as_text=True)
    r = client.get(f"/portal/search?by=pincode&pincode={pincode}&date=31-31-2020")
    assert r.status_code == 400 and "Enter a date" in r.get_data(as_text=True)
    r = client.get(f"/portal/search?by=pincode&pincode={pincode}&age=old")
    assert r.status_code == 400
    r = client.get("/portal/search?by=district&district=999999")
    assert r.status_code == 400 and "Choose a district" in r.get_data(as_text=True)
    # Filters narrow the results: no demo session vaccinates a baby (SPR is from one year).
    r = client.get(f"/portal/search?by=pincode&pincode={pincode}&age=0")
    assert "No sessions match" in r.get_data(as_text=True)


def test_search_by_district_lists_states_then_districts(client, database):
    from cowin_kit.geography.models import Division

    vs, _slot, _pin = open_session(database)
    with database.session() as s:
        facility_division = s.get(Division, vs.division_id)
        district = facility_division if facility_division.level == 2 else facility_division.parent
        state_id, district_id = district.parent_id, district.id
    page = client.get(f"/portal/search?by=district&state={state_id}").get_data(as_text=True)
    assert f'<option value="{district_id}"' in page
    page = client.get(f"/portal/search?by=district&state={state_id}&district={district_id}")
    assert vs.id not in page.get_data(as_text=True)  # a visitor sees no session ids to book
    assert vs.facility_name in page.get_data(as_text=True)


def test_portal_pages_follow_the_language(citizen):
    page = citizen.get("/portal/?lang=es").get_data(as_text=True)
    assert 'lang="es"' in page and "Mi familia" in page


def test_pages_have_their_own_titles(citizen):
    for url, title in (("/portal/", "My family"), ("/portal/members/new", "Add a member"),
                       ("/portal/search", "Find a centre")):
        page = citizen.get(url).get_data(as_text=True)
        assert f"<title>{title}</title>" in page, url


def test_the_chosen_language_is_kept_for_the_sms(citizen, database):
    from cowin_kit.accounts.models import CitizenAccount

    with database.session() as s:
        assert s.scalar(select(CitizenAccount.language)) == "en"  # the language at login
    citizen.get("/portal/?lang=es")
    with database.session() as s:  # a GET (which any link can make) changes nothing stored
        assert s.scalar(select(CitizenAccount.language)) == "en"
    add_member(citizen, "40123456")  # the next thing the person does keeps the language
    with database.session() as s:
        assert s.scalar(select(CitizenAccount.language)) == "es"


def test_sending_codes_is_limited_per_connection(client):
    token = csrf(client.get("/portal/login").get_data(as_text=True))
    statuses = [client.post("/portal/login", data={"mobile": f"98765{i:04d}",
                                                   "csrf_token": token}).status_code
                for i in range(22)]
    assert statuses[0] == 302 and statuses[-1] == 429
    page = client.post("/portal/login", data={"mobile": "987650000", "csrf_token": token})
    assert page.status_code == 429 and "Too many attempts" in page.get_data(as_text=True)


def test_behind_a_proxy_limits_count_each_visitor(cowin_kit_instance):
    """With PROXY_FIX_HOPS, the forwarded address is the visitor's: one busy visitor does
    not lock everyone else out of logging in (without it, everyone is the proxy)."""
    from cowin_kit.app import create_app

    def statuses(app, addresses, first=0):
        client = app.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        token = csrf(client.get("/portal/login").get_data(as_text=True))
        return [client.post("/portal/login", headers={"X-Forwarded-For": address},
                            data={"mobile": f"98765{i:04d}", "csrf_token": token}).status_code
                for i, address in enumerate(addresses, start=first)]

    busy = ["203.0.113.7"] * 21
    behind = create_app({"INSTANCE_PATH": cowin_kit_instance, "TESTING": True,
                         "PROXY_FIX_HOPS": 1})
    assert statuses(behind, busy)[-1] == 429
    assert statuses(behind, ["198.51.100.9"], first=100) == [302]  # others still get codes


def test_odd_input_is_refused_not_a_crash(citizen, client, cowin_kit_instance, database):
    vs, _slot, pincode = open_session(database)
    r = citizen.get(f"/portal/search?pincode={pincode}&date=9999-12-26")
    assert r.status_code == 400 and "within the next year" in r.get_data(as_text=True)
    r = add_member(citizen, "40123456", name="A\x00B")
    assert r.status_code == 400 and "Enter the name as on the ID document" in \
        r.get_data(as_text=True)
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Beneficiary)) == 0


def test_a_crafted_next_address_is_ignored(client, cowin_kit_instance):
    page = client.get("/portal/login?next=/portal/%0d%0aX-Evil:%201").get_data(as_text=True)
    client.post("/portal/login?next=/portal/%0d%0aX-Evil:%201",
                data={"mobile": MOBILE, "csrf_token": csrf(page)})
    page = client.get("/portal/login/code").get_data(as_text=True)
    r = client.post("/portal/login/code", data={"code": last_otp(cowin_kit_instance),
                                                "csrf_token": csrf(page)})
    assert r.status_code == 302 and r.headers["Location"] == "/portal/"
    assert "X-Evil" not in r.headers


def test_logout_without_a_valid_form_changes_nothing(citizen):
    r = citizen.post("/portal/logout", data={"csrf_token": "forged"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/portal/")
    page = citizen.get("/portal/").get_data(as_text=True)
    assert page and "has expired or was sent from another site" in page  # still logged in


def test_adding_members_is_limited_per_account(citizen):
    statuses = [add_member(citizen, f"4012{i:04d}", name="Ana").status_code for i in range(21)]
    assert statuses[-1] == 429 and 429 not in statuses[:4]


def test_a_missed_appointment_does_not_block_booking_again(citizen, database, monkeypatch):
    add_member(citizen, "40123456")
    ref = reference(database)
    vs, slot, pincode = open_session(database)
    page = citizen.get(f"/portal/search?pincode={pincode}&for={ref}").get_data(as_text=True)
    citizen.post("/portal/book", data={"session_id": vs.id, "slot": slot, "members": ref,
                                       "csrf_token": csrf(page)})
    with database.session() as s:
        session_day = s.get(VaccinationSession, vs.id).date
    later = dt.datetime.combine(session_day + dt.timedelta(days=2), dt.time(12))
    import cowin_kit.portal.views as views

    monkeypatch.setattr(views, "now", lambda: later.replace(
        tzinfo=dt.datetime.now().astimezone().tzinfo))
    family = citizen.get("/portal/").get_data(as_text=True)
    assert "was missed" in family and "Book dose 1" in family and "Reschedule" not in family


def test_editing_details_that_break_the_booking_is_refused(citizen, database):
    add_member(citizen, "40123456", year="1980")
    ref = reference(database)
    vs, slot, pincode = open_session(database, min_age=18)
    page = citizen.get(f"/portal/search?pincode={pincode}&for={ref}").get_data(as_text=True)
    citizen.post("/portal/book", data={"session_id": vs.id, "slot": slot, "members": ref,
                                       "csrf_token": csrf(page)})
    form = citizen.get(f"/portal/members/{ref}/edit").get_data(as_text=True)
    r = citizen.post(f"/portal/members/{ref}/edit", data={
        "name": "Ana Quispe", "birth_year": str(TODAY.year - 1), "gender": "female",
        "csrf_token": csrf(form)})
    text = r.get_data(as_text=True)
    assert r.status_code == 400 and "could not keep the booked appointment" in text
    assert "not of an age for this session" in text
    with database.session() as s:
        assert s.scalar(select(Beneficiary.birth_year)) == 1980


def test_later_boosters_can_be_searched_for():
    """Profiles with a dose 4 (MX, VN): its places appear in search answers and filters."""
    from cowin_kit.programmes.models import Product
    from cowin_kit.scheduling.search import Filters, filter_centres, session_fields

    vs = VaccinationSession(id="s", date=dt.date(2030, 1, 2), min_age=18, max_age=None, fee=0,
                            walk_in=True)
    vs.capacities = [SessionCapacity(dose_number=1, capacity=10, booked=10),
                     SessionCapacity(dose_number=4, capacity=5, booked=1)]
    vs.slots = []
    fields = session_fields(vs, Product(name="Abdala"))
    assert fields["available_capacity_dose4"] == 4 and fields["available_capacity_dose1"] == 0
    centre = {"fee_type": "Free", "sessions": [fields]}
    assert filter_centres([centre], Filters(dose=4)) == [centre]
    assert filter_centres([centre], Filters(dose=1)) == []
