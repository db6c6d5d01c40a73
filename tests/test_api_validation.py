"""API input is validated by the schemas that document it (issue 10, item 6): every query
string and JSON body the OpenAPI document describes is loaded, by its view, with that very
schema (cowin_kit.api.body.load_query / load_body); a refusal is Co-WIN's error shape, 400,
naming the field; what the API accepted before it still accepts."""
from __future__ import annotations

import hashlib
import json

import pytest
from apispec.ext.marshmallow import resolver
from marshmallow import fields, validate
from sqlalchemy import select

from cowin_kit.api import body, inputs, openapi
from cowin_kit.db import MAX_INT
from cowin_kit.geography.models import Division
from cowin_kit.registration.models import IdDocumentType

EN = {"Accept-Language": "en"}


@pytest.fixture
def api(cowin_kit_instance):
    from cowin_kit.app import create_app

    # The per-address limits would answer these many tries 429 before reading them.
    app = create_app({"INSTANCE_PATH": cowin_kit_instance, "RATELIMIT_ENABLED": False,
                      "TESTING": True})
    yield app
    app.extensions["cowin_kit"].dispose()


@pytest.fixture
def auth(api, cowin_kit_instance):
    client = api.test_client()
    txn = client.post("/api/v2/auth/public/generateOTP",
                      json={"mobile": "987654321"}).get_json()["txnId"]
    line = (cowin_kit_instance / "sms-outbox.jsonl").read_text(encoding="utf-8").splitlines()[-1]
    code = next(w for w in json.loads(line)["text"].split() if w.isdigit() and len(w) == 6)
    token = client.post("/api/v2/auth/public/confirmOTP", json={
        "otp": hashlib.sha256(code.encode()).hexdigest(), "txnId": txn}).get_json()["token"]
    return {"Authorization": f"Bearer {token}", **EN}


@pytest.fixture
def district_id(database):
    with database.session() as s:
        return s.scalar(select(Division.id).where(Division.level == 2))


@pytest.fixture
def dni_type(database):
    with database.session() as s:
        return s.scalar(select(IdDocumentType.id).where(IdDocumentType.code == "dni"))


def _refused(r, field: str, text: str | None = None) -> str:
    assert r.status_code == 400, (r.status_code, r.get_data(as_text=True)[:300])
    answer = r.get_json()
    assert set(answer) == {"errorCode", "error"} and answer["errorCode"] == "BAD_REQUEST"
    if text is not None:
        assert answer["error"] == text
    assert field in answer["error"], answer
    return answer["error"]


# --- the document and the checks cannot drift ----------------------------------------------

def test_every_documented_input_is_loaded_by_its_view_with_its_schema(api, auth, monkeypatch):
    """Walk the OpenAPI document: each operation with a query or a body is called with
    nothing in it, and must answer 400 (200 when every parameter is optional) after loading
    exactly the schema the document was generated from (whose query parameters are the ones
    the document lists)."""
    loaded = []
    real = body.load

    def spy(schema, data):
        from flask import request

        loaded.append((request.endpoint, type(schema)))
        return real(schema, data)

    monkeypatch.setattr(body, "load", spy)
    client = api.test_client()
    doc = client.get("/api/openapi.json").get_json()
    checked = 0
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            endpoint = operation["operationId"].split("_", 1)[1]
            query = [p for p in operation.get("parameters", []) if p["in"] == "query"]
            request_body = operation.get("requestBody")
            if not query and not request_body:
                assert not {"query", "body"} & set(openapi.ENDPOINTS[endpoint]), endpoint
                continue
            kind = "body" if request_body else "query"
            schema = openapi.ENDPOINTS[endpoint][kind]
            if request_body:
                ref = request_body["content"]["application/json"]["schema"]["$ref"]
                assert ref.rsplit("/", 1)[1] == resolver(schema), endpoint
            else:
                assert {p["name"] for p in query} == {
                    f.data_key or n for n, f in schema().fields.items()}, endpoint
            loaded.clear()
            r = client.open(path, method=method.upper(), headers=auth,
                            **({"json": {}} if request_body else {}))
            # A query whose parameters are all optional (the reports') is answered.
            empty_is_fine = not request_body and not any(p.get("required") for p in query)
            assert r.status_code == (200 if empty_is_fine else 400), (
                endpoint, r.status_code, r.get_json())
            assert loaded == [(endpoint, schema)], endpoint
            checked += 1
    assert checked >= 17  # 13 public and logged-in searches and bodies, 4 login bodies


