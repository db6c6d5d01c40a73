"""Co-WIN's error codes (cowin_kit.api.cowin_codes): each mapped refusal, reached through the
real endpoints, answers with Co-WIN's errorCode and status while its text stays the kit's
message in the caller's language; a refusal without a Co-WIN equivalent keeps the kit's
code; the table names only message ids that exist and the API guide lists every code."""
import datetime as dt
import hashlib
import re
import uuid
from pathlib import Path

import pytest

from cowin_kit.accounts import otp
from cowin_kit.api import cowin_codes
from cowin_kit.api.errors import ApiError, answer
from cowin_kit.catalogues import load_translations, read_catalogue
from cowin_kit.errors import UserError
from cowin_kit.paths import locales_dir
from cowin_kit.scheduling import booking
from cowin_kit.scheduling.models import SessionCapacity
from cowin_kit.testing import last_otp

from helpers import TODAY, api_register, api_session, csrf

ROOT = Path(__file__).resolve().parents[1]
SPANISH = load_translations("es", [locales_dir()]).gettext
MOBILE = "987654321"
TOMORROW = (TODAY + dt.timedelta(days=1)).strftime("%d-%m-%Y")


def _in(lang: str, headers: dict) -> dict:
    return {**headers, "Accept-Language": lang}


def _same_code_other_words(english, other, code, status, expected_other_text=None):
    """Both answers carry ``code`` and ``status``; only the words differ, and the other
    language's are the catalogue's translation when given."""
    for r in (english, other):
        assert (r.status_code, r.get_json()["errorCode"]) == (status, code), r.get_json()
        assert set(r.get_json()) == {"errorCode", "error"}
    assert english.get_json()["error"] != other.get_json()["error"]
    if expected_other_text is not None:
        assert other.get_json()["error"] == expected_other_text


# --- booking ---------------------------------------------------------------------------------

def test_a_full_session_is_appoin0040_409(client, ana, dni_type, database):
    session_id, slot = api_session(database)
    with database.session() as s:
        cap = s.get(SessionCapacity, (session_id, 1))
        cap.booked = cap.capacity  # no place left
        s.commit()
    ref = api_register(client, ana, dni_type, "40123456").get_json()["beneficiary_reference_id"]
    body = {"dose": 1, "session_id": session_id, "slot": slot, "beneficiaries": [ref]}
    en = client.post("/api/v2/appointment/schedule", headers=_in("en", ana), json=body)
    es = client.post("/api/v2/appointment/schedule", headers=_in("es", ana), json=body)
    assert en.get_json()["error"] == "This session has no places left for dose 1."
    _same_code_other_words(en, es, "APPOIN0040", 409,
                           SPANISH(booking.MSG_FULL) % {"dose": 1})


def test_a_second_appointment_is_appoin0022_409(client, ana, dni_type, database):
    session_id, slot = api_session(database)
    ref = api_register(client, ana, dni_type, "40123456").get_json()["beneficiary_reference_id"]
    body = {"dose": 1, "session_id": session_id, "slot": slot, "beneficiaries": [ref]}
    assert client.post("/api/v2/appointment/schedule", headers=ana, json=body).status_code == 200
    en = client.post("/api/v2/appointment/schedule", headers=_in("en", ana), json=body)
    es = client.post("/api/v2/appointment/schedule", headers=_in("es", ana), json=body)
    assert "Ana Quispe already has an appointment" in en.get_json()["error"]
    _same_code_other_words(en, es, "APPOIN0022", 409,
                           SPANISH(cowin_codes.MSG_HAS_APPOINTMENT) % {"name": "Ana Quispe"})


def test_booking_refusals_without_a_co_win_code_keep_the_kits(client, ana, dni_type, database):
    ref = api_register(client, ana, dni_type, "40123456").get_json()["beneficiary_reference_id"]
    session_id, slot = api_session(database)
    unknown = client.post("/api/v2/appointment/schedule", headers=ana, json={
        "dose": 1, "session_id": str(uuid.uuid4()), "slot": slot, "beneficiaries": [ref]})
    assert (unknown.status_code, unknown.get_json()["errorCode"]) == (404, "NOT_FOUND")
    bad_slot = client.post("/api/v2/appointment/schedule", headers=ana, json={
        "dose": 1, "session_id": session_id, "slot": "03:17", "beneficiaries": [ref]})
    assert (bad_slot.status_code, bad_slot.get_json()["errorCode"]) == (400, "BAD_REQUEST")


