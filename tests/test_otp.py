"""Citizen login by OTP: the code is read from the `file` SMS gateway's outbox, hashed the way
Co-WIN clients hash it, and confirmed; every refusal has its status."""
import dataclasses
import hashlib
import logging
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import select

from cowin_kit.accounts import otp
from cowin_kit.accounts.models import ApiToken, CitizenAccount, OtpTransaction
from cowin_kit.db import utcnow

from helpers import sha

MOBILE = "+51987654321"


@pytest.fixture
def dep(app):
    return app.extensions["cowin_kit"]


@pytest.fixture
def cowin_kit_config():
    """The deployment's own resend throttle (the kit's other tests switch it off)."""
    return {}


@pytest.fixture
def outbox(sms_outbox):
    return sms_outbox


def with_settings(settings, **values):
    return dataclasses.replace(settings, values={**settings.values, **values})


@pytest.fixture
def send(db_session, dep):
    def send(mobile="987 654 321", now=None, purpose="public", settings=None, lang="es"):
        txn = otp.generate_otp(db_session, mobile_raw=mobile, region=dep.profile["phone_region"],
                               purpose=purpose, messenger=dep.messenger,
                               settings=settings or dep.settings, lang=lang,
                               service=dep.profile.name, now=now)
        db_session.commit()
        return txn

    return send


@pytest.fixture
def confirm(db_session, dep):
    def confirm(txn, digest, now=None, settings=None):
        result = otp.confirm_otp(db_session, txn_id=txn, otp_sha256=digest,
                                 settings=settings or dep.settings, now=now)
        db_session.commit()
        return result

    return confirm


def test_full_flow(db_session, dep, outbox, send, confirm):
    txn = send()
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", txn)
    message = outbox.messages()[-1]
    assert message["to"] == MOBILE
    # Sent in the person's language, naming the deployment and the validity.
    assert "Peru" in message["text"] and "3 minutos" in message["text"]
    code = outbox.last_code(MOBILE)

    # Clients may send the digest in upper case.
    token, is_new = confirm(txn, sha(code).upper())
    assert is_new is True and len(token) >= 40
    account = otp.authenticate(db_session, token)
    assert account.mobile == MOBILE and account.last_login_at is not None
    # Only the token's hash is kept.
    stored = db_session.scalars(select(ApiToken.token_hash)).all()
    assert token not in stored and hashlib.sha256(token.encode()).hexdigest() in stored

    otp.revoke(db_session, token)
    db_session.commit()
    with pytest.raises(otp.NotAuthenticated) as err:
        otp.authenticate(db_session, token)
    assert err.value.status == 401
    with pytest.raises(otp.NotAuthenticated):
        otp.revoke(db_session, token)
    for bad in ("", None, "not-a-token"):
        with pytest.raises(otp.NotAuthenticated):
            otp.authenticate(db_session, bad)


def test_code_is_never_stored_in_clear(db_session, dep, outbox, send):
    txn = send()
    code = outbox.last_code(MOBILE)
    row = db_session.get(OtpTransaction, txn)
    assert row.mobile == MOBILE and row.attempts == 0 and row.used_at is None
    assert row.expires_at - row.created_at == timedelta(seconds=dep.settings["OTP_TTL_SECONDS"])
    assert code not in row.code_hash
    # Neither the code's plain hash (a DB leak would reverse it in a second) nor anything else
    # usable without SECRET_KEY.
    assert row.code_hash not in (sha(code), hashlib.sha256(sha(code).encode()).hexdigest())
    assert len(row.code_hash) == 64
    values = list(db_session.execute(select(OtpTransaction.__table__)).one())
    assert not any(code in v for v in values if isinstance(v, str) and v != row.id)


def test_new_then_existing_account(db_session, outbox, send, confirm):
    start = utcnow()
    _, is_new = confirm(send(now=start), sha(outbox.last_code(MOBILE)), now=start)
    later = start + timedelta(minutes=5)
    token, is_new_again = confirm(send(now=later, purpose="partner"), sha(outbox.last_code(MOBILE)),
                                  now=later)
    assert (is_new, is_new_again) == (True, False)
    accounts = db_session.scalars(select(CitizenAccount)).all()
    assert len(accounts) == 1 and accounts[0].last_login_at == later
    assert otp.authenticate(db_session, token, now=later).id == accounts[0].id


@pytest.mark.parametrize("raw, fragment", [
    ("01 426 1234", "not a mobile"),        # Lima landline
    ("+51 1 4261234", "not a mobile"),
    ("98765", "valid mobile"),              # too short
    ("9876543210123", "valid mobile"),      # too long
    ("+34 612 345 678", "this country"),    # a Spanish mobile
    ("+1 202 555 0143", "this country"),
    ("98765ABCD", "valid mobile"),          # letters (phonenumbers would read them as digits)
    ("nueve ocho siete", "valid mobile"),
    ("", "valid mobile"),
    (None, "valid mobile"),
])
def test_bad_mobile_numbers(db_session, dep, outbox, raw, fragment):
    with pytest.raises(otp.InvalidMobile) as err:
        otp.generate_otp(db_session, mobile_raw=raw, region="PE", purpose="public",
                         messenger=dep.messenger, settings=dep.settings, lang="es",
                         service="Peru")
    assert (err.value.status, err.value.field) == (400, "mobile")
    assert fragment in err.value.text()
    assert outbox.messages() == []


