"""Centres on the staff pages: created, edited, deactivated and reactivated within an
administrator's area; recurring sessions with walk-in places; a centre's staff; and a
facility manager's "My centre"."""
import datetime as dt

import pytest
from sqlalchemy import select

from cowin_kit.accounts.models import StaffUser
from cowin_kit.scheduling import booking, search
from cowin_kit.scheduling.models import Facility, VaccinationSession

from helpers import (
    LATER,
    STAFF_PASSWORD,
    audit_rows,
    booked_person,
    csrf,
    facility,
    make_facility_user,
    make_user,
    new_session,
    staff_login,
)

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def lima_admin(client, database):
    """A district administrator of Lima (province 1501), which holds centres 0001-0010."""
    make_user(database, "lima@example.org", "district_admin", "1501")
    assert staff_login(client, "lima@example.org", STAFF_PASSWORD).status_code == 302
    return client


def _division_id(database, code):
    from cowin_kit.geography.models import Division

    with database.Session() as s:
        return s.scalar(select(Division.id).where(Division.code == code))


def _centre_data(database, **changes):
    data = {"code": "PE-LIM-0042", "name": "Posta Miraflores Norte",
            "address": "Av. Arequipa 4000", "division": str(_division_id(database, "150122")),
            "postal_code": "15074", "latitude": "-12.11", "longitude": "-77.03",
            "fee_type": "Free"}
    return {**data, **changes}


def _post(client, url, data):
    page = client.get(url).get_data(as_text=True)
    return client.post(url, data={**data, "csrf_token": csrf(page)})


# --- creating and editing ------------------------------------------------------------------

def test_an_administrator_adds_a_centre_in_their_area(database, lima_admin):
    page = lima_admin.get("/staff/centres/new").get_data(as_text=True)
    assert "Miraflores, Lima" in page  # districts of the area, named with their province
    assert "Cayma" not in page and "Arequipa" not in page  # none outside it
    r = _post(lima_admin, "/staff/centres/new", _centre_data(database, code="pe-lim-0042 "))
    assert r.status_code == 302
    created = facility(database, "PE-LIM-0042")  # the code as capitals
    assert r.headers["Location"].endswith(f"/staff/centres/{created.id}#main")
    assert (created.name, created.postal_code, created.latitude, created.is_active,
            created.is_demo) == ("Posta Miraflores Norte", "15074", -12.11, True, False)
    html = lima_admin.get(r.headers["Location"]).get_data(as_text=True)
    assert "The centre Posta Miraflores Norte has been added." in html
    [event] = audit_rows(database, "facility.created")
    assert event.target == f"facility:{created.id}"
    assert event.division_id == _division_id(database, "150122")


@pytest.mark.parametrize("changes,field,message", [
    ({"code": "A"}, "code", "Use 2 to 40 capital letters"),
    ({"code": "PE LIM/1"}, "code", "Use 2 to 40 capital letters"),
    ({"code": "DEMO-PE-0001"}, "code", "Another centre already has the code DEMO-PE-0001."),
    ({"name": ""}, "name", "name."),
    ({"postal_code": "ABC"}, "postal_code", "does not have the country"),
    ({"latitude": "91"}, "latitude", "Enter a number from -90 to 90."),
    ({"latitude": "north"}, "latitude", "Enter a number, like -12.0464."),
    ({"longitude": ""}, "longitude", "Enter both latitude and longitude, or neither."),
    ({"division": ""}, "division", "Choose a district."),
    ({"division": "999999"}, "division", "Choose a district of your area."),
    ({"fee_type": "Maybe"}, "fee_type", "Choose free or paid."),
])
def test_a_wrong_centre_value_is_named_and_what_was_typed_kept(database, lima_admin,
                                                              changes, field, message):
    r = _post(lima_admin, "/staff/centres/new", _centre_data(database, **changes))
    html = r.get_data(as_text=True)
    assert r.status_code == 400, html
    assert f'id="{field}-error"' in html and message in html
    assert 'value="Av. Arequipa 4000"' in html  # kept
    assert facility(database, "PE-LIM-0042") is None


