"""The minimal staff pages through the Flask test client: log in, the area, adding and
importing sessions, CSRF, roles, and the audit log."""
import datetime as dt

import pytest
from sqlalchemy import select

from cowin_kit.accounts.models import StaffUser
from cowin_kit.programmes.models import Product
from cowin_kit.scheduling.models import Facility, VaccinationSession
from cowin_kit.testing import ADMIN_EMAIL, ADMIN_PASSWORD

from helpers import (
    LATER,
    STAFF_PASSWORD as PASSWORD,
    TODAY,
    audit_rows,
    csrf,
    facility,
    make_user,
    staff_login as login,
)

pytestmark = pytest.mark.usefixtures("english")


def sessions_on(database, code, day):
    with database.Session() as s:
        return s.scalars(select(VaccinationSession).join(Facility).where(
            Facility.code == code, VaccinationSession.date == day)).all()


@pytest.fixture
def lima_admin(client, database):
    """A district administrator of Lima (province 1501), which holds centres 0001-0010."""
    make_user(database, "lima@example.org", "district_admin", "1501")
    assert login(client, "lima@example.org", PASSWORD).status_code == 302
    return client


# --- logging in ----------------------------------------------------------------------------

def test_login_page_is_accessible_and_login_works(client, database):
    page = client.get("/staff/login")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert '<label for="email">E-mail address</label>' in html
    assert '<label for="password">Password</label>' in html
    assert 'autocomplete="current-password"' in html
    r = login(client, ADMIN_EMAIL.upper(), ADMIN_PASSWORD)  # e-mail case does not matter
    assert r.status_code == 302 and r.headers["Location"].endswith("/staff/")
    home = client.get("/staff/")
    assert home.status_code == 200 and "18 centres in the whole country" in home.get_data(
        as_text=True)
    assert client.get("/staff/login").status_code == 302  # already logged in
    [event] = audit_rows(database, "staff.login")
    assert event.actor.startswith("staff:") and event.target.startswith("staff_user:")


@pytest.mark.parametrize("email,password", [(ADMIN_EMAIL, "wrong-password-1234"),
                                            ("nobody@example.org", ADMIN_PASSWORD)])
def test_wrong_credentials_get_one_generic_message(client, database, email, password):
    r = login(client, email, password)
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert "The e-mail address or the password is not right." in html
    assert "<title>Error: Staff log in" in html
    assert client.get("/staff/").status_code == 302  # not logged in
    [event] = audit_rows(database, "staff.login_failed")
    assert "@" not in f"{event.actor} {event.target} {event.details}"


def test_empty_login_fields_are_named(client):
    page = client.get("/staff/login").get_data(as_text=True)
    r = client.post("/staff/login", data={"email": "", "password": "",
                                          "csrf_token": csrf(page)})
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert 'id="email-error"' in html and "Enter your e-mail address." in html
    assert 'aria-invalid="true"' in html and 'href="#password"' in html


def test_inactive_users_cannot_log_in(client, database):
    user_id = make_user(database, "gone@example.org", "district_admin", "1501")
    with database.Session() as s:
        s.get(StaffUser, user_id).is_active = False
        s.commit()
    assert login(client, "gone@example.org", PASSWORD).status_code == 400


def test_login_is_rate_limited_per_ip(client):
    """20 tries a minute per address, the password and the two-step code steps together."""
    page = client.get("/staff/login").get_data(as_text=True)
    codes = [client.post("/staff/login", data={"email": "x@example.org", "password": "nope",
                                               "csrf_token": csrf(page)}).status_code
             for _ in range(15)]
    codes += [client.post("/staff/login/code", data={"code": "123456"}).status_code
              for _ in range(5)]
    assert codes[:15] == [400] * 15 and 429 not in codes, codes
    r = client.post("/staff/login", data={"email": "x@example.org", "password": "nope"})
    assert r.status_code == 429 and "Too many attempts" in r.get_data(as_text=True)
    assert client.post("/staff/login/code", data={"code": "123456"}).status_code == 429


