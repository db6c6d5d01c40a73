"""What the API accepts, as Co-WIN did (issue 14, items 2-4): dates with a two-digit year,
whole numbers sent as floats or as text, and JSON bodies whatever their declared type; and
what it still refuses, with a 400 naming the field. Driven through the real endpoints, with
the effect of each accepted request checked in the database."""
from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from sqlalchemy import select

from cowin_kit.api import inputs
from cowin_kit.db import MAX_INT
from cowin_kit.geography.models import Division
from cowin_kit.registration.models import Beneficiary
from cowin_kit.scheduling.models import Appointment, Facility

from helpers import (
    TODAY,
    api_login,
    api_register,
    api_session,
    give_dose,
    reference,
    web_login,
)

SCHEDULE = "/api/v2/appointment/schedule"
NEW = "/api/v2/registration/beneficiary/new"
GENERATE = "/api/v2/auth/public/generateOTP"
RANGE = f"from 1 to {MAX_INT}."


@pytest.fixture
def api(cowin_kit_instance):
    from cowin_kit.app import create_app

    # Many logins and tries: the per-address limits (tests/test_api_auth.py) stay out of it;
    # a crash is answered as in production (a 500 these tests would see).
    app = create_app({"INSTANCE_PATH": cowin_kit_instance, "RATELIMIT_ENABLED": False,
                      "PROPAGATE_EXCEPTIONS": False, "OTP_RESEND_SECONDS": 0})
    yield app
    app.extensions["cowin_kit"].dispose()


@pytest.fixture
def ana(api, cowin_kit_instance):
    return api_login(api.test_client(), cowin_kit_instance, "987654321")


def _refused(r, *texts: str) -> str:
    assert r.status_code == 400, (r.status_code, r.get_data(as_text=True)[:300])
    answer = r.get_json()
    assert set(answer) == {"errorCode", "error"}, answer
    for text in texts:
        assert text in answer["error"], (text, answer)
    return answer["error"]


def _booked(database, ref) -> list[tuple[int, str]]:
    with database.session() as s:
        person = s.scalar(select(Beneficiary).where(Beneficiary.reference_id == ref))
        return [(a.dose_number, a.session_id) for a in s.scalars(select(Appointment).where(
            Appointment.beneficiary_id == person.id, Appointment.status == "booked"))]


# --- whole numbers: 1, 1.0, "1", " 1 ", "1.0" ------------------------------------------------

@pytest.mark.parametrize("dose", [1, 1.0, "1", " 1 ", "1.0", "+1"])
def test_a_dose_in_any_whole_form_books(api, ana, dni_type, database, dose):
    client = api.test_client()
    ref = api_register(client, ana, dni_type, "40123456").get_json()["beneficiary_reference_id"]
    session_id, slot = api_session(database)
    r = client.post(SCHEDULE, headers=ana, json={
        "dose": dose, "session_id": session_id, "slot": slot, "beneficiaries": [ref]})
    assert r.status_code == 200, r.get_json()
    assert _booked(database, ref) == [(1, session_id)]


@pytest.mark.parametrize("dose,text", [
    (1.5, "dose must be a whole number."),
    ("1.5", "dose must be a whole number."),
    ("abc", "dose must be a whole number."),
    ("", "dose must be a whole number."),
    ("1e0", "dose must be a whole number."),
    (True, "dose must be a whole number."),
    (False, "dose must be a whole number."),
    ([1], "dose must be a whole number."),
    ({"value": 1}, "dose must be a whole number."),
    (0.0, f"dose must be a whole number {RANGE}"),
    ("0", f"dose must be a whole number {RANGE}"),
    (-1.0, f"dose must be a whole number {RANGE}"),
    (1e20, f"dose must be a whole number {RANGE}"),
    (float(MAX_INT + 1), f"dose must be a whole number {RANGE}"),
    (str(MAX_INT + 1), f"dose must be a whole number {RANGE}"),
    ("9" * 31, "dose must be a whole number."),
    (None, "dose is required."),
])
def test_a_dose_that_is_not_a_whole_number_is_refused_naming_it(api, ana, dni_type, database,
                                                                 dose, text):
    client = api.test_client()
    ref = api_register(client, ana, dni_type, "40123456").get_json()["beneficiary_reference_id"]
    session_id, slot = api_session(database)
    r = client.post(SCHEDULE, headers=ana, json={
        "dose": dose, "session_id": session_id, "slot": slot, "beneficiaries": [ref]})
    assert _refused(r) == text
    assert _booked(database, ref) == []