def test_normalize_mobile():
    assert otp.normalize_mobile(" (+51) 987-654-321 ", "PE") == MOBILE
    assert otp.normalize_mobile("987654321", "pe") == MOBILE
    # No region: international format only, any country.
    assert otp.normalize_mobile("+34 612 345 678", "") == "+34612345678"
    with pytest.raises(otp.InvalidMobile, match="international"):
        otp.normalize_mobile("987654321", "")
    with pytest.raises(otp.InvalidMobile):
        otp.normalize_mobile("+51 1 4261234", None)


def test_expired_otp(db_session, dep, outbox, send, confirm):
    start = utcnow()
    txn = send(now=start)
    expiry = start + timedelta(seconds=dep.settings["OTP_TTL_SECONDS"])
    with pytest.raises(otp.OtpExpired) as err:
        confirm(txn, sha(outbox.last_code(MOBILE)), now=expiry)
    assert err.value.status == 401 and "expired" in err.value.text()
    # Just before expiry it still works.
    assert confirm(txn, sha(outbox.last_code(MOBILE)), now=expiry - timedelta(seconds=1))[0]


def test_replay_is_refused(outbox, send, confirm):
    txn = send()
    digest = sha(outbox.last_code(MOBILE))
    confirm(txn, digest)
    with pytest.raises(otp.OtpAlreadyUsed) as err:
        confirm(txn, digest)
    assert err.value.status == 401


def test_three_wrong_tries_void_the_otp(db_session, dep, outbox, send, confirm):
    txn = send()
    code = outbox.last_code(MOBILE)
    wrong = sha(f"{(int(code) + 1) % 1000000:06d}")
    for attempt in (1, 2, 3):
        with pytest.raises(otp.WrongOtp) as err:
            confirm(txn, wrong)
        assert (err.value.status, err.value.field) == (401, "otp")
        # The try counts even when the caller rolls back after the error.
        db_session.rollback()
        assert db_session.get(OtpTransaction, txn).attempts == attempt
    with pytest.raises(otp.TooManyTries) as err:
        confirm(txn, sha(code))
    assert err.value.status == 429 and "request a new OTP" in err.value.text()
    assert db_session.scalars(select(ApiToken)).all() == []


def test_right_code_on_the_last_try(outbox, send, confirm):
    txn = send()
    code = outbox.last_code(MOBILE)
    for _ in range(2):
        with pytest.raises(otp.WrongOtp):
            confirm(txn, sha("000000" if code != "000000" else "111111"))
    assert confirm(txn, sha(code))[1] is True


@pytest.mark.parametrize("txn_id", ["", "nope", "12345", None,
                                    "3f2504e0-4f89-41d3-9a0c-0305e82c3301"])
def test_unknown_or_malformed_txn(db_session, dep, txn_id):
    with pytest.raises(otp.InvalidTransaction) as err:
        otp.confirm_otp(db_session, txn_id=txn_id, otp_sha256=sha("123456"),
                        settings=dep.settings)
    assert (err.value.status, err.value.field) == (400, "txnId")


@pytest.mark.parametrize("digest", ["123456", "", None, "g" * 64, "a" * 63])
def test_malformed_otp_does_not_count(db_session, dep, send, digest):
    txn = send()
    with pytest.raises(otp.InvalidOtpFormat) as err:
        otp.confirm_otp(db_session, txn_id=txn, otp_sha256=digest, settings=dep.settings)
    assert (err.value.status, err.value.field) == (400, "otp")
    assert db_session.get(OtpTransaction, txn).attempts == 0


def test_resend_throttle(dep, outbox, send):
    start = utcnow()
    send(now=start)
    with pytest.raises(otp.OtpThrottled) as err:
        send(now=start + timedelta(seconds=20))
    wait = dep.settings["OTP_RESEND_SECONDS"]
    assert err.value.status == 429 and err.value.retry_after == wait - 20
    assert str(wait - 20) in err.value.text()
    assert len(outbox.messages()) == 1
    # Another number is not affected; the same one may ask again once the wait is over.
    send(mobile="912345678", now=start + timedelta(seconds=20))
    send(now=start + timedelta(seconds=wait))
    assert len(outbox.messages()) == 3


def test_daily_cap(dep, outbox, send):
    cap = dep.settings["OTP_MAX_PER_NUMBER_PER_DAY"]
    step = timedelta(seconds=dep.settings["OTP_RESEND_SECONDS"] + 1)
    start = utcnow()
    for i in range(cap):
        send(now=start + i * step)
    refused_at = start + cap * step
    with pytest.raises(otp.OtpThrottled) as err:
        send(now=refused_at)
    assert err.value.status == 429
    # The oldest OTP of the last 24 hours leaves the window at start + 24 h.
    assert err.value.retry_after == int((start + timedelta(hours=24) - refused_at)
                                        .total_seconds())
    assert len(outbox.messages()) == cap
    send(now=start + timedelta(hours=24, seconds=1))
    assert len(outbox.messages()) == cap + 1