def test_every_refusal_of_a_request_schema_is_a_message_id_of_ours():
    """No marshmallow default text ("Not a valid integer.") reaches a client: those are
    English only and name no field."""
    defaults = set()
    for cls in vars(fields).values():
        if isinstance(cls, type) and issubclass(cls, fields.Field):
            defaults |= set(getattr(cls, "default_error_messages", {}).values())
    for cls in vars(validate).values():
        if isinstance(cls, type) and hasattr(cls, "default_message"):
            defaults.add(cls.default_message)
    defaults |= {getattr(validate.Range, m) for m in dir(validate.Range) if m.startswith("message")}
    documented = {entry[kind] for entry in openapi.ENDPOINTS.values()
                  for kind in ("query", "body") if entry.get(kind)}
    for schema in documented:
        for message in inputs.request_messages(schema()):
            assert message not in defaults and "{" not in message, (schema, message)


def test_unknown_fields_and_empty_filters_are_still_ignored(api, auth, district_id):
    client = api.test_client()
    url = "/api/v2/appointment/sessions/public/findByDistrict"
    r = client.get(url, query_string={"district_id": district_id, "date": "21-05-2021",
                                      "dose": "", "fee_type": "", "min_age_limit": "",
                                      "vaccine": "", "utm_source": "x"}, headers=EN)
    assert r.status_code == 200, r.get_json()
    r = client.post("/api/v2/auth/public/generateOTP", headers=EN,
                    json={"mobile": " 987654322 ", "channel": "sms"})
    assert r.status_code == 200, r.get_json()
    # fee_type in any case, a date with one-digit day and month, as Python reads them
    r = client.get(url, query_string={"district_id": district_id, "date": "1-5-2021",
                                      "fee_type": "paid"}, headers=EN)
    assert r.status_code == 200, r.get_json()


def test_a_year_of_birth_may_be_text_or_a_number(api, auth, dni_type):
    client = api.test_client()
    for number, year in (("40123456", "1980"), ("40123457", 1981)):
        r = client.post("/api/v2/registration/beneficiary/new", headers=auth, json={
            "name": "Ana Quispe", "birth_year": year, "gender_id": 2, "photo_id_type": dni_type,
            "photo_id_number": number, "comorbidity_ind": None, "priority_groups": None})
        assert r.status_code == 200, r.get_json()


# --- bad input: 400, the field named ---------------------------------------------------------

RANGE = f"from 1 to {MAX_INT}."


@pytest.mark.parametrize("change,field,text", [
    ({"dose": "one"}, "dose", "dose must be a whole number."),
    ({"dose": True}, "dose", "dose must be a whole number."),
    ({"dose": 1.5}, "dose", "dose must be a whole number."),
    ({"dose": 0}, "dose", f"dose must be a whole number {RANGE}"),
    ({"dose": MAX_INT + 1}, "dose", f"dose must be a whole number {RANGE}"),
    ({"dose": None}, "dose", "dose is required."),
    ({"session_id": 5}, "session_id", "session_id must be text."),
    ({"slot": ["09:00"]}, "slot", "slot must be text."),
    ({"session_id": ...}, "session_id", "session_id is required."),
    ({"slot": ...}, "slot", "slot is required."),
])
def test_bad_schedule_bodies(api, auth, change, field, text):
    values = {"dose": 1, "session_id": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
              "slot": "09:00AM-11:00AM", "beneficiaries": ["12345678901234"], **change}
    values = {k: v for k, v in values.items() if v is not ...}
    r = api.test_client().post("/api/v2/appointment/schedule", headers=auth, json=values)
    _refused(r, field, text)