def test_nan_and_infinity_stay_refused(api, ana):
    for raw in ("NaN", "Infinity", "1e400"):
        body = '{"dose": @, "session_id": "x", "slot": "y", "beneficiaries": ["1"]}'
        r = api.test_client().post(SCHEDULE, headers=ana, content_type="application/json",
                                   data=body.replace("@", raw))
        _refused(r, "dose must be a number within the range JSON numbers can carry.")


def test_a_text_dose_is_read_as_the_same_dose(api, ana, dni_type, database):
    """A second dose asked for as "2" gets exactly the answer 2 gets: the domain's rule."""
    client = api.test_client()
    ref = api_register(client, ana, dni_type, "40123456").get_json()["beneficiary_reference_id"]
    session_id, slot = api_session(database)
    answers = [client.post(SCHEDULE, headers=ana, json={
        "dose": dose, "session_id": session_id, "slot": slot, "beneficiaries": [ref]}).get_json()
        for dose in (2, "2", 2.0)]
    assert answers[0] == answers[1] == answers[2], answers
    assert answers[0]["error"] != "dose must be a whole number.", answers
    assert _booked(database, ref) == []


@pytest.mark.parametrize("gender_id,photo_id_type,gender", [
    (1.0, "{dni}", "male"), ("2", "{dni}.0", "female"), (" 3 ", "{dni}", "other"),
    (2, " {dni} ", "female"),
])
def test_gender_and_id_type_in_any_whole_form_register(api, ana, dni_type, database,
                                                        gender_id, photo_id_type, gender):
    client = api.test_client()
    r = client.post(NEW, headers=ana, json={
        "name": "Ana Quispe", "birth_year": 1980.0, "gender_id": gender_id,
        "photo_id_type": photo_id_type.format(dni=dni_type), "photo_id_number": "40123456"})
    assert r.status_code == 200, r.get_json()
    with database.session() as s:
        person = s.scalar(select(Beneficiary).where(
            Beneficiary.reference_id == r.get_json()["beneficiary_reference_id"]))
        assert (person.gender, person.id_document_type_id, person.birth_year) == (
            gender, dni_type, 1980)


def test_the_float_id_type_too(api, ana, dni_type, database):
    r = api.test_client().post(NEW, headers=ana, json={
        "name": "Ana Quispe", "birth_year": "1980", "gender_id": 2,
        "photo_id_type": float(dni_type), "photo_id_number": "40123456"})
    assert r.status_code == 200, r.get_json()
    with database.session() as s:
        assert s.scalar(select(Beneficiary.id_document_type_id)) == dni_type


def test_every_wrong_field_is_named_not_only_the_first(api, ana, dni_type, database):
    """The issue's "blames the wrong field": gender_id 1.0 with photo_id_type "1" was told
    "Choose a gender from the list." (the first wrong field in the schema's order, in words
    about choosing, not about the form), and photo_id_type was not mentioned. Now a value
    of the wrong form is told so by name, and every wrong field is named."""
    client = api.test_client()
    r = client.post(NEW, headers=ana, json={
        "name": "Ana Quispe", "birth_year": "1980", "gender_id": 1.5,
        "photo_id_type": "one", "photo_id_number": "40123456"})
    assert _refused(r) == ("gender_id must be a whole number. "
                           "photo_id_type must be a whole number.")
    r = client.post(NEW, headers=ana, json={
        "name": "Ana Quispe", "birth_year": "1980", "gender_id": "abc",
        "photo_id_type": dni_type, "photo_id_number": "40123456"})
    assert _refused(r) == "gender_id must be a whole number."
    r = client.post(NEW, headers={**ana, "Accept-Language": "es"}, json={
        "name": "Ana Quispe", "birth_year": "1980", "gender_id": 9,
        "photo_id_type": 1.5, "photo_id_number": "40123456"})
    error = _refused(r, "photo_id_type")
    assert "gender" not in error.split("photo_id_type")[1]  # each in its place, in Spanish
    with database.session() as s:
        assert s.scalar(select(Beneficiary.id)) is None