def test_pages_need_a_login(client):
    for path in ("/staff/", "/staff/centres/1", "/staff/sessions/import", "/staff/password"):
        r = client.get(path)
        assert r.status_code == 302 and r.headers["Location"].endswith("/staff/login"), path


def test_logout_ends_the_session(admin, database):
    page = admin.get("/staff/").get_data(as_text=True)
    assert "Log out" in page
    r = admin.post("/staff/logout", data={"csrf_token": csrf(page)})
    assert r.status_code == 302 and r.headers["Location"].endswith("/staff/login")
    assert "You have logged out." in admin.get("/staff/login").get_data(as_text=True)
    assert admin.get("/staff/").status_code == 302
    assert audit_rows(database, "staff.logout")


# --- changing the password ------------------------------------------------------------------

def test_a_new_user_must_change_the_password_first(client, database):
    make_user(database, "new@example.org", "state_admin", "PE-LMA", must_change=True)
    r = login(client, "new@example.org", PASSWORD)
    assert r.status_code == 302 and r.headers["Location"].endswith("/staff/password")
    for path in ("/staff/", "/staff/sessions/import"):
        assert client.get(path).headers["Location"].endswith("/staff/password")
    page = client.get("/staff/password").get_data(as_text=True)
    assert "Choose a password of your own before you go on." in page

    def change(current, new, confirm):
        return client.post("/staff/password", data={"current": current, "new": new,
                                                    "confirm": confirm,
                                                    "csrf_token": csrf(page)})

    short = change(PASSWORD, "short", "short")
    assert short.status_code == 400 and "at least 12 characters" in short.get_data(as_text=True)
    wrong = change("not-my-password", "another-long-password", "another-long-password")
    assert wrong.status_code == 400
    assert "The current password is not right." in wrong.get_data(as_text=True)
    differ = change(PASSWORD, "another-long-password", "another-long-passwort")
    assert "The two new passwords are not the same." in differ.get_data(as_text=True)
    same = change(PASSWORD, PASSWORD, PASSWORD)
    assert "other than the current one" in same.get_data(as_text=True)
    done = change(PASSWORD, "another-long-password", "another-long-password")
    assert done.status_code == 302 and done.headers["Location"].endswith("/staff/")
    assert client.get("/staff/").status_code == 200
    with database.Session() as s:
        user = s.scalar(select(StaffUser).where(StaffUser.email == "new@example.org"))
        assert user.must_change_password is False
    assert audit_rows(database, "staff.password_changed")


def test_a_changed_password_ends_other_sessions(app, admin, database):
    other = app.test_client()
    assert login(other).status_code == 302
    page = admin.get("/staff/password").get_data(as_text=True)
    r = admin.post("/staff/password", data={
        "current": ADMIN_PASSWORD, "new": "a-brand-new-password", "confirm":
        "a-brand-new-password", "csrf_token": csrf(page)})
    assert r.status_code == 302
    assert admin.get("/staff/").status_code == 200  # this browser stays logged in
    assert other.get("/staff/").status_code == 302  # the other one is logged out


# --- roles and areas --------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["vaccinator", "call_centre"])
def test_other_roles_are_refused(client, database, role):
    make_user(database, "v@example.org", role, "1501")
    assert login(client, "v@example.org", PASSWORD).status_code == 302
    # The staff start page sends every role to its own first page, not a refusal.
    assert client.get("/staff/").status_code == 302
    paths = ("/staff/sessions/import",
             f"/staff/centres/{facility(database, 'DEMO-PE-0001').id}")
    for path in paths:
        r = client.get(path)
        assert r.status_code == 403, path
        assert "Your role cannot use these pages." in r.get_data(as_text=True)
    # Each refusal is in the audit log, with the page that was tried.
    assert [e.target for e in audit_rows(database, "access.denied")] == list(paths)


