"""Staff users managed by administrators: the rules (cowin_kit.accounts.staff_users) and the
staff pages (/staff/users), bad cases included: above one's rank or outside one's area is a
403 with an audit entry, a wrong value a form error, a disabled user's logins end."""
import re

import pytest
from sqlalchemy import select

from cowin_kit.accounts import staff_users
from cowin_kit.accounts.models import StaffLogin, StaffUser
from cowin_kit.accounts.staff_login import log_in
from cowin_kit.geography.models import Division
from cowin_kit.testing import ADMIN_EMAIL

from helpers import STAFF_PASSWORD, audit_rows, csrf, facility, make_user, staff_login

pytestmark = pytest.mark.usefixtures("english")


def user_by_email(s, email) -> StaffUser:
    return s.scalar(select(StaffUser).where(StaffUser.email == email))


def division_id(s, code):
    return s.scalar(select(Division.id).where(Division.code == code))


@pytest.fixture
def lima(database):
    """A district administrator of Lima province (1501: centres DEMO-PE-0001..0010)."""
    make_user(database, "lima@example.org", "district_admin", "1501")
    return "lima@example.org"


@pytest.fixture
def lima_admin(client, lima):
    assert staff_login(client, lima, STAFF_PASSWORD).status_code == 302
    return client


def one_time_password(html: str) -> str:
    match = re.search(r'id="one-time-password">([^<]+)<', html)
    assert match, "no one-time password on the page"
    return match.group(1)


def no_secrets(database, *secrets):
    """No audit entry holds any of ``secrets`` (e-mails, passwords)."""
    for event in audit_rows(database):
        text = f"{event.target} {event.details}"
        for secret in secrets:
            assert secret not in text, (event.action, text)


# --- the rules ------------------------------------------------------------------------------

def test_a_district_administrator_creates_a_vaccinator_at_a_centre_of_its_area(database, lima):
    with database.Session() as s:
        admin = user_by_email(s, lima)
        user, password = staff_users.create_user(s, admin, " Vac@Example.org ", "vaccinator",
                                                 facility_code="DEMO-PE-0001")
        s.commit()
        centre = facility(database, "DEMO-PE-0001")
        assert (user.email, user.role, user.facility_id, user.division_id) == (
            "vac@example.org", "vaccinator", centre.id, centre.division_id)
        assert user.must_change_password and user.is_active
        assert log_in(s, "vac@example.org", password) is not None
    [event] = audit_rows(database, "staff.created")[-1:]
    assert event.division_id == centre.division_id and event.actor.startswith("staff:")
    assert event.details["role"] == "vaccinator"
    no_secrets(database, "vac@example.org", password)


@pytest.mark.parametrize("role", ["district_admin", "state_admin", "national_admin"])
def test_an_administrator_cannot_create_its_own_rank_or_above(database, lima, role):
    with database.Session() as s:
        admin = user_by_email(s, lima)
        with pytest.raises(staff_users.StaffUserForbidden) as exc:
            staff_users.create_user(s, admin, "up@example.org", role, "150101")
        assert exc.value.status == 403
        assert user_by_email(s, "up@example.org") is None


def test_an_administrator_cannot_reach_outside_its_area(database, lima):
    arequipa = facility(database, "DEMO-PE-0016")
    with database.Session() as s:
        assert s.get(Division, arequipa.division_id).code.startswith("04")  # Arequipa
        admin = user_by_email(s, lima)
        with pytest.raises(staff_users.StaffUserForbidden):
            staff_users.create_user(s, admin, "a@example.org", "vaccinator",
                                    facility_code=arequipa.code)
        with pytest.raises(staff_users.StaffUserForbidden):
            staff_users.create_user(s, admin, "a@example.org", "call_centre", "0401")
    make_user(database, "are@example.org", "district_admin", "0401")
    with database.Session() as s:
        admin, other = user_by_email(s, lima), user_by_email(s, "are@example.org")
        with pytest.raises(staff_users.StaffUserForbidden):
            staff_users.set_active(s, admin, other, False)
        with pytest.raises(staff_users.StaffUserForbidden):
            staff_users.reset_password(s, admin, other)