def test_what_a_spec_generated_client_sends_is_accepted(api, ana, dni_type, database):
    """The published client generated from Co-WIN's spec v2.1.0 types these fields
    ``number``: its bodies carry 2.0, not 2."""
    import cowin_client

    cowin_client.load()
    from cowin_api import models as m
    from fastapi.encoders import jsonable_encoder

    for model in (m.InlineObject4, m.InlineObject6):
        model.update_forward_refs()  # its annotations are strings, resolved on first use

    client = api.test_client()
    body = jsonable_encoder(m.InlineObject4(
        name="Ana Quispe", birth_year="1980", gender_id=2, photo_id_type=dni_type,
        photo_id_number="40123456", comorbidity_ind="N", consent_version="1"))
    assert body["gender_id"] == 2.0 and isinstance(body["gender_id"], float)
    r = client.post(NEW, headers=ana, json=body)
    assert r.status_code == 200, r.get_json()
    ref = r.get_json()["beneficiary_reference_id"]
    session_id, slot = api_session(database)
    body = jsonable_encoder(m.InlineObject6(dose=1, session_id=session_id, slot=slot,
                                            beneficiaries=[ref]))
    assert isinstance(body["dose"], float)
    r = client.post(SCHEDULE, headers=ana, json=body)
    assert r.status_code == 200, r.get_json()
    assert _booked(database, ref) == [(1, session_id)]


# --- dates: DD-MM-YYYY and DD-MM-YY ------------------------------------------------------------

@pytest.fixture
def district(database):
    with database.session() as s:
        return s.scalar(select(Facility.division_id).join(
            Division, Division.id == Facility.division_id).order_by(Facility.id))


def test_a_search_date_with_a_two_digit_year_is_20yy(api, district):
    client = api.test_client()
    url = "/api/v2/appointment/sessions/public/calendarByDistrict"
    day = TODAY + dt.timedelta(days=1)
    long = client.get(url, query_string={"district_id": district, "date": f"{day:%d-%m-%Y}"})
    assert long.status_code == 200 and long.get_json()["centers"]
    for written in (f"{day:%d-%m-%y}", f"{day.day}-{day.month}-{day:%y}"):
        short = client.get(url, query_string={"district_id": district, "date": written})
        assert short.status_code == 200, short.get_json()
        assert short.get_json() == long.get_json(), written


@pytest.mark.parametrize("date,text", [
    ("31-02-26", "date must be a date written DD-MM-YYYY"),
    ("05/12/26", "date must be a date written DD-MM-YYYY"),
    ("2026-12-05", "date must be a date written DD-MM-YYYY"),
    ("05-12-026", "date must be a date written DD-MM-YYYY"),
    ("05-12-2", "date must be a date written DD-MM-YYYY"),
    ("05-12-26 ", "date must be a date written DD-MM-YYYY"),
    ("tomorrow", "date must be a date written DD-MM-YYYY"),
    ("05-12-1999", "date must be a date in the years 2000 to 2100."),
    ("31-12-9999", "date must be a date in the years 2000 to 2100."),
])
def test_bad_search_dates_are_refused_naming_the_field(api, district, date, text):
    r = api.test_client().get("/api/v2/appointment/sessions/public/findByDistrict",
                              query_string={"district_id": district, "date": date},
                              headers={"Accept-Language": "en"})
    _refused(r, text)


@pytest.mark.parametrize("birth_year,birth_date,stored", [
    ("1980", "15-06-80", dt.date(1980, 6, 15)),
    (1925, "01-01-25", dt.date(1925, 1, 1)),  # the century birth_year says, not 2025
    ("2025", "01-01-25", dt.date(2025, 1, 1)),
    ("1980", "15-06-1980", dt.date(1980, 6, 15)),
])
def test_a_date_of_birth_with_a_two_digit_year(api, ana, dni_type, database, birth_year,
                                               birth_date, stored):
    r = api.test_client().post(NEW, headers=ana, json={
        "name": "Ana Quispe", "birth_year": birth_year, "gender_id": 2,
        "photo_id_type": dni_type, "photo_id_number": "40123456", "birth_date": birth_date})
    assert r.status_code == 200, r.get_json()
    with database.session() as s:
        assert s.scalar(select(Beneficiary.birth_date)) == stored
    people = api.test_client().get("/api/v2/appointment/beneficiaries", headers=ana).get_json()
    assert people["beneficiaries"][0]["birth_date"] == f"{stored:%d-%m-%Y}"


def test_a_two_digit_year_of_birth_alone_is_the_latest_not_after_this_year():
    field = inputs.birth_day()
    this_year = dt.datetime.now(dt.UTC).year
    yy = this_year % 100
    assert field.deserialize(f"05-12-{yy:02d}", data={}).year == this_year
    assert field.deserialize(f"05-12-{(yy + 1) % 100:02d}", data={}).year == this_year - 99
    assert field.deserialize(f"05-12-{yy:02d}", data={"birth_year": "x"}).year == this_year


