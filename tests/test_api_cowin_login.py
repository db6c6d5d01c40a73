"""Co-WIN's web-app login (auth/generateMobileOTP, auth/validateMobileOtp), the signed JWTs
every login gives, and what throttled and successful login answers carry (Retry-After)."""
import base64
import datetime as dt
import json
import time
import uuid

import jwt
import pytest
from sqlalchemy import select

from cowin_kit.accounts.models import ApiToken
from cowin_kit.accounts.otp import OtpThrottled
from cowin_kit.api.errors import answer
from cowin_kit.scheduling.models import SessionCapacity, VaccinationSession
from cowin_kit.testing import last_otp

from helpers import TODAY, api_register, api_session, sha

MOBILE = "987654321"
# What Co-WIN's web app sent; clients copied it into their code.
WEB_SECRET = ("U2FsdGVkX1/3I5UgN1RozGJtexc1kfsaCKPadSux9LY+cVUADlIDuKn0wCN+Y8iB4ceu6gFxNQ5cCfjm"
              "1BsmRQ==")


def web_login(client, instance, mobile=MOBILE, secret=WEB_SECRET, **request):
    """The web-app login as a Co-WIN booking script does it; its token."""
    r = client.post("/api/v2/auth/generateMobileOTP", json={"mobile": mobile, "secret": secret},
                    **request)
    assert r.status_code == 200, r.get_json()
    txn = r.get_json()["txnId"]
    uuid.UUID(txn)
    r = client.post("/api/v2/auth/validateMobileOtp",
                    json={"otp": sha(last_otp(instance)), "txnId": txn}, **request)
    assert r.status_code == 200, r.get_json()
    assert set(r.get_json()) == {"token"}
    return r.get_json()["token"]


def bearer(token):
    return {"Authorization": f"Bearer {token}", "Accept-Language": "en"}


def _other_session(database, session_id):
    with database.session() as s:
        other = s.scalar(select(VaccinationSession).join(SessionCapacity).where(
            VaccinationSession.date > TODAY, VaccinationSession.id != session_id,
            VaccinationSession.max_age.is_(None), VaccinationSession.min_age <= 40,
            SessionCapacity.dose_number == 1, SessionCapacity.capacity > 0))
        return other.id, other.slots[0].starts.strftime("%H:%M")


def test_the_web_app_login_books_like_the_web_app_did(client, cowin_kit_instance, dni_type,
                                                      database):
    auth = bearer(web_login(client, cowin_kit_instance))
    assert client.get("/api/v2/appointment/beneficiaries",
                      headers=auth).get_json() == {"beneficiaries": []}
    r = api_register(client, auth, dni_type, "40123456")
    assert r.status_code == 200, r.get_json()
    ref = r.get_json()["beneficiary_reference_id"]
    people = client.get("/api/v2/appointment/beneficiaries", headers=auth).get_json()
    assert [p["beneficiary_reference_id"] for p in people["beneficiaries"]] == [ref]

    session_id, slot = api_session(database)
    r = client.post("/api/v2/appointment/schedule", headers=auth, json={
        "dose": 1, "session_id": session_id, "slot": slot, "beneficiaries": [ref],
        "captcha": "ab12c"})  # what Co-WIN clients send; ignored while the check is off
    assert r.status_code == 200, r.get_json()
    appointment = r.get_json()["appointment_confirmation_no"]
    slip = client.get(f"/api/v2/appointment/appointmentslip/download?appointment_id="
                      f"{appointment}", headers=auth)
    assert slip.status_code == 200 and slip.mimetype in ("application/pdf", "text/html")
    other_id, other_slot = _other_session(database, session_id)
    assert client.post("/api/v2/appointment/reschedule", headers=auth, json={
        "appointment_id": appointment, "session_id": other_id,
        "slot": other_slot}).status_code == 204
    assert client.post("/api/v2/appointment/cancel", headers=auth, json={
        "appointment_id": appointment, "beneficiariesToCancel": [ref]}).status_code == 204
    assert client.post("/api/v2/registration/beneficiary/delete", headers=auth,
                       json={"beneficiary_reference_id": ref}).status_code == 204
    assert client.get("/api/v2/appointment/beneficiaries",
                      headers=auth).get_json() == {"beneficiaries": []}