def test_a_division_outside_the_area_is_forbidden_and_audited(database, lima_admin):
    r = _post(lima_admin, "/staff/centres/new",
              _centre_data(database, division=str(_division_id(database, "040101"))))
    assert r.status_code == 403
    assert facility(database, "PE-LIM-0042") is None
    [denied] = audit_rows(database, "access.denied")
    assert denied.details["reason"] == "area"


def test_editing_a_centre(database, lima_admin):
    centre = facility(database, "DEMO-PE-0002")
    url = f"/staff/centres/{centre.id}/edit"
    page = lima_admin.get(url).get_data(as_text=True)
    assert 'value="DEMO-PE-0002"' in page and 'value="15074"' in page
    r = _post(lima_admin, url, _centre_data(database, code="DEMO-PE-0002",
                                            name="Miraflores (renamed)", fee_type="Paid"))
    assert r.status_code == 302
    changed = facility(database, "DEMO-PE-0002")
    assert (changed.name, changed.fee_type) == ("Miraflores (renamed)", "Paid")
    [event] = audit_rows(database, "facility.updated")
    assert {"name", "fee_type"} <= set(event.details["changed"])
    # Another area's centre is unknown; the form cannot move one out of the area.
    assert lima_admin.get(f"/staff/centres/{facility(database, 'DEMO-PE-0011').id}/edit"
                          ).status_code == 404
    r = _post(lima_admin, url, _centre_data(database, code="DEMO-PE-0002", division=str(
        _division_id(database, "040101"))))
    assert r.status_code == 403
    assert facility(database, "DEMO-PE-0002").division_id == _division_id(database, "150122")


def test_only_administrators_manage_centres(database, client):
    make_facility_user(database, "fm@example.org", "facility_manager", "DEMO-PE-0001")
    assert staff_login(client, "fm@example.org", STAFF_PASSWORD).status_code == 302
    centre_id = facility(database, "DEMO-PE-0001").id
    assert client.get("/staff/centres/new").status_code == 403
    assert client.get(f"/staff/centres/{centre_id}/edit").status_code == 403
    assert client.get(f"/staff/centres/{centre_id}").status_code == 403  # "My centre" instead


# --- deactivating ------------------------------------------------------------------------

def test_a_deactivated_centre_takes_no_sessions_and_is_hidden(app, database, lima_admin):
    centre = facility(database, "DEMO-PE-0001")
    sid = new_session(database, "DEMO-PE-0001", LATER)
    edit = lima_admin.get(f"/staff/centres/{centre.id}/edit").get_data(as_text=True)
    r = lima_admin.post(f"/staff/centres/{centre.id}/active",
                        data={"active": "0", "csrf_token": csrf(edit)})
    assert r.status_code == 302 and facility(database, "DEMO-PE-0001").is_active is False
    page = lima_admin.get(f"/staff/centres/{centre.id}").get_data(as_text=True)
    assert "Deactivated" in page and 'id="add-session"' not in page
    assert "Deactivated" in lima_admin.get("/staff/").get_data(as_text=True)
    # Adding a session is refused, even by a form kept open in another tab.
    r = lima_admin.post(f"/staff/centres/{centre.id}", data={
        "date": (LATER + dt.timedelta(days=1)).isoformat(), "product": "1", "min_age": "18",
        "capacity_dose1": "10", "slots": "09:00-11:00", "csrf_token": csrf(edit)})
    assert r.status_code == 400 and "This centre is deactivated" in r.get_data(as_text=True)
    with database.Session() as s:
        assert sid not in {x["session_id"] for x in search.find_sessions(
            s, "en", LATER, pincode="15001")}
        assert centre.id not in {c["center_id"] for c in search.centres_near(
            s, "en", -12.05, -77.03, limit=50)}
    with pytest.raises(booking.Conflict):
        booked_person(app, database, sid)
    assert [e.action for e in audit_rows(database) if e.action.startswith("facility.")] == [
        "facility.deactivated"]
    # Reactivated: found and bookable again.
    lima_admin.post(f"/staff/centres/{centre.id}/active",
                    data={"active": "1", "csrf_token": csrf(edit)})
    assert facility(database, "DEMO-PE-0001").is_active is True
    booked_person(app, database, sid)
    assert len(audit_rows(database, "facility.reactivated")) == 1


# --- sessions: recurring, walk-in places ---------------------------------------------------

