"""Whatever a person types or a link carries, the portal answers with a page, never a 500:
random text in every form field and query parameter (hypothesis)."""
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from helpers import NASTY, csrf, web_login

# Text people (and scripts) send: any Unicode, control characters and NULs included.
junk = st.one_of(st.text(max_size=60), st.sampled_from(NASTY))
SEARCH_FIELDS = ("pincode", "date", "age", "dose", "vaccine", "state", "district", "fee", "by")

SETTINGS = dict(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


@pytest.fixture
def citizen(client, cowin_kit_instance):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return web_login(client, cowin_kit_instance)


@pytest.mark.parametrize("value", NASTY)
def test_each_search_field_takes_nasty_values(citizen, value):
    for field in SEARCH_FIELDS:
        r = citizen.get("/portal/search", query_string={"pincode": "15001", field: value})
        assert r.status_code in (200, 400, 404), (field, value, r.status_code)


@settings(**SETTINGS)
@given(pincode=junk, date=junk, age=junk, dose=junk, vaccine=junk, state=junk,
       district=junk, fee=junk, by=junk)
def test_search_never_fails(citizen, pincode, date, age, dose, vaccine, state, district, fee, by):
    r = citizen.get("/portal/search", query_string={
        "pincode": pincode, "date": date, "age": age, "dose": dose, "vaccine": vaccine,
        "state": state, "district": district, "fee": fee, "by": by})
    assert r.status_code in (200, 400, 404), r.status_code


@pytest.mark.parametrize("value", NASTY)
def test_each_member_field_takes_nasty_values(citizen, value):
    good = {"name": "Ana Quispe", "birth_year": "1980", "gender": "female", "id_type": "dni",
            "id_number": "40123456", "priority_groups": []}
    for n, field in enumerate(good):
        token = csrf(citizen.get("/portal/members/new").get_data(as_text=True))
        data = {**good, "id_number": f"401234{n:02d}", field: value, "csrf_token": token}
        r = citizen.post("/portal/members/new", data=data)
        assert r.status_code in (302, 400), (field, value, r.status_code)


@settings(**SETTINGS)
@given(name=junk, year=junk, gender=junk, id_type=junk, number=junk, group=junk)
def test_member_form_never_fails(citizen, name, year, gender, id_type, number, group):
    token = csrf(citizen.get("/portal/members/new").get_data(as_text=True))
    r = citizen.post("/portal/members/new", data={
        "name": name, "birth_year": year, "gender": gender, "id_type": id_type,
        "id_number": number, "priority_groups": [group], "csrf_token": token})
    assert r.status_code in (302, 400, 429), r.status_code


@settings(**SETTINGS)
@given(session_id=junk, slot=junk, members=junk, back=junk, path=junk)
def test_booking_forms_never_fail(citizen, session_id, slot, members, back, path):
    token = csrf(citizen.get("/portal/").get_data(as_text=True))
    data = {"session_id": session_id, "slot": slot, "members": members, "back": back,
            "csrf_token": token}
    assert citizen.post("/portal/book", data=data).status_code in (302, 404)
    r = citizen.post(f"/portal/appointments/{path.replace('/', '')}/reschedule", data=data)
    assert r.status_code in (302, 308, 404, 405), r.status_code  # 308: "//" merged
    r = citizen.get(f"/portal/appointments/{path.replace('/', '')}/cancel")
    assert r.status_code in (308, 404, 405), r.status_code


@settings(**SETTINGS)
@given(mobile=junk, code=junk, nxt=junk)
def test_login_forms_never_fail(client, cowin_kit_instance, mobile, code, nxt):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    token = csrf(client.get("/portal/login").get_data(as_text=True))
    r = client.post("/portal/login", query_string={"next": nxt},
                    data={"mobile": mobile, "csrf_token": token})
    assert r.status_code in (302, 400, 429), r.status_code  # 429: the per-address limit
    r = client.post("/portal/login/code", data={"code": code, "csrf_token": token})
    assert r.status_code in (200, 302, 400, 429), r.status_code