# --- search ----------------------------------------------------------------------------------

@pytest.mark.parametrize("path", [
    "/api/v2/appointment/sessions/public/findByPin",
    "/api/v2/appointment/sessions/public/calendarByPin",
])
def test_an_invalid_pincode_is_appoin0018_400(client, path):
    # Too long for Peru's five digits (a shorter number is a code whose leading zeros were
    # dropped, as the answers send it: it is padded, not refused).
    query = {"pincode": "150011", "date": TOMORROW}
    en = client.get(path, query_string=query, headers={"Accept-Language": "en"})
    es = client.get(path, query_string=query, headers={"Accept-Language": "es"})
    assert en.get_json()["error"] == ("pincode must be a postal code of this country, "
                                      "e.g. 15001.")
    _same_code_other_words(en, es, "APPOIN0018", 400,
                           SPANISH(cowin_codes.MSG_PINCODE) % {"example": "15001"})


def test_an_invalid_pincode_is_appoin0018_when_logged_in_too(client, ana):
    r = client.get("/api/v2/appointment/sessions/findByPin", headers=ana,
                   query_string={"pincode": "15A01", "date": TOMORROW})
    assert (r.status_code, r.get_json()["errorCode"]) == (400, "APPOIN0018")


# --- login -----------------------------------------------------------------------------------

def _txn(client) -> str:
    return client.post("/api/v2/auth/public/generateOTP", json={"mobile": MOBILE}).get_json()[
        "txnId"]


def _wrong(right: str) -> str:
    for code in (b"000000", b"111111"):
        if hashlib.sha256(code).hexdigest() != right:
            return hashlib.sha256(code).hexdigest()


@pytest.mark.parametrize("prefix", ["/api/v2/auth/public/", "/api/v2/auth/"])
def test_a_wrong_otp_is_usraut0014_400(client, cowin_kit_instance, prefix):
    txn = client.post(prefix + "generateOTP", json={"mobile": MOBILE}).get_json()["txnId"]
    wrong = _wrong(hashlib.sha256(last_otp(cowin_kit_instance).encode()).hexdigest())
    en = client.post(prefix + "confirmOTP", json={"otp": wrong, "txnId": txn},
                     headers={"Accept-Language": "en"})
    es = client.post(prefix + "confirmOTP", json={"otp": wrong, "txnId": txn},
                     headers={"Accept-Language": "es"})
    assert en.get_json()["error"] == "Incorrect OTP."
    _same_code_other_words(en, es, "USRAUT0014", 400, SPANISH(otp.MSG_WRONG))


def test_an_invalid_mobile_is_usraut0010_400(client):
    body = {"mobile": "12"}
    en = client.post("/api/v2/auth/public/generateOTP", json=body,
                     headers={"Accept-Language": "en"})
    es = client.post("/api/v2/auth/public/generateOTP", json=body,
                     headers={"Accept-Language": "es"})
    _same_code_other_words(en, es, "USRAUT0010", 400, SPANISH(otp.MSG_MOBILE_INVALID))


@pytest.mark.parametrize("cowin_kit_config", [{}])  # the deployment's resend throttle
def test_otp_throttling_is_403_with_retry_after(client):
    assert client.post("/api/v2/auth/public/generateOTP",
                       json={"mobile": MOBILE}).status_code == 200
    en = client.post("/api/v2/auth/public/generateOTP", json={"mobile": MOBILE},
                     headers={"Accept-Language": "en"})
    es = client.post("/api/v2/auth/public/generateOTP", json={"mobile": MOBILE},
                     headers={"Accept-Language": "es"})
    _same_code_other_words(en, es, "OTP_THROTTLED", 403)
    for r in (en, es):
        wait = int(r.headers["Retry-After"])
        assert 0 < wait <= 60 and str(wait) in r.get_json()["error"]