@pytest.mark.parametrize("change,field,text", [
    ({"photo_id_type": "1.5"}, "photo_id_type", "photo_id_type must be a whole number."),
    ({"photo_id_type": 0}, "photo_id_type", f"photo_id_type must be a whole number {RANGE}"),
    ({"photo_id_type": ...}, "photo_id_type", "photo_id_type is required."),
    ({"photo_id_number": 40123456}, "photo_id_number", "photo_id_number must be text."),
    ({"birth_year": "19x0"}, "birth_year",
     "birth_year must be a year of birth written with 4 digits, e.g. 1980."),
    ({"birth_year": "01980"}, "birth_year", None),
    ({"birth_year": True}, "birth_year", None),
])
def test_bad_beneficiary_bodies(api, auth, dni_type, change, field, text):
    values = {"name": "Ana Quispe", "birth_year": "1980", "gender_id": 2,
              "photo_id_type": dni_type, "photo_id_number": "40123456", **change}
    values = {k: v for k, v in values.items() if v is not ...}
    r = api.test_client().post("/api/v2/registration/beneficiary/new", headers=auth,
                               json=values)
    _refused(r, field, text)


def test_refusals_that_keep_the_domains_words(api, auth, dni_type):
    """Where a domain says it in its own words (the portal's forms say the same), the schema
    says the same: the field is the one the words are about."""
    client = api.test_client()
    good = {"name": "Ana Quispe", "birth_year": "1980", "gender_id": 2,
            "photo_id_type": dni_type, "photo_id_number": "40123456"}
    new = "/api/v2/registration/beneficiary/new"
    for change, text in (({"gender_id": 4}, "Choose a gender from the list."),
                         ({"gender_id": "4"}, "Choose a gender from the list."),
                         ({"gender_id": None}, "Choose a gender from the list."),
                         ({"name": None}, "Enter the name as on the ID document."),
                         ({"priority_groups": "health-workers"},
                          "This priority group is not one of the deployment's.")):
        r = client.post(new, headers=auth, json={**good, **change})
        assert r.status_code == 400 and r.get_json()["error"] == text, (change, r.get_json())
    r = client.post("/api/v2/appointment/schedule", headers=auth, json={
        "dose": 1, "session_id": "x", "slot": "y", "beneficiaries": [1]})
    assert r.get_json()["error"] == "Choose at least one beneficiary."


@pytest.mark.parametrize("query,field,text", [
    ({"district_id": str(MAX_INT + 1)}, "district_id",
     f"district_id must be a whole number {RANGE}"),
    ({"district_id": "12345678901"}, "district_id", "district_id must be a whole number."),
    ({"district_id": " 1"}, "district_id", "district_id must be a whole number."),
    ({"district_id": None}, "district_id", "district_id is required."),
    ({"date": None}, "date", "date is required."),
    ({"date": "2021-05-21"}, "date", None),
    ({"dose": str(MAX_INT + 1)}, "dose", f"dose must be a whole number {RANGE}"),
    ({"min_age_limit": "1e2"}, "min_age_limit", "min_age_limit must be a whole number."),
])
def test_bad_search_queries(api, district_id, query, field, text):
    values = {"district_id": str(district_id), "date": "21-05-2021", **query}
    values = {k: v for k, v in values.items() if v is not None}
    r = api.test_client().get("/api/v2/appointment/sessions/public/findByDistrict",
                              query_string=values, headers=EN)
    _refused(r, field, text)


@pytest.mark.parametrize("lat,long,text", [
    ("100", "1", "lat must be within ±90 and long within ±180."),
    ("1", "-180.5", "lat must be within ±90 and long within ±180."),
    ("nan", "1", "lat must be within ±90 and long within ±180."),
    ("1", None, "lat and long must be decimal degrees, e.g. -12.05 and -77.04."),
])
def test_bad_points(api, lat, long, text):
    r = api.test_client().get("/api/v2/appointment/centers/public/findByLatLong",
                              query_string={"lat": lat, **({"long": long} if long else {})},
                              headers=EN)
    assert r.status_code == 400 and r.get_json() == {"errorCode": "BAD_REQUEST", "error": text}


def test_refusals_name_the_field_in_the_callers_language(api, auth):
    r = api.test_client().post("/api/v2/appointment/schedule",
                               headers={**auth, "Accept-Language": "es"},
                               json={"dose": "uno", "session_id": "x", "slot": "y",
                                     "beneficiaries": ["12345678901234"]})
    assert r.status_code == 400 and "dose" in r.get_json()["error"]
