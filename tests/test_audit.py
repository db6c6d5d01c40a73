"""Accountability: the audit log says where each action came from; citizens' member changes
are audited without personal data; the security log lines reach the configured log; the SMS
outbox is private."""
import hashlib
import json
import logging
import os
import stat

import pytest
from sqlalchemy import select

from cowin_kit.accounts.models import AuditEvent, CitizenAccount
from cowin_kit.accounts.service import audit
from cowin_kit.app import create_app
from cowin_kit.registration.models import Beneficiary, IdDocumentType
from cowin_kit.request_source import acting_from
from cowin_kit.testing import last_otp

from helpers import api_login, api_otp


def _login(client, instance, mobile, env=None):
    return api_otp(client, instance, mobile, **(env or {}))


def _token(client, instance, mobile, **env):
    return api_login(client, instance, mobile, **env)


def _register(client, auth, database, number, **env):
    with database.session() as s:
        dni = s.scalar(select(IdDocumentType.id).where(IdDocumentType.code == "dni"))
    return client.post("/api/v2/registration/beneficiary/new", headers=auth, **env, json={
        "name": "Ana Quispe", "birth_year": "1980", "gender_id": 2, "photo_id_type": dni,
        "photo_id_number": number, "comorbidity_ind": "N", "consent_version": "1"})


def _events(database, action):
    with database.session() as s:
        return s.scalars(select(AuditEvent).where(AuditEvent.action == action)
                         .order_by(AuditEvent.id)).all()


# --- the source of each action -------------------------------------------------------------

def test_a_web_action_is_audited_with_the_clients_address(client, cowin_kit_instance, database):
    env = {"environ_base": {"REMOTE_ADDR": "203.0.113.5"}}
    ana = _token(client, cowin_kit_instance, "987654321", **env)
    assert _register(client, ana, database, "40123456", **env).status_code == 200
    (event,) = _events(database, "beneficiary.registered")
    assert event.source == "203.0.113.5"


def test_behind_a_proxy_the_source_is_the_visitors_address(cowin_kit_instance):
    app = create_app({"INSTANCE_PATH": cowin_kit_instance, "TESTING": True,
                      "PROXY_FIX_HOPS": 1})
    database = app.extensions["cowin_kit"].db
    try:
        client = app.test_client()
        env = {"environ_base": {"REMOTE_ADDR": "10.0.0.2"},
               "headers": {"X-Forwarded-For": "198.51.100.23"}}
        txn, code = _login(client, cowin_kit_instance, "987654321", env)
        token = client.post("/api/v2/auth/public/confirmOTP", **env, json={
            "otp": hashlib.sha256(code.encode()).hexdigest(), "txnId": txn}).get_json()["token"]
        r = client.post("/api/v2/registration/beneficiary/new", environ_base={
            "REMOTE_ADDR": "10.0.0.2"}, headers={"Authorization": f"Bearer {token}",
                                                 "X-Forwarded-For": "198.51.100.23"}, json={
            "name": "Ana Quispe", "birth_year": "1980", "gender_id": 2, "photo_id_type": 1,
            "photo_id_number": "40123456"})
        assert r.status_code == 200, r.get_json()
        (event,) = _events(database, "beneficiary.registered")
        assert event.source == "198.51.100.23"
    finally:
        database.dispose()


def test_a_command_is_audited_as_the_local_operator(run_cli, cowin_kit_instance, database):
    import getpass

    result = run_cli("ids", "reverify", "--instance", str(cowin_kit_instance))
    assert result.exit_code == 0, result.output
    (event,) = _events(database, "ids.reverified")
    assert event.source == f"cli:{getpass.getuser()}"


def test_services_audit_without_knowing_the_source(db_session):
    """audit() is called as before, from code that knows nothing of requests."""
    with acting_from("192.0.2.44"):
        event = audit(db_session, "system", "test.action", "thing:1", count=2)
    outside = audit(db_session, "system", "test.action")
    db_session.flush()
    assert event.source == "192.0.2.44" and event.details == {"count": 2}
    assert outside.source.startswith("cli:")


# --- citizens' member changes ----------------------------------------------------------------

@pytest.mark.parametrize("cowin_kit_config", [{"OTP_RESEND_SECONDS": 0,
                                               "WTF_CSRF_ENABLED": False}])
