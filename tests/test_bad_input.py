"""Bad input is a 4xx, never a 500 or a 503 (issue 9, item 5): deep JSON, NULs, unpaired
surrogates and huge numbers in every API body field and id, on SQLite and PostgreSQL; ids
in the portal's and the staff pages' paths and queries; request bodies capped by
MAX_CONTENT_LENGTH with a 413 that is never read whole."""
import io
import json

import pytest
from sqlalchemy import select

from cowin_kit.api import openapi
from cowin_kit.app import create_app
from cowin_kit.registration.models import IdDocumentType

from helpers import api_login, api_register, api_session, csrf, staff_login, web_login

# Text and numbers that reached the database as errors before: a NUL (PostgreSQL refuses
# it in text: was 503), an unpaired surrogate (no UTF-8 encoder takes it: was 500),
# numbers beyond PostgreSQL's INTEGER, SQLite's 64 bits and JSON's doubles (were 503/500).
NUL, SURROGATE = "\x00", "\ud800"
HUGE = [2 ** 31, 2 ** 63, 2 ** 64 + 1, 10 ** 30, -(2 ** 63) - 1]

BODY_ENDPOINTS = sorted((name, entry) for name, entry in openapi.ENDPOINTS.items()
                        if entry.get("body"))


@pytest.fixture
def api(cowin_kit_instance):
    # A crash is answered as in production (a 500, not an exception); the per-address
    # limits (tests/test_api_auth.py) would answer these many tries 429 before reading them.
    app = create_app({"INSTANCE_PATH": cowin_kit_instance, "PROPAGATE_EXCEPTIONS": False,
                      "RATELIMIT_ENABLED": False})
    yield app
    app.extensions["cowin_kit"].db.dispose()


@pytest.fixture
def ana(api, cowin_kit_instance):
    return api_login(api.test_client(), cowin_kit_instance, "987654321")


def _path(app, endpoint: str) -> tuple[str, str]:
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    return rule.rule, next(iter(rule.methods - {"HEAD", "OPTIONS"}))


def _post(client, path, raw: str, headers=None):
    return client.post(path, data=raw.encode("utf-8", "surrogatepass"),
                       content_type="application/json", headers=headers or {})


def _assert_api_error(r, *statuses):
    assert r.status_code in statuses, (r.status_code, r.get_data(as_text=True)[:300])
    assert r.mimetype == "application/json"
    assert set(r.get_json()) == {"errorCode", "error"}


def _valid_body(schema) -> dict:
    """A body of the right shape: every declared field, with a value of its type."""
    from marshmallow import fields

    body = {}
    for name, field in schema().fields.items():
        key = field.data_key or name
        body[key] = (1 if isinstance(field, fields.Integer) else
                     ["1"] if isinstance(field, fields.List) else "1")
    return body


def test_deeply_nested_json_is_400_on_every_endpoint(api, ana):
    for endpoint, _entry in BODY_ENDPOINTS:
        path, _method = _path(api, endpoint)
        for headers in ({"Accept-Language": "en"}, ana):
            for raw in ("[" * 1000 + "]" * 1000,  # 2 kB, was a RecursionError: 500
                        '{"a":' * 1000 + "1" + "}" * 1000,
                        '{"mobile":' + "[" * 100 + "]" * 100 + "}"):  # deep, yet parseable
                r = _post(api.test_client(), path, raw, headers)
                if headers is not ana and openapi.requires_login(openapi.ENDPOINTS[endpoint]):
                    _assert_api_error(r, 401)
                else:
                    _assert_api_error(r, 400)
                    assert ("nested too deeply" in r.get_json()["error"]
                            or "JSON object" in r.get_json()["error"]), (endpoint, raw[:20])


def test_nul_and_unpaired_surrogates_are_400_in_every_field(api, ana):
    client = api.test_client()
    for endpoint, entry in BODY_ENDPOINTS:
        path, _method = _path(api, endpoint)
        good = _valid_body(entry["body"])
        for key in good:
            for bad in (NUL, SURROGATE, "40123456" + NUL, [NUL], {"x": SURROGATE}):
                raw = json.dumps({**good, key: bad})  # \u0000 and \ud800 escapes, as sent
                r = _post(client, path, raw, ana)
                _assert_api_error(r, 400)
                assert key in r.get_json()["error"] and "not allowed" in r.get_json()["error"]
        r = _post(client, path, json.dumps({**good, NUL: 1}), ana)  # in a key, too
        _assert_api_error(r, 400)