@pytest.mark.parametrize("email,role,division,centre,field", [
    ("not-an-address", "vaccinator", "", "DEMO-PE-0001", "email"),
    ("x@example.org", "wizard", "", "", "role"),
    ("x@example.org", "vaccinator", "", "", "facility"),  # a vaccinator needs a centre
    ("x@example.org", "vaccinator", "", "NO-SUCH", "facility"),
    ("x@example.org", "vaccinator", "150101", "DEMO-PE-0001", "division"),
    ("x@example.org", "call_centre", "", "", "division"),  # only a national admin: country
    ("x@example.org", "call_centre", "9999", "", "division"),
    ("x@example.org", "verifier", "150101", "DEMO-PE-0001", "facility"),
    ("lima@example.org", "verifier", "150101", "", "email"),  # taken
])
def test_wrong_values_name_their_field(database, lima, email, role, division, centre, field):
    with database.Session() as s:
        admin = user_by_email(s, lima)
        with pytest.raises(staff_users.StaffUserError) as exc:
            staff_users.create_user(s, admin, email, role, division, centre)
        assert exc.value.field == field and exc.value.status == 400


def test_levels_of_the_administrators_areas(database):
    by = "cli:ops"
    with database.Session() as s:
        with pytest.raises(staff_users.StaffUserError, match="level 1"):
            staff_users.create_user(s, by, "s@example.org", "state_admin", "1501")
        with pytest.raises(staff_users.StaffUserError, match="below the top"):
            staff_users.create_user(s, by, "d@example.org", "district_admin", "PE-LMA")
        with pytest.raises(staff_users.StaffUserError, match="whole country"):
            staff_users.create_user(s, by, "n@example.org", "national_admin", "PE-LMA")
        state, _ = staff_users.create_user(s, by, "s@example.org", "state_admin", "PE-LMA")
        # A state administrator manages the districts of its state, nothing above.
        district, _ = staff_users.create_user(s, state, "d@example.org", "district_admin",
                                              "1501")
        assert district.division_id == division_id(s, "1501")
        helpline, _ = staff_users.create_user(s, by, "h@example.org", "call_centre")
        assert helpline.division_id is None  # country-wide, from the operator
        assert "state_admin" not in staff_users.manageable_roles(state)
        assert set(staff_users.manageable_roles(by)) == set(staff_users.ROLES)


def test_disabling_ends_the_users_logins_and_refuses_new_ones(database, lima):
    make_user(database, "v@example.org", "call_centre", "1501")
    with database.Session() as s:
        assert log_in(s, "v@example.org", STAFF_PASSWORD) is not None
        s.commit()
        admin, user = user_by_email(s, lima), user_by_email(s, "v@example.org")
        assert staff_users.set_active(s, admin, user, False) == 1
        s.commit()
        assert not s.scalars(select(StaffLogin).where(StaffLogin.user_id == user.id,
                                                      StaffLogin.ended_at.is_(None))).all()
        assert log_in(s, "v@example.org", STAFF_PASSWORD) is None
        staff_users.set_active(s, admin, user, True)
        s.commit()
        assert log_in(s, "v@example.org", STAFF_PASSWORD) is not None
    actions = [e.action for e in audit_rows(database) if e.target == f"staff_user:{user.id}"]
    assert "staff.disabled" in actions and "staff.enabled" in actions


def test_the_last_national_administrator_cannot_be_disabled(database):
    with database.Session() as s:
        admin = user_by_email(s, ADMIN_EMAIL)
        with pytest.raises(staff_users.StaffUserError, match="last active national"):
            staff_users.set_active(s, "cli:ops", admin, False)
        staff_users.create_user(s, "cli:ops", "n2@example.org", "national_admin")
        staff_users.set_active(s, "cli:ops", admin, False)
        assert not admin.is_active


def test_rescoping_is_audited_in_both_areas_and_ends_logins(database):
    make_user(database, "v@example.org", "call_centre", "150101")
    with database.Session() as s:
        assert log_in(s, "v@example.org", STAFF_PASSWORD) is not None
        s.commit()
        user = user_by_email(s, "v@example.org")
        assert staff_users.rescope(s, "cli:ops", user, "vaccinator",
                                   facility_code="DEMO-PE-0016")
        s.commit()
        assert user.facility_id == facility(database, "DEMO-PE-0016").id
        assert not staff_users.rescope(s, "cli:ops", user, "vaccinator",
                                       facility_code="DEMO-PE-0016")
        old = division_id(s, "150101")
    events = audit_rows(database, "staff.rescoped")
    assert {e.division_id for e in events} == {old, facility(database, "DEMO-PE-0016")
                                                .division_id}
    assert events[0].details["logins_ended"] == 1