def test_a_web_txn_is_confirmed_only_by_validate_mobile_otp(client, cowin_kit_instance):
    txn = client.post("/api/v2/auth/generateMobileOTP",
                      json={"mobile": MOBILE}).get_json()["txnId"]  # no secret: accepted
    digest = sha(last_otp(cowin_kit_instance))
    assert client.post("/api/v2/auth/public/confirmOTP",
                       json={"otp": digest, "txnId": txn}).status_code == 400
    assert client.post("/api/v2/auth/validateMobileOtp",
                       json={"otp": digest, "txnId": txn}).status_code == 200


@pytest.mark.parametrize("cowin_kit_config", [{"OTP_RESEND_SECONDS": 0,
                                               "COWIN_WEB_SECRET": WEB_SECRET}])
def test_a_configured_secret_refuses_others(client, cowin_kit_instance, sms_outbox):
    for body in ({"mobile": MOBILE, "secret": "not-it"}, {"mobile": MOBILE}):
        r = client.post("/api/v2/auth/generateMobileOTP", json=body,
                        headers={"Accept-Language": "en"})
        assert r.status_code == 401, r.get_json()
        assert "secret" in r.get_json()["error"] and set(r.get_json()) == {"errorCode", "error"}
    assert sms_outbox.messages() == []  # nothing was sent
    assert web_login(client, cowin_kit_instance)  # the right one logs in


def _claims(token):
    """What a client reads, as Co-WIN clients did: the payload, unverified."""
    return jwt.decode(token, options={"verify_signature": False})


def test_the_token_is_a_jwt_with_cowins_claims_and_nothing_personal(client, cowin_kit_instance,
                                                                    app):
    before = int(time.time())
    token = web_login(client, cowin_kit_instance)
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "HS256"
    claims = _claims(token)
    assert set(claims) == {"user_name", "user_type", "user_id", "txnId", "iat", "exp", "jti"}
    assert claims["user_type"] == "BENEFICIARY"
    assert claims["user_name"] == claims["user_id"]
    uuid.UUID(claims["user_id"]), uuid.UUID(claims["txnId"]), uuid.UUID(claims["jti"])
    ttl = app.extensions["cowin_kit"].settings["TOKEN_TTL_MINUTES"] * 60
    assert before <= claims["iat"] <= int(time.time())
    assert claims["exp"] == claims["iat"] + ttl
    # Nothing personal: no mobile number (in any form), no reference id, no account number.
    payload = base64.urlsafe_b64decode(token.split(".")[1] + "==").decode()
    for personal in ("987654321", "51987654321", "mobile", "beneficiary_reference_id"):
        assert personal not in payload
    # The same account gets the same opaque id; another account another; each login a jti.
    again = _claims(web_login(client, cowin_kit_instance))
    assert again["user_id"] == claims["user_id"] and again["jti"] != claims["jti"]
    assert _claims(web_login(client, cowin_kit_instance, "987000999"))["user_id"] != \
        claims["user_id"]


def test_every_login_gives_the_same_kind_of_token(client, cowin_kit_instance):
    for prefix in ("/api/v2/auth/public/", "/api/v2/auth/"):
        txn = client.post(prefix + "generateOTP", json={"mobile": MOBILE}).get_json()["txnId"]
        token = client.post(prefix + "confirmOTP", json={
            "otp": sha(last_otp(cowin_kit_instance)), "txnId": txn}).get_json()["token"]
        assert _claims(token)["txnId"] == txn
        assert client.get("/api/v2/appointment/beneficiaries",
                          headers=bearer(token)).status_code == 200


def test_the_server_keeps_only_the_tokens_hash_and_its_exp(client, cowin_kit_instance,
                                                           database):
    import hashlib

    token = web_login(client, cowin_kit_instance)
    with database.session() as s:
        row = s.scalar(select(ApiToken))
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert int(row.expires_at.timestamp()) == _claims(token)["exp"]


def _forged(token, key=b"not the key, though as long as one" * 2, alg="HS256", **changes):
    claims = {**_claims(token), **changes}
    return jwt.encode(claims, key, algorithm=alg)


def _unsigned(token, **changes):
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    body = base64.urlsafe_b64encode(json.dumps({**_claims(token), **changes}).encode())
    return (header.rstrip(b"=") + b"." + body.rstrip(b"=") + b".").decode()


def _tampered_exp(token):
    header, _body, signature = token.split(".")
    claims = {**_claims(token), "exp": _claims(token)["exp"] + 86400}
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{body}.{signature}"


