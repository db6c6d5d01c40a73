"""Co-WIN v2 login over HTTP: generateOTP/confirmOTP, tokens, per-IP limits."""
import hashlib

import pytest

from cowin_kit.accounts import otp
from cowin_kit.api.errors import answer
from cowin_kit.testing import Outbox, last_otp

from helpers import api_confirm, api_otp, sha

MOBILE = "987654321"  # a Peruvian mobile number as people type it


def _login(client, instance, partner=False):
    return api_confirm(client, instance, MOBILE, partner=partner)


def test_public_login_gives_a_bearer_token(client, cowin_kit_instance):
    r = _login(client, cowin_kit_instance)
    assert r.status_code == 200 and set(r.get_json()) == {"token"}


def test_partner_login_says_whether_the_account_is_new(client, cowin_kit_instance):
    first = _login(client, cowin_kit_instance, partner=True).get_json()
    assert first["isNewAccount"] == "Y" and first["token"]
    # the resend throttle is off in these tests (conftest's cowin_kit_config)
    second = _login(client, cowin_kit_instance, partner=True).get_json()
    assert second["isNewAccount"] == "N"


def test_the_sms_is_in_the_callers_language(client, cowin_kit_instance):
    client.post("/api/v2/auth/public/generateOTP", json={"mobile": MOBILE},
                headers={"Accept-Language": "es"})
    text = Outbox(cowin_kit_instance).messages()[-1]["text"]
    assert "código" in text


@pytest.mark.parametrize("body,status,fragment", [
    (None, 400, "JSON object"),
    ({}, 400, "mobile is required"),
    ({"mobile": "12"}, 400, ""),
    ({"mobile": "+14155550100"}, 400, ""),
])
def test_bad_generate_requests(client, body, status, fragment):
    r = client.post("/api/v2/auth/public/generateOTP", json=body,
                    headers={"Accept-Language": "en"})
    assert r.status_code == status
    assert set(r.get_json()) == {"errorCode", "error"} and fragment in r.get_json()["error"]


def test_wrong_and_replayed_codes(client, cowin_kit_instance):
    txn = client.post("/api/v2/auth/public/generateOTP",
                      json={"mobile": MOBILE}).get_json()["txnId"]
    wrong = hashlib.sha256(b"000000").hexdigest()
    r = client.post("/api/v2/auth/public/confirmOTP", json={"otp": wrong, "txnId": txn})
    assert (r.status_code, r.get_json()["errorCode"]) == (400, "USRAUT0014")  # Co-WIN's
    right = hashlib.sha256(last_otp(cowin_kit_instance).encode()).hexdigest()
    assert client.post("/api/v2/auth/public/confirmOTP",
                       json={"otp": right, "txnId": txn}).status_code == 200
    replay = client.post("/api/v2/auth/public/confirmOTP", json={"otp": right, "txnId": txn})
    assert replay.status_code == 401
    bad = client.post("/api/v2/auth/public/confirmOTP", json={"otp": right, "txnId": "nope"})
    assert bad.status_code == 400


@pytest.mark.parametrize("cowin_kit_config", [{}])  # the deployment's resend throttle
def test_resend_throttle_is_403_with_retry_after(client):
    assert client.post("/api/v2/auth/public/generateOTP",
                       json={"mobile": MOBILE}).status_code == 200
    r = client.post("/api/v2/auth/public/generateOTP", json={"mobile": MOBILE})
    assert r.status_code == 403 and int(r.headers["Retry-After"]) > 0  # 403: as Co-WIN


def test_per_ip_limit(app, client):
    statuses = [client.post("/api/v2/auth/public/generateOTP",
                            json={"mobile": f"9876543{i:02d}"}).status_code for i in range(25)]
    # The address's limit is the domain's OTP throttling, answered as the API maps it.
    with app.test_request_context("/api/v2/auth/public/generateOTP"):
        throttled = answer(otp.OtpThrottled("x")).status_code
    assert statuses == [200] * 20 + [throttled] * 5


def test_logout_revokes_the_token(client, cowin_kit_instance):
    token = _login(client, cowin_kit_instance).get_json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    assert client.post("/api/v2/auth/logout", headers=auth).status_code == 200
    assert client.post("/api/v2/auth/logout", headers=auth).status_code == 401


def test_a_public_txn_cannot_be_confirmed_as_a_partner(client, cowin_kit_instance):
    txn, code = api_otp(client, cowin_kit_instance, MOBILE)
    digest = sha(code)
    r = client.post("/api/v2/auth/confirmOTP", json={"otp": digest, "txnId": txn})
    assert r.status_code == 400
    assert client.post("/api/v2/auth/public/confirmOTP",
                       json={"otp": digest, "txnId": txn}).status_code == 200


def test_too_many_tries_is_403_and_an_expired_code_401(client, cowin_kit_instance,
                                                       change_settings):
    txn = client.post("/api/v2/auth/public/generateOTP",
                      json={"mobile": MOBILE}).get_json()["txnId"]
    right = hashlib.sha256(last_otp(cowin_kit_instance).encode()).hexdigest()
    wrong = hashlib.sha256(b"000000" if right != hashlib.sha256(b"000000").hexdigest()
                           else b"111111").hexdigest()
    for _ in range(3):
        assert client.post("/api/v2/auth/public/confirmOTP",
                           json={"otp": wrong, "txnId": txn}).status_code == 400
    r = client.post("/api/v2/auth/public/confirmOTP", json={"otp": right, "txnId": txn})
    assert r.status_code == 403 and r.get_json()["errorCode"] == "OTP_TOO_MANY_TRIES"

    change_settings(OTP_TTL_SECONDS=0)  # the code is already expired when it arrives
    txn = client.post("/api/v2/auth/public/generateOTP",
                      json={"mobile": MOBILE}).get_json()["txnId"]
    right = hashlib.sha256(last_otp(cowin_kit_instance).encode()).hexdigest()
    r = client.post("/api/v2/auth/public/confirmOTP", json={"otp": right, "txnId": txn})
    assert r.status_code == 401 and r.get_json()["errorCode"] == "OTP_EXPIRED"
