"""Registering a member answers whether an ID number is registered. An attacker must get few
tries (per account and per address, portal and API together), an answer that says no more
than that one bit, and a trace in the log and the audit log when they keep trying."""
import logging

import pytest
from sqlalchemy import select

from cowin_kit.accounts.models import AuditEvent, CitizenAccount
from cowin_kit.registration.models import IdDocumentType
from cowin_kit.registration.service import MSG_ALREADY_MEMBER, MSG_DUPLICATE
from cowin_kit.testing import last_otp

from helpers import api_login

REGISTER = "/api/v2/registration/beneficiary/new"


def _login(client, instance, mobile, addr="127.0.0.1"):
    return api_login(client, instance, mobile, environ_base={"REMOTE_ADDR": addr})


@pytest.fixture
def dni(database):
    with database.session() as s:
        return s.scalar(select(IdDocumentType.id).where(IdDocumentType.code == "dni"))


def _register(client, auth, dni, number, addr="127.0.0.1", name="Ana Quispe"):
    return client.post(REGISTER, headers=auth, environ_base={"REMOTE_ADDR": addr}, json={
        "name": name, "birth_year": "1980", "gender_id": 2, "photo_id_type": dni,
        "photo_id_number": number, "comorbidity_ind": "N", "consent_version": "1"})


def _portal_login(client, instance, mobile):
    """Log the test client into the portal (its session cookie), CSRF tokens off."""
    client.post("/portal/login", data={"mobile": mobile})
    code = last_otp(instance)
    r = client.post("/portal/login/code", data={"code": code})
    assert r.status_code == 302, r.get_data(as_text=True)


def _portal_register(client, number):
    return client.post("/portal/members/new", data={
        "id_type": "dni", "id_number": number, "name": "Ana Quispe", "birth_year": "1980",
        "gender": "female"})


def _audits(database, action):
    with database.session() as s:
        return s.scalars(select(AuditEvent).where(AuditEvent.action == action)
                         .order_by(AuditEvent.id)).all()


def test_an_account_gets_20_tries_an_hour_through_the_api(client, cowin_kit_instance, dni):
    ana = _login(client, cowin_kit_instance, "987654321")
    # Malformed numbers are tries too: each answer could have been "registered".
    statuses = [_register(client, ana, dni, "12").status_code for i in range(20)]
    assert statuses == [400] * 20
    r = _register(client, ana, dni, "40123456")  # a valid, new number: refused all the same
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert r.get_json()["errorCode"] == "TOO_MANY_REQUESTS"
    assert "minutes" in r.get_json()["error"]


@pytest.mark.parametrize("cowin_kit_config", [{"OTP_RESEND_SECONDS": 0,
                                               "WTF_CSRF_ENABLED": False}])
def test_the_portal_and_the_api_share_the_account_limit(app, cowin_kit_instance, dni):
    portal = app.test_client()
    portal.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    _portal_login(portal, cowin_kit_instance, "987654321")
    api = _login(app.test_client(), cowin_kit_instance, "987654321")  # the same account
    for _ in range(10):
        assert _portal_register(portal, "12").status_code == 400
    for _ in range(10):
        assert _register(app.test_client(), api, dni, "12").status_code == 400
    assert _register(app.test_client(), api, dni, "40123456").status_code == 429
    page = _portal_register(portal, "40123457")
    assert page.status_code == 429 and "Retry-After" in page.headers
    assert "Too many people were added" in page.get_data(as_text=True)


def test_an_address_gets_60_tries_an_hour_whatever_the_accounts(client, cowin_kit_instance, dni):
    nat = "198.51.100.7"
    accounts = [_login(client, cowin_kit_instance, f"98765432{i}", nat) for i in range(4)]
    for auth in accounts[:3]:
        assert all(_register(client, auth, dni, "12", nat).status_code == 400
                   for _ in range(20))
    # A fourth account behind the same address has its own 20, but the address is spent.
    assert _register(client, accounts[3], dni, "40123456", nat).status_code == 429
    # Elsewhere, the same account is not held back by that address.
    assert _register(client, accounts[3], dni, "40123456", "203.0.113.9").status_code == 200