def test_a_district_admin_sees_only_the_area(lima_admin, database):
    html = lima_admin.get("/staff/").get_data(as_text=True)
    assert "10 centres in Lima." in html
    assert "DEMO-PE-0001" in html and "DEMO-PE-0016" not in html  # Arequipa
    arequipa = facility(database, "DEMO-PE-0016").id
    assert lima_admin.get(f"/staff/centres/{arequipa}").status_code == 404
    page = lima_admin.get(f"/staff/centres/{facility(database, 'DEMO-PE-0001').id}")
    assert page.status_code == 200
    r = lima_admin.post(f"/staff/centres/{arequipa}", data={
        "date": LATER.isoformat(), "product": "1", "min_age": "18", "capacity_dose1": "10",
        "slots": "09:00-11:00", "csrf_token": csrf(page.get_data(as_text=True))})
    assert r.status_code == 404
    assert sessions_on(database, "DEMO-PE-0016", LATER) == []
    assert lima_admin.get("/staff/centres/999999").status_code == 404


def test_a_state_admin_sees_the_states_descendants(client, database):
    make_user(database, "are@example.org", "state_admin", "PE-ARE")
    assert login(client, "are@example.org", PASSWORD).status_code == 302
    html = client.get("/staff/").get_data(as_text=True)
    assert "3 centres in Arequipa." in html
    assert "DEMO-PE-0016" in html and "DEMO-PE-0001" not in html


def test_centres_are_paged(admin):
    first = admin.get("/staff/").get_data(as_text=True)
    assert "Page 1 of 1" not in first  # 18 centres fit on one page
    assert admin.get("/staff/?page=7").status_code == 200  # out of range: the last page


# --- CSRF ---------------------------------------------------------------------------------------

def test_forms_without_a_csrf_token_are_refused(admin, client, database):
    centre_id = facility(database, "DEMO-PE-0001").id
    for path, data in [("/staff/login", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}),
                       (f"/staff/centres/{centre_id}", {
                           "date": LATER.isoformat(), "product": "1", "min_age": "18",
                           "capacity_dose1": "10", "slots": "09:00-11:00"}),
                       ("/staff/sessions/import", {}),
                       ("/staff/password", {"current": ADMIN_PASSWORD, "new": "x" * 20,
                                            "confirm": "x" * 20}),
                       ("/staff/logout", {})]:
        for token in (None, "forged-token"):
            sent = dict(data, **({"csrf_token": token} if token else {}))
            r = client.post(path, data=sent)
            assert r.status_code == 400, (path, token)
            assert "This form has expired or did not come from this site" in r.get_data(
                as_text=True)
    assert sessions_on(database, "DEMO-PE-0001", LATER) == []
    assert client.get("/staff/").status_code == 200  # still logged in: logout was refused


def test_the_json_api_needs_no_csrf_token(client):
    # flask-wtf guards the staff forms one by one; no global CSRF check reaches the API.
    r = client.post("/api/v2/auth/public/generateOTP", json={"mobile": "987654321"})
    assert r.status_code == 200 and "txnId" in r.get_json()


# --- adding a session ---------------------------------------------------------------------------

def _form(client, centre_id, **values):
    page = client.get(f"/staff/centres/{centre_id}").get_data(as_text=True)
    data = {"date": LATER.isoformat(), "product": "2", "min_age": "12", "max_age": "",
            "capacity_dose1": "40", "capacity_dose2": "20", "capacity_dose3": "",
            "slots": "09:00-11:00, 11:00-13:00", "csrf_token": csrf(page)}
    data.update(values)
    return client.post(f"/staff/centres/{centre_id}", data=data)