def test_token_expiry(db_session, dep, outbox, send, confirm):
    start = utcnow()
    token, _ = confirm(send(now=start), sha(outbox.last_code(MOBILE)), now=start)
    ttl = timedelta(minutes=dep.settings["TOKEN_TTL_MINUTES"])
    assert otp.authenticate(db_session, token, now=start + ttl - timedelta(seconds=1))
    with pytest.raises(otp.NotAuthenticated) as err:
        otp.authenticate(db_session, token, now=start + ttl)
    assert err.value.status == 401


def test_sms_failure_is_503_and_not_counted(db_session, dep, send, monkeypatch):
    monkeypatch.setattr(dep.messenger, "send", lambda *a, **k: None)
    with pytest.raises(otp.OtpNotSent) as err:
        send()
    assert err.value.status == 503
    assert db_session.scalars(select(OtpTransaction)).all() == []


def test_settings_are_honoured(dep, outbox, send, confirm):
    settings = with_settings(dep.settings, OTP_TTL_SECONDS=600, OTP_MAX_TRIES=1)
    start = utcnow()
    txn = send(now=start, settings=settings)
    assert "10 minutos" in outbox.messages()[-1]["text"]
    with pytest.raises(otp.WrongOtp):
        confirm(txn, sha("x"), now=start, settings=settings)
    with pytest.raises(otp.TooManyTries):
        confirm(txn, sha(outbox.last_code(MOBILE)), now=start, settings=settings)


def test_neither_code_nor_number_in_logs(db_session, dep, outbox, send, confirm, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="cowin_kit")
    start = utcnow()
    txn = send(now=start)
    code = outbox.last_code(MOBILE)
    with pytest.raises(otp.WrongOtp):
        confirm(txn, sha("x"), now=start)
    token, _ = confirm(txn, sha(code), now=start)
    otp.revoke(db_session, token, now=start)
    with pytest.raises(otp.OtpThrottled):
        send(now=start)
    with pytest.raises(otp.InvalidMobile):
        send(mobile="01 426 1234", now=start)
    assert any(r.name.startswith("cowin_kit") for r in caplog.records), "nothing logged"
    logged = caplog.text + "".join(repr(r.args) for r in caplog.records)
    for secret in (code, sha(code), MOBILE, "987654321", "987 654 321", token):
        assert secret not in logged, secret
    assert otp.mask_mobile(MOBILE) in caplog.text


def test_errors_translate():
    err = otp.OtpThrottled(otp.MSG_RESEND_WAIT, retry_after=12, seconds=12)
    assert err.text(lambda s: s.replace("wait", "WAIT")).startswith("An OTP")
    assert "12 seconds" in str(err)
    assert issubclass(otp.TooManyTries, otp.LoginError)


def _race(database, n, call):
    """Run ``call(session)`` in n threads released together; returns results or exceptions."""
    barrier = threading.Barrier(n)

    def worker(_):
        with database.Session() as session:
            barrier.wait()
            try:
                result = call(session)
                session.commit()
                return result
            except otp.LoginError as exc:
                session.rollback()
                return exc

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(worker, range(n)))


def test_concurrent_requests_pass_the_resend_throttle_once(database, dep, outbox):
    results = _race(database, 12, lambda s: otp.generate_otp(
        s, mobile_raw=MOBILE, region="PE", purpose="public", messenger=dep.messenger,
        settings=dep.settings, lang="es", service="Peru"))
    sent = [r for r in results if isinstance(r, str)]
    assert len(sent) == 1 and len(outbox.messages()) == 1
    assert all(isinstance(r, otp.OtpThrottled) for r in results if r not in sent)


def test_concurrent_guesses_get_no_more_than_max_tries(database, db_session, dep, outbox,
                                                        send):
    txn = send()
    code = outbox.last_code(MOBILE)
    wrong = sha(f"{(int(code) + 1) % 1000000:06d}")
    results = _race(database, 12, lambda s: otp.confirm_otp(
        s, txn_id=txn, otp_sha256=wrong, settings=dep.settings))
    kinds = sorted(type(r).__name__ for r in results)
    tries = dep.settings["OTP_MAX_TRIES"]
    assert kinds.count("WrongOtp") == tries and kinds.count("TooManyTries") == 12 - tries
    with pytest.raises(otp.TooManyTries):
        otp.confirm_otp(db_session, txn_id=txn, otp_sha256=sha(code), settings=dep.settings)


def test_concurrent_right_codes_give_one_token(database, dep, outbox, send):
    txn = send()
    digest = sha(outbox.last_code(MOBILE))
    results = _race(database, 8, lambda s: otp.confirm_otp(
        s, txn_id=txn, otp_sha256=digest, settings=dep.settings))
    tokens = [r for r in results if isinstance(r, tuple)]
    assert len(tokens) == 1
    assert all(isinstance(r, otp.OtpAlreadyUsed) for r in results if r not in tokens)