def test_a_date_of_birth_of_another_year_is_still_refused(api, ana, dni_type, database):
    for birth_date, text in (("15-06-81", "Enter a date of birth in the year of birth."),
                             ("31-02-80", "birth_date must be a date written DD-MM-YYYY"),
                             ("15-06-", "birth_date must be a date written DD-MM-YYYY"),
                             ("15-06-9", "birth_date must be a date written DD-MM-YYYY")):
        r = api.test_client().post(NEW, headers=ana, json={
            "name": "Ana Quispe", "birth_year": "1980", "gender_id": 2,
            "photo_id_type": dni_type, "photo_id_number": "40123456", "birth_date": birth_date})
        _refused(r, text)
    with database.session() as s:
        assert s.scalar(select(Beneficiary.id)) is None


# --- JSON bodies whatever their declared type -------------------------------------------------

@pytest.mark.parametrize("content_type", [
    None, "text/plain", "text/plain; charset=utf-8", "application/x-www-form-urlencoded",
    "application/octet-stream", "application/json"])
def test_a_json_body_is_read_whatever_its_declared_type(api, cowin_kit_instance, dni_type,
                                                        database, content_type):
    client = api.test_client()
    kw = {"content_type": content_type} if content_type else {}
    r = client.post(GENERATE, data=json.dumps({"mobile": "987654321"}).encode(), **kw)
    assert r.request.headers.get("Content-Type") == content_type
    assert r.status_code == 200, r.get_json()
    ana = api_login(client, cowin_kit_instance, "987654321")
    body = {"name": "Ana Quispe", "birth_year": "1980", "gender_id": 2,
            "photo_id_type": dni_type, "photo_id_number": "40123456"}
    r = client.post(NEW, headers=ana, data=json.dumps(body).encode(), **kw)
    assert r.status_code == 200, r.get_json()
    ref = reference(database)
    session_id, slot = api_session(database)
    r = client.post(SCHEDULE, headers=ana, data=json.dumps({
        "dose": 1, "session_id": session_id, "slot": slot, "beneficiaries": [ref]}), **kw)
    assert r.status_code == 200, r.get_json()
    assert _booked(database, ref) == [(1, session_id)]


@pytest.mark.parametrize("content_type", [None, "text/plain",
                                          "application/x-www-form-urlencoded"])
def test_a_body_that_is_not_a_json_object_is_still_refused(api, ana, content_type):
    client = api.test_client()
    kw = {"content_type": content_type} if content_type else {}
    for raw in (b"", b"mobile=987654321", b"[]", b'"987654321"', b"\xff\xfe{", b"{"):
        r = client.post(GENERATE, data=raw, headers={"Accept-Language": "en"}, **kw)
        assert _refused(r) == "Send a JSON object in the request body.", raw
    r = client.post(SCHEDULE, data=b"", headers=ana, **kw)
    assert _refused(r) == "Send a JSON object in the request body."
    r = client.post(SCHEDULE, data=b"{}", headers=ana, **kw)  # a JSON object missing fields
    _refused(r, "dose is required.", "session_id is required.")


def test_the_body_guards_hold_for_any_declared_type(api, ana):
    client = api.test_client()
    for raw, text in (('{"mobile":' + "[" * 100 + "]" * 100 + "}", "nested too deeply"),
                      ('{"mobile": "98765\\u00004321"}', "mobile contains a character"),
                      ('{"dose": 9007199254740993, "session_id": "x"}', "dose must be a number"),
                      ('{"dose": 1, "beneficiaries": ["\\ud800"]}', "beneficiaries contains")):
        r = client.post(SCHEDULE, data=raw.encode(), headers=ana, content_type="text/plain")
        _refused(r, text)


def test_a_body_over_the_limit_is_413_whatever_its_type(cowin_kit_instance):
    from cowin_kit.app import create_app

    app = create_app({"INSTANCE_PATH": cowin_kit_instance, "TESTING": True,
                      "PROPAGATE_EXCEPTIONS": False, "MAX_CONTENT_LENGTH": 4096})
    try:
        big = json.dumps({"mobile": "9" * 5000}).encode()
        for content_type in (None, "text/plain"):
            kw = {"content_type": content_type} if content_type else {}
            r = app.test_client().post(GENERATE, data=big, **kw)
            assert r.status_code == 413 and r.get_json()["errorCode"] == "PAYLOAD_TOO_LARGE"
    finally:
        app.extensions["cowin_kit"].dispose()