def test_huge_and_non_finite_numbers_are_400_in_every_field(api, ana):
    client = api.test_client()
    for endpoint, entry in BODY_ENDPOINTS:
        path, _method = _path(api, endpoint)
        good = _valid_body(entry["body"])
        for key in good:
            for number in [*map(str, HUGE), "1e400", "-1e400", "NaN", "Infinity", "9" * 5000]:
                raw = json.dumps({**good, key: "@"}).replace('"@"', number)
                r = _post(client, path, raw, ana)
                # 400, or for a field that takes no number and is looked at after another
                # field's refusal: still a refusal, never an error of the server.
                _assert_api_error(r, 400, 404, 409)


def test_ids_that_reach_the_database_are_checked_against_its_range(api, ana, database):
    """An id beyond PostgreSQL's INTEGER used to answer 503 (an outage, to monitoring)."""
    client = api.test_client()
    with database.session() as s:
        dni = s.scalar(select(IdDocumentType.id).where(IdDocumentType.code == "dni"))
    ref = api_register(client, ana, dni, "40123456").get_json()["beneficiary_reference_id"]
    session_id, slot = api_session(database)
    for value in (2 ** 31, 2 ** 53 - 1, 0, -1):
        r = client.post("/api/v2/appointment/schedule", headers=ana, json={
            "dose": value, "session_id": session_id, "slot": slot, "beneficiaries": [ref]})
        _assert_api_error(r, 400)
        r = client.post("/api/v2/registration/beneficiary/new", headers=ana, json={
            "name": "Ana", "birth_year": "1980", "gender_id": value, "photo_id_type": value,
            "photo_id_number": "40123457"})
        _assert_api_error(r, 400)
    r = client.post("/api/v2/appointment/schedule", headers=ana, json={
        "dose": 2 ** 31, "session_id": session_id, "slot": slot, "beneficiaries": [ref]})
    assert r.get_json()["error"] == "dose must be a whole number from 1 to 2147483647."
    for raw in ("2147483648", "9223372036854775808", "99999999999999999999", "0"):
        _assert_api_error(client.get(f"/api/v2/admin/location/districts/{raw}"), 404)
        r = client.get("/api/v2/appointment/sessions/public/findByDistrict",
                       query_string={"district_id": raw, "date": "01-01-2030"})
        _assert_api_error(r, 400, 404)
    assert client.get("/api/v2/admin/location/districts/2147483647").status_code == 404


TEXT_IDS = [NUL, "abc" + NUL, "99999999999999999999999", "9223372036854775808", "-1",
            "%ED%A0%80", "\ufffd"]


def test_text_ids_in_api_bodies_and_queries(api, ana):
    for value in TEXT_IDS:
        _text_id(api.test_client(), ana, value)


def _text_id(client, ana, value):
    for path, body in (("/api/v2/registration/beneficiary/delete",
                        {"beneficiary_reference_id": value}),
                       ("/api/v2/appointment/cancel", {"appointment_id": value}),
                       ("/api/v2/appointment/cancel", {"appointment_id": value,
                                                        "beneficiariesToCancel": [value]}),
                       ("/api/v2/appointment/reschedule", {"appointment_id": value,
                                                           "session_id": value, "slot": value}),
                       ("/api/v2/appointment/schedule", {"dose": 1, "session_id": value,
                                                         "slot": value,
                                                         "beneficiaries": [value]})):
        _assert_api_error(client.post(path, headers=ana, json=body), 400, 404)
    r = client.get("/api/v2/appointment/appointmentslip/download",
                   query_string={"appointment_id": value}, headers=ana)
    _assert_api_error(r, 400)
    for query in ({"pincode": value, "date": "01-01-2030"},
                  {"pincode": "15001", "date": "01-01-2030", "vaccine": value},
                  {"pincode": "15001", "date": value}):
        r = client.get("/api/v2/appointment/sessions/public/findByPin", query_string=query)
        _assert_api_error(r, 400)


# --- the portal and the staff pages ----------------------------------------------------------