def test_add_a_session(lima_admin, database):
    centre_id = facility(database, "DEMO-PE-0001").id
    page = lima_admin.get(f"/staff/centres/{centre_id}").get_data(as_text=True)
    assert 'name="fee"' not in page  # a free centre has no fee field
    for label in ("Date", "Vaccine", "Minimum age (years)", "Dose 1", "Time slots"):
        assert f">{label}</label>" in page, label
    r = _form(lima_admin, centre_id)
    assert r.status_code == 302
    assert r.headers["Location"].endswith(f"/staff/centres/{centre_id}#main")
    [vs] = sessions_on(database, "DEMO-PE-0001", LATER)
    with database.Session() as s:
        vs = s.get(VaccinationSession, vs.id)
        assert ({c.dose_number: c.capacity for c in vs.capacities}, vs.min_age, vs.max_age,
                float(vs.fee)) == ({1: 40, 2: 20}, 12, None, 0.0)
        assert [(x.starts.isoformat("minutes"), x.ends.isoformat("minutes"))
                for x in vs.slots] == [("09:00", "11:00"), ("11:00", "13:00")]
    html = lima_admin.get(f"/staff/centres/{centre_id}").get_data(as_text=True)
    assert "The session on" in html and "has been added" in html
    assert "Dose 1: 40 of 40 left" in html
    [event] = audit_rows(database, "session.created")
    assert event.target == f"session:{vs.id}" and event.actor.startswith("staff:")
    assert event.details == {"facility": "DEMO-PE-0001", "date": LATER.isoformat(),
                             "vaccine": "comirnaty", "capacities": {"1": 40, "2": 20},
                             "slots": 2}


@pytest.mark.parametrize("values,field,message", [
    ({"date": ""}, "date", "Enter the date."),
    ({"date": "31-02-2030"}, "date", "Enter a real date"),
    ({"date": (TODAY - dt.timedelta(days=1)).isoformat()}, "date",
     "The date must be today or later."),
    ({"date": "9999-12-31"}, "date", "Choose a date within the next year."),
    ({"product": "999"}, "product", "Choose one of the vaccines offered."),
    ({"product": "x"}, "product", "Choose one of the vaccines offered."),
    ({"min_age": ""}, "min_age", "Enter the minimum age."),
    ({"min_age": "twelve"}, "min_age", "Enter a whole number"),
    ({"min_age": "121"}, "min_age", "Enter an age from 0 to 120."),
    ({"max_age": "10"}, "max_age", "The maximum age must be a whole number from the minimum"),
    ({"capacity_dose1": "-3"}, "capacity_dose1", "Enter a whole number"),
    ({"capacity_dose1": "", "capacity_dose2": ""}, "capacity",
     "Give a capacity of 0 or more for at least one dose."),
    ({"capacity_dose1": "0", "capacity_dose2": "0"}, "capacity",
     "Give at least one dose a capacity above 0."),
    ({"slots": ""}, "slots", "Enter at least one time slot."),
    ({"slots": "9 to 11"}, "slots", "like 09:00-11:00"),
    ({"slots": "25:00-26:00"}, "slots", "is not a time of day"),
    ({"slots": "11:00-09:00"}, "slots", "A slot must end after it starts."),
    ({"slots": "09:00-11:00, 10:00-12:00"}, "slots", "Slots must not overlap."),
])
def test_bad_session_values_are_shown_at_their_field(lima_admin, database, values, field,
                                                      message):
    centre_id = facility(database, "DEMO-PE-0001").id
    r = _form(lima_admin, centre_id, **values)
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert f'id="{field}-error"' in html and message in html, html[html.find("problem"):][:800]
    assert f'href="#{field}"' in html  # the summary links to the field
    assert sessions_on(database, "DEMO-PE-0001", LATER) == []
    assert not audit_rows(database, "session.created")


def test_a_capacity_for_a_dose_the_vaccine_lacks(lima_admin, database):
    with database.Session() as s:  # make it a one-dose vaccine
        product = s.scalar(select(Product).where(Product.code == "spikevax"))
        for rule in [r for r in product.doses if r.dose_number > 1]:
            s.delete(rule)
        s.commit()
        product_id = product.id
    r = _form(lima_admin, facility(database, "DEMO-PE-0001").id, product=str(product_id))
    assert r.status_code == 400 and "has no dose 2" in r.get_data(as_text=True)


def test_the_same_session_twice_is_refused(lima_admin, database):
    centre_id = facility(database, "DEMO-PE-0001").id
    assert _form(lima_admin, centre_id).status_code == 302
    again = _form(lima_admin, centre_id)
    assert again.status_code == 400
    assert "already has a session of Comirnaty" in again.get_data(as_text=True)
    assert len(sessions_on(database, "DEMO-PE-0001", LATER)) == 1