def test_resetting_a_password_forces_a_change_and_ends_logins(database, lima):
    make_user(database, "v@example.org", "verifier", "1501")
    with database.Session() as s:
        assert log_in(s, "v@example.org", STAFF_PASSWORD) is not None
        s.commit()
        user = user_by_email(s, "v@example.org")
        password = staff_users.reset_password(s, user_by_email(s, lima), user)
        s.commit()
        assert user.must_change_password
        assert log_in(s, "v@example.org", STAFF_PASSWORD) is None
        assert log_in(s, "v@example.org", password) is not None
    [event] = audit_rows(database, "staff.password_reset")
    assert event.details == {"logins_ended": 1}
    no_secrets(database, password, "v@example.org")


# --- the pages ------------------------------------------------------------------------------

def test_the_users_list_searches_filters_and_pages(admin, database):
    for n in range(25):
        make_user(database, f"vac{n:02}@example.org", "verifier", "1501")
    make_user(database, "helpline@example.org", "call_centre", "1501")
    page = admin.get("/staff/users").get_data(as_text=True)
    assert "Page 1 of 2" in page and "Certificate verifier" in page
    assert "helpline@example.org" in page and "Never" in page
    found = admin.get("/staff/users?q=HELP").get_data(as_text=True)
    assert "helpline@example.org" in found and "vac00@" not in found
    assert "Users found: 1" in found
    role = admin.get("/staff/users?role=verifier&page=2").get_data(as_text=True)
    assert "Page 2 of 2" in role and "vac24@example.org" in role
    assert "helpline@" not in role and 'href="/staff/users?role=verifier&amp;page=1"' in role
    assert admin.get("/staff/users?q=" + "x" * 200).status_code == 400


def test_a_district_administrator_sees_only_the_users_of_its_area(client, database, lima):
    make_user(database, "are@example.org", "verifier", "0401")
    other = make_user(database, "are2@example.org", "verifier", "0401")
    staff_login(client, lima, STAFF_PASSWORD)
    page = client.get("/staff/users").get_data(as_text=True)
    assert "are@example.org" not in page and ADMIN_EMAIL not in page.split("</nav>", 1)[1]
    assert client.get(f"/staff/users/{other}").status_code == 404


def create_form(client, **values):
    page = client.get("/staff/users/new").get_data(as_text=True)
    data = {"email": "", "role": "", "division": "", "facility": "", **values,
            "csrf_token": csrf(page)}
    return client.post("/staff/users/new", data=data)


def test_creating_a_user_on_the_page_shows_the_password_once(lima_admin, database):
    page = lima_admin.get("/staff/users/new").get_data(as_text=True)
    assert '<option value="vaccinator">Vaccinator</option>' in page
    assert 'value="state_admin"' not in page and 'value="district_admin"' not in page
    r = create_form(lima_admin, email="new@example.org", role="vaccinator",
                    facility="DEMO-PE-0002")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "The user new@example.org has been created." in html
    password = one_time_password(html)
    with database.Session() as s:
        user = user_by_email(s, "new@example.org")
        assert log_in(s, "new@example.org", password) is not None
    again = lima_admin.get(f"/staff/users/{user.id}").get_data(as_text=True)
    assert password not in again and "DEMO-PE-0002" in again
    assert "To be changed at the next login" in again


@pytest.mark.parametrize("values,field,message", [
    ({"email": "nobody", "role": "vaccinator", "facility": "DEMO-PE-0001"}, "email",
     "Enter an e-mail address"),
    ({"email": "x@example.org", "role": "wizard"}, "role", "Choose one of the roles"),
    ({"email": "x@example.org", "role": "vaccinator", "facility": "NOPE"}, "facility",
     "no centre with the code NOPE"),
    ({"email": "lima@example.org", "role": "verifier", "division": "1501"}, "email",
     "already exists"),
])
def test_a_wrong_value_is_shown_at_its_field_and_kept(lima_admin, values, field, message):
    r = create_form(lima_admin, **values)
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and message in html
    assert f'id="{field}-error"' in html
    assert f'value="{values["email"]}"' in html  # what was typed is kept


@pytest.mark.parametrize("values,reason", [
    ({"role": "state_admin", "division": "PE-LMA"}, "outside rank"),
    ({"role": "district_admin", "division": "150101"}, "outside rank"),
    ({"role": "vaccinator", "facility": "DEMO-PE-0016"}, "outside area"),
    ({"role": "verifier", "division": "0401"}, "outside area"),
])
def test_above_rank_or_outside_the_area_is_forbidden_and_audited(lima_admin, database, values,
                                                                 reason):
    r = create_form(lima_admin, email="x@example.org", **values)
    assert r.status_code == 403
    [denied] = audit_rows(database, "access.denied")
    assert denied.details["reason"] == reason and denied.target == "/staff/users/new"
    with database.Session() as s:
        assert user_by_email(s, "x@example.org") is None