def test_a_cross_site_post_cannot_act_for_a_portal_login(api, cowin_kit_instance, dni_type,
                                                         database):
    """A page of another site may now make a browser send a text/plain JSON body without a
    preflight; it gets the browser's cookies, never an Authorization header. The API
    authenticates by the Bearer header only, so a portal login cookie does nothing here."""
    client = api.test_client()
    web_login(client, cowin_kit_instance)  # the browser holds the portal's session cookie
    assert client.get("/portal/").status_code == 200  # logged in there
    for path, body in ((NEW, {"name": "Ana Quispe", "birth_year": "1980", "gender_id": 2,
                              "photo_id_type": dni_type, "photo_id_number": "40123456"}),
                       (SCHEDULE, {"dose": 1, "session_id": "x", "slot": "y",
                                   "beneficiaries": ["12345678901234"]})):
        r = client.post(path, data=json.dumps(body), content_type="text/plain",
                        headers={"Origin": "https://evil.example"})
        assert r.status_code == 401, r.get_json()
    with database.session() as s:
        assert s.scalar(select(Beneficiary.id)) is None


# --- the OpenAPI document --------------------------------------------------------------------

def test_the_document_says_integer_and_what_else_is_accepted(api):
    doc = api.test_client().get("/api/openapi.json").get_json()
    schemas = doc["components"]["schemas"]
    schedule = next(v for k, v in schemas.items() if k.startswith("Schedule")
                    and "dose" in v.get("properties", {}))
    dose = schedule["properties"]["dose"]
    assert dose["type"] == "integer" and (dose["minimum"], dose["maximum"]) == (1, MAX_INT)
    assert '"1"' in dose["description"] and "1.0" in dose["description"]
    new = next(v for k, v in schemas.items() if "gender_id" in v.get("properties", {}))
    gender = new["properties"]["gender_id"]
    assert gender["type"] == "integer" and gender["enum"] == [1, 2, 3]
    assert "1.0" in gender["description"] and "1 male" in gender["description"]
    assert new["properties"]["photo_id_type"]["type"] == "integer"
    birth = new["properties"]["birth_date"]
    search = doc["paths"]["/api/v2/appointment/sessions/public/findByDistrict"]["get"]
    (date,) = [p for p in search["parameters"] if p["name"] == "date"]
    for pattern in (date["schema"]["pattern"], birth["pattern"]):
        assert re.search(pattern, "05-12-2026") and re.search(pattern, "05-12-26")
        assert not re.search(pattern, "2026-12-05") and not re.search(pattern, "05-12-026")
    assert "DD-MM-YY is accepted" in date["description"]


def test_a_repeated_two_digit_year_search_is_answered_before_flask(app, client, district,
                                                                    monkeypatch):
    from cowin_kit.api import public

    day = TODAY + dt.timedelta(days=1)
    url = ("/api/v2/appointment/sessions/public/calendarByDistrict"
           f"?district_id={district}&date={day:%d-%m-%y}")
    first = client.get(url, headers={"Accept-Language": "en"})
    assert first.status_code == 200 and first.get_json()["centers"]
    calls, real = [], public.cached_search
    monkeypatch.setattr(public, "cached_search", lambda *a: calls.append(1) or real(*a))
    again = client.get(url, headers={"Accept-Language": "en"})
    assert again.get_data() == first.get_data() and calls == []


def test_an_adverse_event_with_a_two_digit_year_and_a_text_dose(api, ana, dni_type, database):
    from cowin_kit.vaccination.aefi_models import AefiReport

    client = api.test_client()
    ref = api_register(client, ana, dni_type, "40123456").get_json()["beneficiary_reference_id"]
    give_dose(database, ref, days_ago=2)
    body = {"beneficiary_reference_id": ref, "symptoms": ["fever"], "seriousness": "minor",
            "outcome": "recovered"}
    yesterday = TODAY - dt.timedelta(days=1)
    r = client.post("/api/v2/registration/beneficiary/aefi", headers=ana, json={
        **body, "dose": "1.5", "onset_date": f"{yesterday:%d-%m-%y}"})
    assert _refused(r) == "dose must be a whole number."
    r = client.post("/api/v2/registration/beneficiary/aefi", headers=ana, json={
        **body, "dose": "1", "onset_date": f"{yesterday:%d-%m-%y}"})
    assert r.status_code == 200, r.get_json()
    with database.session() as s:
        report = s.get(AefiReport, r.get_json()["aefi_id"])
        assert report.onset_on == yesterday