def test_a_paid_centre_asks_for_the_fee(lima_admin, database):
    with database.Session() as s:
        s.scalar(select(Facility).where(Facility.code == "DEMO-PE-0002")).fee_type = "Paid"
        s.commit()
    centre_id = facility(database, "DEMO-PE-0002").id
    page = lima_admin.get(f"/staff/centres/{centre_id}").get_data(as_text=True)
    assert '<label for="fee">Fee (PEN)</label>' in page
    for fee, message in [("", "Enter the fee; 0 if this session is free."),
                         ("-1", "Enter an amount from 0"), ("lots", "Enter an amount, like")]:
        r = _form(lima_admin, centre_id, fee=fee)
        assert r.status_code == 400 and message in r.get_data(as_text=True), fee
    assert _form(lima_admin, centre_id, fee="25,50").status_code == 302
    [vs] = sessions_on(database, "DEMO-PE-0002", LATER)
    assert float(vs.fee) == 25.5


def test_a_fee_sent_to_a_free_centre_is_ignored(lima_admin, database):
    assert _form(lima_admin, facility(database, "DEMO-PE-0001").id, fee="30").status_code == 302
    [vs] = sessions_on(database, "DEMO-PE-0001", LATER)
    assert float(vs.fee) == 0


# --- importing sessions ---------------------------------------------------------------------------

HEADER = "facility_code,date,vaccine,min_age,max_age,capacity_dose1,capacity_dose2,slots,fee\n"


def _upload(client, text, name="week.csv"):
    import io

    page = client.get("/staff/sessions/import").get_data(as_text=True)
    return client.post("/staff/sessions/import", data={
        "csrf_token": csrf(page), "file": (io.BytesIO(text.encode("utf-8")), name)},
        content_type="multipart/form-data")


def _day(days):
    return (LATER + dt.timedelta(days=days)).strftime("%d-%m-%Y")


def test_import_sessions_from_a_file(lima_admin, database):
    page = lima_admin.get("/staff/sessions/import").get_data(as_text=True)
    assert '<label for="file">Sessions file (CSV)</label>' in page and "comirnaty" in page
    r = _upload(lima_admin, HEADER + f"DEMO-PE-0001,{_day(0)},comirnaty,12,,50,30,"
                                     "09:00-11:00;11:00-13:00,\n"
                                     f"DEMO-PE-0002,{_day(1)},bbibp-corv,18,44,100,,08:00-12:00,\n")
    assert r.status_code == 302, r.get_data(as_text=True)
    done = lima_admin.get("/staff/sessions/import").get_data(as_text=True)
    assert "2 session(s) added and 0 updated from week.csv." in done
    assert len(sessions_on(database, "DEMO-PE-0001", LATER)) == 1
    [event] = audit_rows(database, "sessions.imported")
    assert event.details == {"created": 2, "updated": 0} and event.actor.startswith("staff:")


def test_a_bad_file_lists_its_lines_and_writes_nothing(lima_admin, database):
    r = _upload(lima_admin, HEADER
                + f"DEMO-PE-0001,{_day(0)},comirnaty,12,,50,30,09:00-11:00,\n"        # good
                + f"NOPE,{_day(0)},comirnaty,12,,50,,09:00-11:00,\n"                  # 3
                + f"DEMO-PE-0016,{_day(0)},comirnaty,12,,50,,09:00-11:00,\n"          # 4
                + f"DEMO-PE-0002,{_day(0)},sputnik,12,,50,,9-11,\n")                  # 5
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert "3 lines of week.csv are wrong; nothing was imported." in html
    assert "<strong>Line 3:</strong>" in html and "unknown facility_code" in html
    assert "<strong>Line 4:</strong>" in html and \
        "facility_code &#39;DEMO-PE-0016&#39; is not a centre of your area" in html
    assert "<strong>Line 5:</strong>" in html and "unknown vaccine" in html
    assert "Line 2:" not in html
    assert sessions_on(database, "DEMO-PE-0001", LATER) == []
    assert not audit_rows(database, "sessions.imported")