def user_page_post(client, user_id, data):
    page = client.get(f"/staff/users/{user_id}").get_data(as_text=True)
    key = "scope-csrf_token" if any(k.startswith("scope-") for k in data) else "csrf_token"
    return client.post(f"/staff/users/{user_id}", data={**data, key: csrf(page)})


def test_disabling_on_the_page_logs_the_user_out(app, lima_admin, database):
    user_id = make_user(database, "v@example.org", "call_centre", "1501")
    other = app.test_client()
    assert staff_login(other, "v@example.org", STAFF_PASSWORD).status_code == 302
    r = user_page_post(lima_admin, user_id, {"do": "disable"})
    assert r.status_code == 302
    page = lima_admin.get(r.headers["Location"]).get_data(as_text=True)
    assert "The user has been disabled" in page and "No, disabled" in page
    r = other.get("/staff/")
    assert r.status_code == 302 and r.headers["Location"].endswith("/staff/login")
    assert staff_login(other, "v@example.org", STAFF_PASSWORD).status_code == 400
    r = user_page_post(lima_admin, user_id, {"do": "enable"})
    assert "The user has been enabled" in lima_admin.get(r.headers["Location"]).get_data(
        as_text=True)


def test_resetting_on_the_page_forces_a_new_password(app, lima_admin, database):
    user_id = make_user(database, "v@example.org", "verifier", "1501")
    r = user_page_post(lima_admin, user_id, {"do": "reset"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "The password has been reset" in html
    password = one_time_password(html)
    other = app.test_client()
    r = staff_login(other, "v@example.org", password)
    assert r.status_code == 302 and r.headers["Location"].endswith("/staff/password")
    assert other.get("/staff/").headers["Location"].endswith("/staff/password")


def test_rescoping_on_the_page(lima_admin, database):
    user_id = make_user(database, "v@example.org", "verifier", "1501")
    r = user_page_post(lima_admin, user_id, {"scope-role": "vaccinator", "scope-division": "",
                                             "scope-facility": "DEMO-PE-0003"})
    assert r.status_code == 302
    page = lima_admin.get(r.headers["Location"]).get_data(as_text=True)
    assert "The role and area have been changed" in page and "DEMO-PE-0003" in page
    r = user_page_post(lima_admin, user_id, {"scope-role": "vaccinator",
                                             "scope-facility": "DEMO-PE-0016"})
    assert r.status_code == 403
    r = user_page_post(lima_admin, user_id, {"scope-role": "vaccinator",
                                             "scope-facility": ""})
    assert r.status_code == 400 and 'id="scope-facility-error"' in r.get_data(as_text=True)


def test_an_administrator_cannot_act_on_its_own_rank(lima_admin, database):
    peer = make_user(database, "peer@example.org", "district_admin", "1501")
    page = lima_admin.get(f"/staff/users/{peer}").get_data(as_text=True)
    assert "Only an administrator of a higher rank" in page and 'name="do"' not in page
    page = lima_admin.get("/staff/users/new").get_data(as_text=True)
    r = lima_admin.post(f"/staff/users/{peer}", data={"do": "disable",
                                                      "csrf_token": csrf(page)})
    assert r.status_code == 403
    with database.Session() as s:
        assert s.get(StaffUser, peer).is_active


@pytest.mark.parametrize("role", ["vaccinator", "call_centre", "verifier", "facility_manager"])
def test_other_roles_cannot_open_the_user_pages(client, database, role):
    if role in ("vaccinator", "facility_manager"):
        with database.Session() as s:
            user, password = staff_users.create_user(s, "cli:ops", "r@example.org", role,
                                                     facility_code="DEMO-PE-0001")
            user.must_change_password = False
            s.commit()
    else:
        make_user(database, "r@example.org", role, "1501")
        password = STAFF_PASSWORD
    assert staff_login(client, "r@example.org", password).status_code == 302
    for url in ("/staff/users", "/staff/users/new", "/staff/audit"):
        assert client.get(url).status_code == 403, url


def test_an_administrator_cannot_disable_itself(admin, database):
    with database.Session() as s:
        me = user_by_email(s, ADMIN_EMAIL).id
    page = admin.get(f"/staff/users/{me}").get_data(as_text=True)
    assert 'name="do"' not in page
    r = admin.post(f"/staff/users/{me}", data={"do": "disable", "csrf_token": csrf(page)})
    assert r.status_code == 403
    [denied] = audit_rows(database, "access.denied")
    assert denied.details["reason"] == "own account"
    with database.Session() as s:
        assert s.get(StaffUser, me).is_active