def test_a_duplicate_says_only_that_the_number_cannot_be_registered(client, cowin_kit_instance,
                                                                      dni):
    ana = _login(client, cowin_kit_instance, "987654321")
    ref = _register(client, ana, dni, "40123456", name="Ana Quispe").get_json()[
        "beneficiary_reference_id"]
    other = _login(client, cowin_kit_instance, "987000999")
    third = _login(client, cowin_kit_instance, "987000888")
    answers = [_register(client, who, dni, number, name="Mallory")
               for who, number in ((other, "40123456"), (third, " 40123456 "))]
    for r in answers:
        assert r.status_code == 409
        text = r.get_data(as_text=True)
        assert "already" not in text and "registered by" not in text
        for leak in ("Ana", "Quispe", ref, "XXXXXX56", "3456", "987654321", "+51"):
            assert leak not in text, leak
    # The same words whichever account asks and whichever holds the number.
    assert answers[0].get_json() == answers[1].get_json()
    assert answers[0].get_json()["error"] == MSG_DUPLICATE
    # The account that holds the person is told plainly.
    own = _register(client, ana, dni, "40123456")
    assert own.status_code == 409 and own.get_json()["error"] == MSG_ALREADY_MEMBER


def test_repeated_duplicates_are_logged_and_audited_as_a_probe(client, cowin_kit_instance, dni,
                                                               database, caplog):
    caplog.set_level(logging.INFO, logger="cowin_kit")
    ana = _login(client, cowin_kit_instance, "987654321")
    for number in ("40123456", "40123457", "40123458"):
        assert _register(client, ana, dni, number).status_code == 200
    mallory = _login(client, cowin_kit_instance, "987000999")
    for number, audits in (("40123456", 0), ("40123457", 0), ("40123458", 1), ("40123456", 2)):
        assert _register(client, mallory, dni, number, addr="203.0.113.66").status_code == 409
        assert len(_audits(database, "registration.duplicate_probe")) == audits
    probe = _audits(database, "registration.duplicate_probe")[0]
    with database.session() as s:
        account_id = s.scalar(select(CitizenAccount.id).where(
            CitizenAccount.mobile == "+51987000999"))
    assert probe.actor == f"citizen:{account_id}"
    assert probe.target == f"citizen_account:{account_id}"
    assert probe.source == "203.0.113.66" and probe.details == {"document": "dni"}
    # Every refusal is logged, and no line holds the number.
    lines = [r.getMessage() for r in caplog.records if "registered elsewhere" in r.getMessage()]
    assert len(lines) == 4 and sum("probe" in line for line in lines) == 2
    assert not any(n in caplog.text for n in ("40123456", "40123457", "40123458"))


def test_the_service_limit_holds_for_any_caller(db_session, app):
    """The rule is the registration service's: any caller that passes the deployment's
    limits gets it, without a view decorator."""
    from cowin_kit.registration import service as registration

    dep = app.extensions["cowin_kit"]
    ctx = registration.IdContext.from_settings(dep.id_providers, dep.settings)
    tries = 0
    with pytest.raises(registration.RegistrationThrottled) as refused:
        while tries < 100:
            tries += 1
            try:
                registration.register_beneficiary(
                    db_session, ctx, document_code="dni", id_number="12", name="X",
                    birth_year=1980, gender="female", account_id=12345, limits=dep.limits,
                    address="192.0.2.1")
            except registration.RegistrationThrottled:
                raise
            except registration.RegistrationError:
                db_session.rollback()
    assert tries == 21 and refused.value.status == 429 and refused.value.retry_after > 0


def test_the_address_limit_is_a_setting(cowin_kit_instance, dni, run_cli):
    """A ministry whose mobile carrier puts many people behind one address raises it."""
    from cowin_kit.app import create_app

    app = create_app({"INSTANCE_PATH": cowin_kit_instance, "TESTING": True,
                      "MEMBER_TRIES_PER_ADDRESS": "2 per hour"})
    client = app.test_client()
    auth = _login(client, cowin_kit_instance, "987654321", "198.51.100.8")
    statuses = [_register(client, auth, dni, "12", "198.51.100.8").status_code
                for _ in range(3)]
    assert statuses == [400, 400, 429], statuses
    app.extensions["cowin_kit"].db.dispose()
    result = run_cli("config", "check", "--instance", cowin_kit_instance,
                     env={"COWIN_KIT_MEMBER_TRIES_PER_ADDRESS": "lots"})
    assert result.exit_code != 0 and "MEMBER_TRIES_PER_ADDRESS" in result.output