def test_lines_outside_the_area_are_refused_even_when_all_else_is_right(lima_admin, database):
    r = _upload(lima_admin, HEADER
                + f"DEMO-PE-0001,{_day(0)},comirnaty,12,,50,30,09:00-11:00,\n"
                + f"DEMO-PE-0016,{_day(0)},comirnaty,12,,50,30,09:00-11:00,\n")
    assert r.status_code == 400 and "<strong>Line 3:</strong>" in r.get_data(as_text=True)
    assert sessions_on(database, "DEMO-PE-0001", LATER) == []
    assert sessions_on(database, "DEMO-PE-0016", LATER) == []


@pytest.mark.parametrize("text,message", [
    ("facility_code,date\nX,Y\n", "missing column(s)"),
    (HEADER, "no data rows after the header"),
    (HEADER + "X" * 200_000 + ",x\n", "cannot be read as CSV"),  # over csv's field limit
])
def test_bad_headers_are_reported(lima_admin, text, message):
    r = _upload(lima_admin, text)
    assert r.status_code == 400 and message in r.get_data(as_text=True)


def test_no_file_and_binary_files(lima_admin):
    page = lima_admin.get("/staff/sessions/import").get_data(as_text=True)
    r = lima_admin.post("/staff/sessions/import", data={"csrf_token": csrf(page)},
                        content_type="multipart/form-data")
    assert r.status_code == 400 and "Choose a CSV file to upload." in r.get_data(as_text=True)
    import io

    r = lima_admin.post("/staff/sessions/import", data={
        "csrf_token": csrf(page), "file": (io.BytesIO(b"\xff\xfe\x00bad"), "x.csv")},
        content_type="multipart/form-data")
    assert r.status_code == 400 and "is not UTF-8" in r.get_data(as_text=True)


def test_the_audit_log_holds_no_e_mail_addresses(app, lima_admin, database):
    _form(lima_admin, facility(database, "DEMO-PE-0001").id)
    login(app.test_client(), "lima@example.org", "wrong-password-1234")
    rows = [r for r in audit_rows(database) if r.action.startswith(("staff.", "session"))
            and r.actor != "test"]
    assert {r.action for r in rows} >= {"staff.login", "staff.login_failed", "session.created"}
    for r in rows:
        assert "@" not in f"{r.actor} {r.target} {r.details}", r.action


def test_staff_pages_follow_the_chosen_language(client):
    r = client.get("/staff/login?lang=es")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and '<html lang="es"' in html
    assert "Idioma" in html  # the shared layout is translated; staff strings come later


def test_a_district_role_without_a_division_gets_no_area(client, database):
    """Only a national administrator has the whole country; an account of another role set
    up without its division must not silently gain it."""
    from cowin_kit.accounts import service
    from cowin_kit.accounts.models import StaffUser

    with database.session() as s:
        user = StaffUser(email="nodiv@example.org", password_hash="x", role="district_admin",
                         division_id=None, must_change_password=False)
        assert service.area_division_ids(s, user) == []
        national = StaffUser(email="n@example.org", password_hash="x", role="national_admin",
                             division_id=None, must_change_password=False)
        assert service.area_division_ids(s, national) is None


def test_an_absurd_centre_id_is_not_found(admin):
    assert admin.get("/staff/centres/99999999999999999999").status_code == 404


def test_the_database_holds_one_session_per_centre_day_and_vaccine(database):
    """Even two requests at the same moment cannot both add it (the form's check runs
    first; the constraint decides between simultaneous ones)."""
    import uuid

    from sqlalchemy.exc import IntegrityError

    from cowin_kit.scheduling.models import VaccinationSession

    with database.Session() as s:
        existing = s.scalars(select(VaccinationSession)).first()
        s.add(VaccinationSession(id=str(uuid.uuid4()), facility_id=existing.facility_id,
                                 date=existing.date, product_id=existing.product_id,
                                 min_age=18, fee=0))
        with pytest.raises(IntegrityError):
            s.flush()