def test_member_registration_and_edit_are_audited_without_personal_data(app, client,
                                                                       cowin_kit_instance,
                                                                       database):
    ana = _token(client, cowin_kit_instance, "987654321")
    ref = _register(client, ana, database, "40123456").get_json()["beneficiary_reference_id"]
    with database.session() as s:
        person = s.scalar(select(Beneficiary).where(Beneficiary.reference_id == ref))
        account = s.scalar(select(CitizenAccount).where(CitizenAccount.mobile == "+51987654321"))
        person_id, account_id = person.id, account.id
    # The portal's edit form, logged in with the same account (no CSRF tokens: see above).
    portal = app.test_client()
    portal.post("/portal/login", data={"mobile": "987654321"})
    portal.post("/portal/login/code", data={"code": last_otp(cowin_kit_instance)})
    r = portal.post(f"/portal/members/{ref}/edit", data={
        "name": "Ana María Quispe", "birth_year": "1981", "gender": "female"})
    assert r.status_code == 302, r.get_data(as_text=True)

    (registered,) = _events(database, "beneficiary.registered")
    (edited,) = _events(database, "beneficiary.updated")
    for event in (registered, edited):
        assert event.actor == f"citizen:{account_id}"
        assert event.target == f"beneficiary:{person_id}"
        assert event.source == "127.0.0.1"
        recorded = json.dumps([event.target, event.details])
        for personal in ("Ana", "Quispe", "1980", "1981", "40123456", "3456", ref,
                         "987654321"):
            assert personal not in recorded, personal
    assert registered.details == {"document": "dni"}
    assert edited.details == {"fields": ["name", "birth_year"]}


# --- the security log reaches the configured log --------------------------------------------

def test_security_lines_reach_the_log_file_without_codes_or_numbers(cowin_kit_instance):
    app = create_app({"INSTANCE_PATH": cowin_kit_instance, "TESTING": True,
                      "LOG_FILE": "logs/cowin-kit.log"})
    log_file = cowin_kit_instance / "logs" / "cowin-kit.log"
    try:
        client = app.test_client()
        txn, code = _login(client, cowin_kit_instance, "987654321")
        wrong = "000000" if code != "000000" else "111111"
        assert client.post("/api/v2/auth/public/confirmOTP", json={
            "otp": hashlib.sha256(wrong.encode()).hexdigest(), "txnId": txn}).status_code == 400
        # (a wrong OTP answers 400 USRAUT0014, as Co-WIN's did: api/cowin_codes.py)
        assert client.post("/api/v2/auth/public/confirmOTP", json={
            "otp": hashlib.sha256(code.encode()).hexdigest(), "txnId": txn}).status_code == 200
        for i in range(20):  # the per-address limit on codes sent
            client.post("/api/v2/auth/public/generateOTP", json={"mobile": f"9870001{i:02d}"})
        for handler in logging.getLogger("cowin_kit").handlers:
            handler.flush()
        text = log_file.read_text(encoding="utf-8")
    finally:
        app.extensions["cowin_kit"].db.dispose()
    assert "cowin_kit.security: OTP" in text and "sent to +51*******21" in text
    assert "wrong OTP for +51*******21" in text
    assert "citizen login" in text
    assert "rate limit 20 per 1 minute hit by 127.0.0.1" in text
    assert code not in text and "987654321" not in text and "+51987654321" not in text
    assert stat.S_IMODE(log_file.stat().st_mode) == 0o600


# --- the SMS outbox --------------------------------------------------------------------------

def test_the_sms_outbox_is_created_private_and_stays_private(tmp_path):
    from cowin_kit.config import load_settings
    from cowin_kit.plugins.builtin.sms import FileGateway

    settings = load_settings(tmp_path, overrides={"SMS_FILE": "outbox.jsonl"}, environ={})
    gateway = FileGateway(settings)
    outbox = tmp_path / "outbox.jsonl"
    old = os.umask(0o022)  # the usual umask, which would make a plain open() 0644
    try:
        gateway.send("+51987654321", "Your code is 123456")
        assert stat.S_IMODE(outbox.stat().st_mode) == 0o600
        gateway.send("+51987654321", "Your code is 654321")
        assert stat.S_IMODE(outbox.stat().st_mode) == 0o600
        # A file left readable by an earlier version is narrowed on the next message.
        outbox.chmod(0o644)
        gateway.send("+51987654321", "Your code is 111111")
    finally:
        os.umask(old)
    assert stat.S_IMODE(outbox.stat().st_mode) == 0o600
    assert len(outbox.read_text(encoding="utf-8").splitlines()) == 3