def test_too_many_tries_is_403_and_other_login_refusals_keep_theirs(client, cowin_kit_instance,
                                                                      change_settings):
    txn = _txn(client)
    right = hashlib.sha256(last_otp(cowin_kit_instance).encode()).hexdigest()
    for _ in range(3):
        client.post("/api/v2/auth/public/confirmOTP", json={"otp": _wrong(right), "txnId": txn})
    en = client.post("/api/v2/auth/public/confirmOTP", json={"otp": right, "txnId": txn},
                     headers={"Accept-Language": "en"})
    es = client.post("/api/v2/auth/public/confirmOTP", json={"otp": right, "txnId": txn},
                     headers={"Accept-Language": "es"})
    _same_code_other_words(en, es, "OTP_TOO_MANY_TRIES", 403, SPANISH(otp.MSG_TOO_MANY))

    change_settings(OTP_TTL_SECONDS=0)  # expired on arrival: no Co-WIN code, the kit's 401
    txn = _txn(client)
    right = hashlib.sha256(last_otp(cowin_kit_instance).encode()).hexdigest()
    r = client.post("/api/v2/auth/public/confirmOTP", json={"otp": right, "txnId": txn})
    assert (r.status_code, r.get_json()["errorCode"]) == (401, "OTP_EXPIRED")
    r = client.get("/api/v2/appointment/beneficiaries", headers={"Authorization": "Bearer x"})
    assert (r.status_code, r.get_json()["errorCode"]) == (401, "NOT_AUTHENTICATED")


@pytest.mark.parametrize("cowin_kit_config", [{}])
def test_the_portal_is_not_affected(client):
    """The web pages show the same refusal as a form error, with their own statuses."""
    page = client.get("/portal/login").get_data(as_text=True)
    token = csrf(page)
    assert client.post("/portal/login", data={"mobile": MOBILE,
                                              "csrf_token": token}).status_code == 302
    page = client.get("/portal/login").get_data(as_text=True)
    r = client.post("/portal/login", data={"mobile": MOBILE, "csrf_token": csrf(page)},
                    headers={"Accept-Language": "en"})
    text = r.get_data(as_text=True)
    assert r.status_code == 400 and "text/html" in r.content_type
    assert "wait" in text and "OTP_THROTTLED" not in text and "APPOIN" not in text


# --- the table itself ------------------------------------------------------------------------

def test_a_code_a_view_gives_wins_and_an_unknown_refusal_keeps_its_own(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        captcha = answer(ApiError("Wrong captcha.", "captcha", code=cowin_codes.CAPTCHA_WRONG))
        assert (captcha.status_code, captcha.get_json()["errorCode"]) == (400, "APPOIN0044")
        # a view's explicit code beats the table, even on a message the table maps
        own = answer(ApiError(booking.MSG_FULL, code="MINE", status=409, dose=1))
        assert own.get_json()["errorCode"] == "MINE"
        # the same message raised without a code gets the table's
        mapped = answer(booking.SessionFull(booking.MSG_FULL, "session_id", dose=1))
        assert mapped.get_json()["errorCode"] == "APPOIN0040"
        new = answer(booking.Conflict("A refusal nobody mapped yet.", None))
        assert (new.status_code, new.get_json()["errorCode"]) == (409, "CONFLICT")


def test_every_message_id_in_the_table_is_one_the_code_still_raises(tmp_path):
    """A reworded message would silently lose its Co-WIN code: the table must follow."""
    from cowin_kit.catalogues import TEMPLATE, extract

    extract(ROOT, tmp_path)
    msgids = {m.id for m in read_catalogue(tmp_path / TEMPLATE) if m.id}
    assert set(cowin_codes.BY_MSGID) <= msgids, set(cowin_codes.BY_MSGID) - msgids
    for cls in cowin_codes.BY_CLASS:
        assert issubclass(cls, UserError)


def test_the_api_guide_lists_every_code():
    guide = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    section = guide.split("## Errors and limits", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `([A-Z0-9_]+)` \|", section, flags=re.M))
    assert cowin_codes.all_codes() <= listed, cowin_codes.all_codes() - listed
    for entry in (*cowin_codes.BY_MSGID.values(), *cowin_codes.BY_CLASS.values()):
        row = re.search(rf"^\| `{entry.code}` \| (\d+) \|", section, flags=re.M)
        assert row and entry.status is not None and int(row.group(1)) == entry.status