PATH_IDS = ["%00", "abc%00", "99999999999999999999999", "9223372036854775808", "2147483648",
            "%ED%A0%80", "%C0%80", "-1", "1e400"]


@pytest.fixture
def citizen(api, cowin_kit_instance):
    client = api.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return web_login(client, cowin_kit_instance)


def test_portal_ids_in_paths_are_404_pages(citizen):
    for raw in PATH_IDS:
        _portal_paths(citizen, raw)


def _portal_paths(citizen, raw):
    for path in (f"/portal/appointments/{raw}", f"/portal/appointments/{raw}/cancel",
                 f"/portal/appointments/{raw}/slip.pdf", f"/portal/members/{raw}/edit",
                 f"/portal/members/{raw}/delete"):
        r = citizen.get(path)
        assert r.status_code == 404, (path, r.status_code)
        assert r.mimetype == "text/html"
    token = csrf(citizen.get("/portal/").get_data(as_text=True))
    for path in (f"/portal/appointments/{raw}/cancel", f"/portal/members/{raw}/delete",
                 f"/portal/members/{raw}/edit"):
        assert citizen.post(path, data={"csrf_token": token}).status_code == 404, path


def test_portal_ids_in_queries_and_forms_are_pages(citizen):
    for raw in PATH_IDS:
        _portal_queries(citizen, raw)


def _portal_queries(citizen, raw):
    for name in ("state", "district", "for", "move", "age", "dose"):
        r = citizen.get(f"/portal/search?by=district&{name}={raw}&district={raw}")
        assert r.status_code in (200, 400, 404), (name, r.status_code)
        assert r.mimetype == "text/html"
    token = csrf(citizen.get("/portal/").get_data(as_text=True))
    r = citizen.post("/portal/book", data={"session_id": raw, "slot": raw, "members": raw,
                                           "csrf_token": token})
    assert r.status_code in (302, 400, 404), r.status_code


@pytest.fixture
def admin(api):
    client = api.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert staff_login(client).status_code == 302
    return client


def test_staff_ids_in_paths_and_queries_are_pages(admin):
    for raw in PATH_IDS:
        r = admin.get(f"/staff/centres/{raw}")
        assert r.status_code == 404 and r.mimetype == "text/html", (raw, r.status_code)
        r = admin.get(f"/staff/?page={raw}")
        assert r.status_code == 200, (raw, r.status_code)


# --- body size -------------------------------------------------------------------------------

@pytest.fixture
def small_app(cowin_kit_instance):
    app = create_app({"INSTANCE_PATH": cowin_kit_instance, "TESTING": True,
                      "PROPAGATE_EXCEPTIONS": False,
                      "MAX_CONTENT_LENGTH": 4096, "MAX_UPLOAD_LENGTH": 16384})
    yield app
    app.extensions["cowin_kit"].db.dispose()


def test_a_body_over_the_limit_is_413_in_the_api_error_shape(small_app, cowin_kit_instance):
    client = small_app.test_client()
    auth = api_login(client, cowin_kit_instance, "987654321")
    big = json.dumps({"mobile": "9" * 5000})
    for path in ("/api/v2/auth/public/generateOTP", "/api/v2/appointment/schedule"):
        r = client.post(path, data=big, content_type="application/json", headers=auth)
        _assert_api_error(r, 413)
        assert r.get_json() == {"errorCode": "PAYLOAD_TOO_LARGE",
                                "error": "The request body is too large."}
    ok = client.post("/api/v2/auth/public/generateOTP", json={"mobile": "9" * 1000})
    _assert_api_error(ok, 400)  # within the limit: read, and refused for what it says


class CountingStream(io.RawIOBase):
    """A request body of ``size`` bytes made on demand, counting what the app reads."""

    def __init__(self, size: int):
        self.size, self.read_bytes = size, 0

    def readable(self):
        return True

    def readinto(self, buffer):
        n = min(len(buffer), self.size - self.read_bytes)
        buffer[:n] = b" " * n
        self.read_bytes += n
        return n