def _monday_after(day):
    return day + dt.timedelta(days=(7 - day.weekday()) % 7 or 7)


def _add(client, centre_id, **data):
    base = {"product": "2", "min_age": "18", "capacity_dose1": "30",
            "slots": "09:00-11:00, 11:00-13:00"}
    return _post(client, f"/staff/centres/{centre_id}", {**base, **data})


def _sessions(database, centre_id):
    with database.Session() as s:
        return s.scalars(select(VaccinationSession).where(
            VaccinationSession.facility_id == centre_id, VaccinationSession.date >= LATER)
            .order_by(VaccinationSession.date)).all()


def test_every_weekday_for_four_weeks_with_walk_in_places(database, lima_admin):
    centre_id = facility(database, "DEMO-PE-0001").id
    start = _monday_after(LATER)
    new_session(database, "DEMO-PE-0001", start + dt.timedelta(days=2))  # a Wednesday
    r = _add(lima_admin, centre_id, date=start.isoformat(),
             until=(start + dt.timedelta(days=27)).isoformat(),
             weekdays=["0", "1", "2", "3", "4"], walk_in_quota="5")
    assert r.status_code == 302
    html = lima_admin.get(r.headers["Location"]).get_data(as_text=True)
    assert "19 session(s) added." in html
    assert "Not added, as these days already have a session of this vaccine" in html
    made = _sessions(database, centre_id)
    assert len(made) == 20 and all(s.date.weekday() < 5 for s in made)
    assert sorted(s.walk_in_quota for s in made)[1:] == [5] * 19
    assert "Walk-in places: 0 of 5 taken" in html
    events = audit_rows(database, "session.created")
    assert len(events) == 19 and events[0].details["walk_in_quota"] == 5


@pytest.mark.parametrize("data,field,message", [
    ({"until": "+100", "weekdays": []}, "until", "at most 62 sessions"),
    ({"until": "-1"}, "until", "on or after the first day"),
    ({"until": "+1", "weekdays": ["6"]}, "weekdays", "No day in this range"),
    ({"walk_in_quota": "-2"}, "walk_in_quota", "Enter a whole number"),
    ({"until": "+400"}, "until", "within the next year"),
])
def test_a_recurring_range_that_cannot_be_made_is_refused(database, lima_admin, data, field,
                                                         message):
    centre_id = facility(database, "DEMO-PE-0001").id
    start = _monday_after(LATER)
    if "until" in data:
        data = {**data, "until": (start + dt.timedelta(days=int(data["until"]))).isoformat()}
    r = _add(lima_admin, centre_id, date=start.isoformat(), **data)
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and message in html, html[-3000:]
    assert f'href="#{field}"' in html
    assert _sessions(database, centre_id) == []


def test_walk_in_quota_in_the_sessions_file(database, lima_admin):
    day = LATER.strftime("%d-%m-%Y")
    body = ("facility_code,date,vaccine,min_age,capacity_dose1,slots,walk_in_quota\n"
            f"DEMO-PE-0001,{day},comirnaty,18,40,09:00-11:00,12\n")
    import io

    page = lima_admin.get("/staff/sessions/import").get_data(as_text=True)
    r = lima_admin.post("/staff/sessions/import", data={
        "file": (io.BytesIO(body.encode()), "s.csv"), "csrf_token": csrf(page)})
    assert r.status_code == 302, r.get_data(as_text=True)
    [vs] = _sessions(database, facility(database, "DEMO-PE-0001").id)
    assert vs.walk_in_quota == 12
    bad = body.replace(",12\n", ",lots\n")
    r = lima_admin.post("/staff/sessions/import", data={
        "file": (io.BytesIO(bad.encode()), "s.csv"), "csrf_token": csrf(page)})
    assert r.status_code == 400 and "walk_in_quota" in r.get_data(as_text=True)


# --- the centre's staff --------------------------------------------------------------------