def test_the_signature_check_alone_tells_our_tokens_from_forgeries(client, cowin_kit_instance,
                                                                  app):
    """The check login_required runs before the look-up (otp.check_signature): it must
    accept what the deployment signed and refuse everything else without the database."""
    from cowin_kit.accounts import otp

    settings = {"SECRET_KEY": app.config["SECRET_KEY"]}  # the deployment's (create_app)
    token = web_login(client, cowin_kit_instance)
    otp.check_signature(token, settings)  # ours: no error
    forgeries = [_forged(token), _unsigned(token), _tampered_exp(token),
                 _forged(token, key="k" * 64, alg="HS512"), token + "x", "a.b.é", "é.é.é",
                 "..", "abc", "", None, token.replace(".", "", 1), token[:-2] + "!!"]
    for forged in forgeries:
        with pytest.raises(otp.NotAuthenticated):
            otp.check_signature(forged, settings)
    with pytest.raises(otp.NotAuthenticated):  # another deployment's key
        otp.check_signature(token, {"SECRET_KEY": "another deployment"})


def test_forged_revoked_and_expired_tokens_are_refused(client, cowin_kit_instance, database):
    token = web_login(client, cowin_kit_instance)
    beneficiaries = "/api/v2/appointment/beneficiaries"
    assert client.get(beneficiaries, headers=bearer(token)).status_code == 200
    forgeries = {
        "bad signature": _forged(token),
        "alg none": _unsigned(token),
        "another alg": _forged(token, key="k" * 64, alg="HS512"),
        "tampered exp": _tampered_exp(token),
        "signature of another token": token.rsplit(".", 1)[0] + "." + web_login(
            client, cowin_kit_instance).rsplit(".", 1)[1],
        "not a JWT": "abc",
    }
    for what, forged in forgeries.items():
        r = client.get(beneficiaries, headers=bearer(forged))
        assert r.status_code == 401, what
        assert set(r.get_json()) == {"errorCode", "error"}, what

    # Logged out: its signature is still good, it no longer works.
    assert client.post("/api/v2/auth/logout", headers=bearer(token)).status_code == 200
    assert jwt.decode(token, options={"verify_signature": False})  # still a readable JWT
    assert client.get(beneficiaries, headers=bearer(token)).status_code == 401

    # Expired on the server: refused although its exp (signed) said otherwise.
    fresh = web_login(client, cowin_kit_instance)
    with database.session() as s:
        for row in s.scalars(select(ApiToken).where(ApiToken.revoked_at.is_(None))):
            row.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        s.commit()
    assert client.get(beneficiaries, headers=bearer(fresh)).status_code == 401


def test_success_carries_no_retry_after(client, cowin_kit_instance):
    r = client.post("/api/v2/auth/generateMobileOTP", json={"mobile": MOBILE})
    assert r.status_code == 200 and "Retry-After" not in r.headers
    r = client.post("/api/v2/auth/validateMobileOtp",
                    json={"otp": sha(last_otp(cowin_kit_instance)),
                          "txnId": r.get_json()["txnId"]})
    assert r.status_code == 200 and "Retry-After" not in r.headers
    assert "X-RateLimit-Remaining" in r.headers  # the limit is still told
    wrong = client.post("/api/v2/auth/validateMobileOtp",
                        json={"otp": sha("000000"), "txnId": str(uuid.uuid4())})
    assert wrong.status_code == 400 and "Retry-After" not in wrong.headers


def _throttled_status(app):
    """How the API's one error mapping answers the domain's OTP throttling."""
    with app.test_request_context("/api/v2/auth/generateMobileOTP"):
        return answer(OtpThrottled("x")).status_code


def test_an_address_over_the_limit_is_throttled_with_retry_after(app, client):
    statuses = [client.post("/api/v2/auth/generateMobileOTP",
                            json={"mobile": f"9876543{i:02d}"}).status_code for i in range(20)]
    assert statuses == [200] * 20
    r = client.post("/api/v2/auth/generateMobileOTP", json={"mobile": "987654399"})
    assert r.status_code == _throttled_status(app)
    assert set(r.get_json()) == {"errorCode", "error"}
    assert r.get_json()["errorCode"] == answer_code(app)
    assert 0 < int(r.headers["Retry-After"]) <= 61  # the rest of the minute, rounded up
    # The portal's login form is held back too, with its page and its 429.
    page = client.post("/portal/login", data={"mobile": "987654398"})
    assert page.status_code == 429 and "Retry-After" in page.headers


def answer_code(app):
    with app.test_request_context("/api/v2/auth/generateMobileOTP"):
        return answer(OtpThrottled("x")).get_json()["errorCode"]


def test_otp_throttling_answers_403_as_cowin_did(app):
    assert _throttled_status(app) == 403