@pytest.mark.parametrize("declared", [True, False])
def test_a_200_mb_body_is_not_read_whole(small_app, declared):
    """Declared (Content-Length) or streamed (chunked, as gunicorn passes it on), at most
    the limit is read before the 413."""
    from werkzeug.test import EnvironBuilder, run_wsgi_app

    size = 200 * 1024 * 1024
    stream = CountingStream(size)
    environ = EnvironBuilder(path="/api/v2/auth/public/generateOTP", method="POST",
                             content_type="application/json",
                             headers={"Accept-Language": "en"}).get_environ()
    environ["wsgi.input"] = stream
    if declared:
        environ["CONTENT_LENGTH"] = str(size)
    else:
        environ.pop("CONTENT_LENGTH", None)
        environ["wsgi.input_terminated"] = True
    body, status, headers = run_wsgi_app(small_app, environ, buffered=True)
    assert status.startswith("413"), status
    assert json.loads(b"".join(body)) == {"errorCode": "PAYLOAD_TOO_LARGE",
                                          "error": "The request body is too large."}
    assert stream.read_bytes <= 4096 + 65536, stream.read_bytes


def test_portal_and_staff_answer_413_with_a_page(small_app, cowin_kit_instance):
    client = small_app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    token = csrf(client.get("/portal/login").get_data(as_text=True))
    r = client.post("/portal/login", data={"mobile": "9" * 5000, "csrf_token": token})
    assert r.status_code == 413 and r.mimetype == "text/html"
    assert "larger than this service accepts" in r.get_data(as_text=True)
    r = client.post("/staff/login", data={"email": "a" * 5000, "password": "x",
                                          "csrf_token": token})
    assert r.status_code == 413 and r.mimetype == "text/html"


def test_the_staff_import_takes_files_up_to_max_upload_length(small_app):
    client = small_app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert staff_login(client).status_code == 302
    header = "centre_code,date,vaccine,min_age,max_age,capacity_dose1,capacity_dose2,slots,fee\n"
    for size, status in ((8000, 400), (20000, 413)):  # over MAX_CONTENT_LENGTH / the upload's
        token = csrf(client.get("/staff/sessions/import").get_data(as_text=True))
        csv = header + "# " + "x" * (size - len(header)) + "\n"
        r = client.post("/staff/sessions/import", content_type="multipart/form-data", data={
            "csrf_token": token, "file": (io.BytesIO(csv.encode()), "sessions.csv")})
        assert r.status_code == status, (size, r.status_code)
        assert r.mimetype == "text/html"


# --- the last line of defence ------------------------------------------------------------

def test_a_value_the_database_refuses_is_400_not_503(cowin_kit_instance):
    """Whatever input slips past the checks and is refused by the database (a DataError:
    out of range, a NUL) is the request's fault: 400, not an outage."""
    from sqlalchemy.exc import DataError, OperationalError

    def refuse_value():
        raise DataError("SELECT 1", {}, Exception("integer out of range"))

    def database_down():
        raise OperationalError("SELECT 1", {}, Exception("could not connect"))

    api = create_app({"INSTANCE_PATH": cowin_kit_instance, "PROPAGATE_EXCEPTIONS": False})
    api.add_url_rule("/api/v2/test/refused", "test_refused", refuse_value)
    api.add_url_rule("/api/v2/test/down", "test_down", database_down)
    api.add_url_rule("/portal/test-refused", "test_portal_refused", refuse_value)
    client = api.test_client()
    r = client.get("/api/v2/test/refused")
    _assert_api_error(r, 400)
    assert "Retry-After" not in r.headers
    r = client.get("/api/v2/test/down")
    _assert_api_error(r, 503)
    assert r.headers["Retry-After"] == "30"
    r = client.get("/portal/test-refused")
    assert r.status_code == 400 and r.mimetype == "text/html"
    api.extensions["cowin_kit"].db.dispose()


def test_an_error_keeps_its_headers(api):
    """A 405 names the methods allowed (Allow, as RFC 9110 requires), whether the answer
    is the API's JSON or a page (schemathesis found the API's JSON 405 without it)."""
    client = api.test_client()
    r = client.delete("/api/v2/admin/location/states")
    _assert_api_error(r, 405)
    assert set(r.headers["Allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "OPTIONS"}
    r = client.put("/api/v2/auth/public/generateOTP")
    assert r.status_code == 405 and "POST" in r.headers["Allow"]
    r = client.delete("/portal/login")
    assert r.status_code == 405 and r.mimetype == "text/html" and "POST" in r.headers["Allow"]