def test_assigning_and_removing_a_vaccinator(database, lima_admin):
    centre = facility(database, "DEMO-PE-0003")
    vaccinator = make_user(database, "vac@example.org", "vaccinator", "1501")
    elsewhere = make_user(database, "far@example.org", "vaccinator", "0401")
    page = lima_admin.get(f"/staff/centres/{centre.id}").get_data(as_text=True)
    assert "vac@example.org (Vaccinator)" in page and "far@example.org" not in page
    r = lima_admin.post(f"/staff/centres/{centre.id}/staff",
                        data={"staff": str(vaccinator), "csrf_token": csrf(page)})
    assert r.status_code == 302 and r.headers["Location"].endswith("#staff")
    with database.Session() as s:
        user = s.get(StaffUser, vaccinator)
        assert (user.facility_id, user.division_id) == (centre.id, centre.division_id)
    html = lima_admin.get(r.headers["Location"]).get_data(as_text=True)
    assert "vac@example.org now works at this centre." in html
    [event] = audit_rows(database, "staff.assigned")
    assert event.target == f"staff_user:{vaccinator}"
    assert event.division_id == centre.division_id
    # A vaccinator of another area: forbidden, audited, unchanged.
    r = lima_admin.post(f"/staff/centres/{centre.id}/staff",
                        data={"staff": str(elsewhere), "csrf_token": csrf(page)})
    assert r.status_code == 403
    with database.Session() as s:
        assert s.get(StaffUser, elsewhere).facility_id is None
    # Not a facility role (an administrator): refused with a message.
    admin_id = make_user(database, "other-admin@example.org", "district_admin", "1501")
    r = lima_admin.post(f"/staff/centres/{centre.id}/staff",
                        data={"staff": str(admin_id), "csrf_token": csrf(page)})
    assert "Choose a vaccinator or facility manager" in lima_admin.get(
        r.headers["Location"]).get_data(as_text=True)
    r = lima_admin.post(f"/staff/centres/{centre.id}/staff/{vaccinator}/remove",
                        data={"csrf_token": csrf(page)})
    assert r.status_code == 302
    with database.Session() as s:
        assert s.get(StaffUser, vaccinator).facility_id is None
    assert len(audit_rows(database, "staff.unassigned")) == 1


# --- My centre ----------------------------------------------------------------------------

def test_my_centre_for_a_facility_manager(app, database, client):
    make_facility_user(database, "fm@example.org", "facility_manager", "DEMO-PE-0001")
    vaccinator = make_user(database, "vac@example.org", "vaccinator", "150101")
    r = staff_login(client, "fm@example.org", STAFF_PASSWORD)
    assert r.status_code == 302
    page = client.get("/staff/my-centre")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert facility(database, "DEMO-PE-0001").name.split(" — ")[0] in html
    assert "fm@example.org" in html and "All centres" not in html
    assert 'href="/staff/my-centre"' in html  # the menu item
    # They add a session at their centre...
    r = client.post("/staff/my-centre", data={
        "date": LATER.isoformat(), "product": "2", "min_age": "18", "capacity_dose1": "10",
        "slots": "09:00-11:00", "csrf_token": csrf(html)})
    assert r.status_code == 302 and r.headers["Location"].endswith("/staff/my-centre#main")
    assert len(_sessions(database, facility(database, "DEMO-PE-0001").id)) == 1
    # ... assign a vaccinator of their area ...
    r = client.post(f"/staff/centres/{facility(database, 'DEMO-PE-0001').id}/staff",
                    data={"staff": str(vaccinator), "csrf_token": csrf(html)})
    assert r.status_code == 302
    # ... but touch no other centre: 403, audited.
    other = facility(database, "DEMO-PE-0002").id
    for url in (f"/staff/centres/{other}/lots/new", f"/staff/centres/{other}/staff"):
        r = client.post(url, data={"staff": str(vaccinator), "csrf_token": csrf(html)})
        assert r.status_code == 403
    assert client.get(f"/staff/centres/{other}").status_code == 403
    assert {e.details["reason"] for e in audit_rows(database, "access.denied")} == {
        "facility", "role"}


def test_my_centre_without_a_centre_and_for_other_roles(database, client):
    make_user(database, "fm@example.org", "facility_manager", "1501")  # no centre yet
    assert staff_login(client, "fm@example.org", STAFF_PASSWORD).status_code == 302
    assert client.get("/staff/my-centre").status_code == 403
    with database.Session() as s:
        assert s.scalar(select(Facility.id).where(Facility.code == "DEMO-PE-0001"))
