"""Staff login as an attacker meets it: the lock-out after wrong passwords from any number of
addresses, weak passwords refused wherever one is set, logout and a password change that end
the login on the server (a copied cookie stops working), and TOTP for administrators."""
import datetime as dt
import logging
import re
import threading
import time

import pyotp
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, update

from cowin_kit.accounts import staff_login as auth
from cowin_kit.accounts.models import StaffLogin, StaffUser
from cowin_kit.accounts.service import (
    AccountError,
    check_new_password,
    create_staff_user,
    generate_one_time_password,
)
from cowin_kit.db import utcnow
from cowin_kit.testing import ADMIN_EMAIL, ADMIN_PASSWORD

from helpers import STAFF_PASSWORD as PASSWORD, audit_rows, csrf, make_user, staff_login as login

BAD_LOGIN = "The e-mail address or the password is not right."


def in_english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture(autouse=True)
def english(client):
    in_english(client)


def from_address(client, address):
    """The next requests of ``client`` come from ``address`` (so no per-IP limit applies)."""
    client.environ_base["REMOTE_ADDR"] = address
    return client


def admin_row(database, email=ADMIN_EMAIL):
    with database.Session() as s:
        return s.scalar(select(StaffUser).where(StaffUser.email == email))


def main_text(response) -> str:
    """What the page says, without the form's token and echoed values."""
    html = response.get_data(as_text=True)
    html = re.sub(r'value="[^"]*"', 'value=""', html)
    return html


# --- the lock-out ------------------------------------------------------------------------------

def test_wrong_passwords_from_many_addresses_lock_the_account(app, client, database, caplog):
    caplog.set_level(logging.INFO, logger="cowin_kit.security")
    for n in range(auth.LOCK_AFTER):
        r = login(from_address(client, f"198.51.100.{n + 1}"), ADMIN_EMAIL, f"wrong-guess-{n}")
        assert r.status_code == 400 and BAD_LOGIN in r.get_data(as_text=True)
    # Now even the right password is refused, from yet another address, with the same answer.
    locked = login(from_address(client, "203.0.113.9"), ADMIN_EMAIL, ADMIN_PASSWORD)
    assert locked.status_code == 400 and BAD_LOGIN in locked.get_data(as_text=True)
    assert client.get("/staff/").status_code == 302
    # An unknown e-mail gets the very same page.
    unknown = login(from_address(client, "203.0.113.10"), "nobody@example.org", ADMIN_PASSWORD)
    assert main_text(unknown) == main_text(locked)
    assert "the account is locked for a while" in locked.get_data(as_text=True)

    row = admin_row(database)
    assert row.failed_logins == auth.LOCK_AFTER
    assert dt.timedelta(seconds=50) < row.locked_until - utcnow() <= auth.LOCK_FIRST
    [event] = audit_rows(database, "staff.locked")
    assert event.target == f"staff_user:{row.id}" and event.details["seconds"] == 60
    assert "@" not in f"{event.actor} {event.details}"
    refused = [e for e in audit_rows(database, "staff.login_failed") if e.details.get("locked")]
    assert len(refused) == 1  # the right password while locked
    lines = [r.getMessage() for r in caplog.records if r.name == "cowin_kit.security"]
    assert any(f"staff_user:{row.id} locked for 60 s" in line for line in lines), lines
    assert not any("@" in line or ADMIN_PASSWORD in line for line in lines)


def test_the_lock_grows_and_a_good_login_clears_it(client, database):
    for n in range(auth.LOCK_AFTER):
        login(from_address(client, f"198.51.100.{n + 1}"), ADMIN_EMAIL, f"wrong-guess-{n}")

    def expire_lock():
        with database.Session() as s:
            s.execute(update(StaffUser).where(StaffUser.email == ADMIN_EMAIL)
                      .values(locked_until=utcnow() - dt.timedelta(seconds=1)))
            s.commit()

    expire_lock()
    login(client, ADMIN_EMAIL, "one-more-wrong-guess")  # after the lock: locked again, longer
    row = admin_row(database)
    assert row.failed_logins == auth.LOCK_AFTER + 1
    assert dt.timedelta(minutes=1) < row.locked_until - utcnow() <= dt.timedelta(minutes=2)
    assert [e.details["seconds"] for e in audit_rows(database, "staff.locked")] == [60, 120]
    assert auth.lock_time(auth.LOCK_AFTER + 10) == auth.LOCK_MAX  # capped at an hour

    expire_lock()
    assert login(client).status_code == 302  # the lock is over: the right password works
    row = admin_row(database)
    assert row.failed_logins == 0 and row.locked_until is None


def test_wrong_guesses_at_the_same_moment_all_count(app, database):
    """Eight workers guess at once: no guess is lost to a race, and the attacker gets exactly
    LOCK_AFTER password checks; the others are refused as locked without one."""
    guesses = 8
    barrier = threading.Barrier(guesses)
    results = []

    def guess(n):
        with database.Session() as s:
            barrier.wait()
            results.append(auth.log_in(s, ADMIN_EMAIL, f"concurrent-wrong-{n}"))
            s.commit()

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(guesses)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [None] * guesses
    row = admin_row(database)
    assert row.failed_logins == auth.LOCK_AFTER
    assert row.locked_until > utcnow()
    failed = audit_rows(database, "staff.login_failed")
    assert len(failed) == guesses
    assert sum(1 for e in failed if e.details.get("locked")) == guesses - auth.LOCK_AFTER
    with database.Session() as s:
        assert auth.log_in(s, ADMIN_EMAIL, ADMIN_PASSWORD) is None  # locked: refused


def test_fewer_guesses_than_the_limit_at_once_are_all_counted(app, database):
    guesses = auth.LOCK_AFTER - 1
    barrier = threading.Barrier(guesses)

    def guess(n):
        with database.Session() as s:
            barrier.wait()
            auth.log_in(s, ADMIN_EMAIL, f"concurrent-wrong-{n}")
            s.commit()

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(guesses)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    row = admin_row(database)
    assert row.failed_logins == guesses and row.locked_until is None


def test_an_unknown_e_mail_costs_a_hash_check_too(monkeypatch, database):
    """No timing oracle: an unknown e-mail and a locked account check a (dummy) hash."""
    import cowin_kit.accounts.staff_login as module

    calls = []
    real = module.check_password_hash
    monkeypatch.setattr(module, "check_password_hash",
                        lambda h, p: calls.append(h) or real(h, p))
    with database.Session() as s:
        assert auth.log_in(s, "nobody@example.org", "whatever-it-is") is None
        s.execute(update(StaffUser).where(StaffUser.email == ADMIN_EMAIL)
                  .values(locked_until=utcnow() + dt.timedelta(minutes=5)))
        s.commit()
        assert auth.log_in(s, ADMIN_EMAIL, ADMIN_PASSWORD) is None
    assert len(calls) == 2 and all(h == module._DUMMY_HASH for h in calls)


# --- weak passwords ------------------------------------------------------------------------

@pytest.mark.parametrize("password,why", [
    ("short-one", "at least 12 characters"),
    ("password1234", "one of the most common passwords"),
    ("Password2024!", "one of the most common passwords"),
    ("qwertyuiop123", "common passwords"),
    ("aaaaaaaaaaaaaaab", "mostly one character"),
    ("lima@example.org", "not be your e-mail address"),
    ("Lima@Example.org1", "not be your e-mail address"),
    ("lima2024lima", "not be your e-mail address"),
    ("abcdefghijkl", "too easy to guess"),
    ("19801231199", "at least 12 characters"),
])
def test_weak_passwords_are_refused_with_the_reason(password, why):
    with pytest.raises(AccountError) as exc:
        check_new_password(password, "lima@example.org")
    assert why in str(exc.value)


def test_good_passwords_and_generated_ones_pass():
    for password in (ADMIN_PASSWORD, PASSWORD, "correct horse battery staple",
                     "tres-llamas-en-la-puna", "9fK#2mQz!xR7"):
        check_new_password(password, ADMIN_EMAIL)
    for _ in range(200):
        check_new_password(generate_one_time_password(), ADMIN_EMAIL)


def test_create_staff_user_refuses_a_weak_password(database):
    with database.Session() as s, pytest.raises(AccountError, match="common passwords"):
        create_staff_user(s, "weak@example.org", "password1234", "district_admin",
                          actor="test")


def test_init_refuses_a_weak_admin_password(run_cli, cowin_kit_database_url, tmp_path):
    (tmp_path / "pw").write_text("ops@minsa.gob.pe\n")
    result = run_cli("init", "--country", "PE", "--database-url", cowin_kit_database_url,
                     "--admin-email", "ops@minsa.gob.pe", "--admin-password-file", "pw",
                     "--no-input")
    assert result.exit_code == 2
    assert "not be your e-mail address" in result.output
    assert "Nothing was created" in result.output


def test_the_password_form_says_why_a_password_is_weak(client, database):
    assert login(client).status_code == 302
    page = client.get("/staff/password").get_data(as_text=True)
    assert "not a common password and not your e-mail address" in page

    def change(new):
        return client.post("/staff/password", data={
            "current": ADMIN_PASSWORD, "new": new, "confirm": new, "csrf_token": csrf(page)})

    for new, why in (("password1234", "one of the most common passwords"),
                     ("admin@example.org", "not be your e-mail address"),
                     ("zzzzzzzzzzzzzzzz", "mostly one character")):
        r = change(new)
        html = r.get_data(as_text=True)
        assert r.status_code == 400 and why in html, new
        assert 'id="new-error"' in html
    assert change("tres-llamas-en-la-puna").status_code == 302
    assert admin_row(database).failed_logins == 0


def test_wrong_current_passwords_count_towards_the_lock_out(client, database):
    assert login(client).status_code == 302
    page = client.get("/staff/password").get_data(as_text=True)
    for n in range(auth.LOCK_AFTER):
        r = client.post("/staff/password", data={
            "current": f"not-it-{n}", "new": "tres-llamas-en-la-puna",
            "confirm": "tres-llamas-en-la-puna", "csrf_token": csrf(page)})
        assert "The current password is not right." in r.get_data(as_text=True)
    assert admin_row(database).locked_until > utcnow()
    assert login(client.application.test_client()).status_code == 400


# --- the login ends on the server --------------------------------------------------------------

def copy_of(app, client):
    """Another browser holding a copy of ``client``'s session cookie."""
    thief = app.test_client()
    thief.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def test_a_copied_cookie_stops_working_at_logout(app, client, database):
    assert login(client).status_code == 302
    thief = copy_of(app, client)
    assert thief.get("/staff/").status_code == 200  # the copy works while the login lives
    page = client.get("/staff/").get_data(as_text=True)
    assert client.post("/staff/logout", data={"csrf_token": csrf(page)}).status_code == 302
    r = thief.get("/staff/")
    assert r.status_code == 302 and r.headers["Location"].endswith("/staff/login")
    with database.Session() as s:
        [row] = s.scalars(select(StaffLogin)).all()
        assert row.ended_at is not None


def test_a_password_change_ends_the_other_logins(app, client, database):
    assert login(client).status_code == 302
    other = app.test_client()
    assert login(other).status_code == 302
    stolen = copy_of(app, other)
    page = client.get("/staff/password").get_data(as_text=True)
    r = client.post("/staff/password", data={
        "current": ADMIN_PASSWORD, "new": "tres-llamas-en-la-puna",
        "confirm": "tres-llamas-en-la-puna", "csrf_token": csrf(page)})
    assert r.status_code == 302
    assert "logged out everywhere else" in client.get("/staff/").get_data(as_text=True)
    assert other.get("/staff/").status_code == 302
    assert stolen.get("/staff/").status_code == 302
    [event] = audit_rows(database, "staff.password_changed")
    assert event.details["logins_ended"] == 1


def test_a_disabled_user_is_logged_out_at_once(app, client, database):
    make_user(database, "lima@example.org", "district_admin", "1501")
    assert login(client, "lima@example.org", PASSWORD).status_code == 302
    assert client.get("/staff/").status_code == 200
    with database.Session() as s:
        s.execute(update(StaffUser).where(StaffUser.email == "lima@example.org")
                  .values(is_active=False))
        s.commit()
    assert client.get("/staff/").status_code == 302
    with database.Session() as s:
        assert all(r.ended_at is not None for r in s.scalars(select(StaffLogin)))


def test_the_cookie_holds_no_user_id(client, database):
    assert login(client).status_code == 302
    with client.session_transaction() as sess:
        assert set(sess) <= {"staff_login", "csrf_token", "_flashes", "_fresh"}
        token = sess["staff_login"]
    with database.Session() as s:
        ids = s.scalars(select(StaffLogin.id)).all()
    assert token not in ids and len(ids) == 1  # only its hash is stored


# --- TOTP ----------------------------------------------------------------------------------

def enrol(client, database):
    """Set up TOTP for the logged-in user from the page; the secret as the page shows it."""
    page = client.get("/staff/totp")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<svg" in html
    secret = re.search(r'class="totp-key"><code>([A-Z2-7 ]+)</code>', html).group(1)
    secret = secret.replace(" ", "")
    wrong = client.post("/staff/totp", data={"code": "000000" if pyotp.TOTP(secret).now()
                                             != "000000" else "111111",
                                             "current": ADMIN_PASSWORD,
                                             "csrf_token": csrf(html)})
    assert wrong.status_code == 400 and "The code is not right" in wrong.get_data(as_text=True)
    r = client.post("/staff/totp", data={"code": pyotp.TOTP(secret).now(),
                                         "current": ADMIN_PASSWORD, "csrf_token": csrf(html)})
    assert r.status_code == 302, r.get_data(as_text=True)
    return secret


def code_page(client):
    return client.get("/staff/login/code").get_data(as_text=True)


def test_totp_enrolment_and_login(app, client, database):
    assert login(client).status_code == 302
    secret = enrol(client, database)
    assert "Two-step login is on" in client.get("/staff/").get_data(as_text=True)
    row = admin_row(database)
    assert row.totp_enabled and secret not in row.totp_secret
    key = app.extensions["cowin_kit"].settings["ID_ENCRYPTION_KEY"]
    assert Fernet(key.encode()).decrypt(row.totp_secret.encode()).decode() == secret
    assert audit_rows(database, "staff.totp_enabled")

    browser = in_english(app.test_client())
    r = login(browser)
    assert r.status_code == 302 and r.headers["Location"].endswith("/staff/login/code")
    assert browser.get("/staff/").status_code == 302  # the password alone opens nothing
    assert browser.get("/staff/password").status_code == 302
    page = code_page(browser)
    assert 'autocomplete="one-time-code"' in page and 'inputmode="numeric"' in page
    bad = browser.post("/staff/login/code", data={"code": "12345", "csrf_token": csrf(page)})
    assert bad.status_code == 400 and "Type the 6 digits" in bad.get_data(as_text=True)
    # The next step's code (the enrolment used this one), with a space as apps show it.
    code = pyotp.TOTP(secret).at(time.time() + 30)
    ok = browser.post("/staff/login/code", data={"code": f"{code[:3]} {code[3:]}",
                                                 "csrf_token": csrf(page)})
    assert ok.status_code == 302 and ok.headers["Location"].endswith("/staff/")
    assert browser.get("/staff/").status_code == 200
    [event] = [e for e in audit_rows(database, "staff.login") if e.details.get("totp")]

    # The same code again, on a fresh login, is a replay: refused.
    again = in_english(app.test_client())
    assert login(again).headers["Location"].endswith("/staff/login/code")
    page = code_page(again)
    replay = again.post("/staff/login/code", data={"code": code, "csrf_token": csrf(page)})
    assert replay.status_code == 400 and "used already" in replay.get_data(as_text=True)
    assert again.get("/staff/").status_code == 302


def test_wrong_codes_count_towards_the_lock_out(app, client, database):
    assert login(client).status_code == 302
    secret = enrol(client, database)
    browser = in_english(app.test_client())
    login(browser)
    page = code_page(browser)
    good = pyotp.TOTP(secret).at(time.time() + 30)
    wrong = [f"{(int(good) + n) % 1000000:06d}" for n in range(1, auth.LOCK_AFTER + 1)]
    for code in wrong:
        browser.post("/staff/login/code", data={"code": code, "csrf_token": csrf(page)})
    assert admin_row(database).locked_until > utcnow()
    r = browser.post("/staff/login/code", data={"code": good, "csrf_token": csrf(page)})
    assert r.status_code == 400 and browser.get("/staff/").status_code == 302


def test_the_password_does_not_clear_the_count_of_wrong_codes(app, client, database):
    """Whoever knows the password must not get endless code guesses by logging in again."""
    assert login(client).status_code == 302
    secret = enrol(client, database)
    good = pyotp.TOTP(secret).at(time.time() + 30)
    for n in range(auth.LOCK_AFTER):
        browser = in_english(app.test_client())
        assert login(browser).headers["Location"].endswith("/staff/login/code")
        page = code_page(browser)
        browser.post("/staff/login/code", data={"code": f"{(int(good) + n + 1) % 10**6:06d}",
                                                "csrf_token": csrf(page)})
    assert admin_row(database).locked_until > utcnow()
    assert login(app.test_client()).status_code == 400  # locked: the password is refused


def test_totp_can_be_required_of_administrators(cowin_kit_instance):
    from cowin_kit.app import create_app

    app = create_app({"INSTANCE_PATH": cowin_kit_instance, "TESTING": True,
                      "STAFF_TOTP_REQUIRED": True})
    try:
        client = app.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        assert login(client).status_code == 302
        for path in ("/staff/", "/staff/sessions/import"):
            assert client.get(path).headers["Location"].endswith("/staff/totp"), path
        page = client.get("/staff/totp").get_data(as_text=True)
        assert "must use two-step login" in page
        enrol(client, app.extensions["cowin_kit"].db)
        assert client.get("/staff/").status_code == 200
        page = client.get("/staff/totp").get_data(as_text=True)
        assert "Switch off" not in page  # required: it cannot be switched off
    finally:
        app.extensions["cowin_kit"].db.dispose()


def test_totp_can_be_switched_off_with_a_code(client, database):
    assert login(client).status_code == 302
    secret = enrol(client, database)
    page = client.get("/staff/totp").get_data(as_text=True)
    r = client.post("/staff/totp/off", data={"code": "000000", "csrf_token": csrf(page)})
    assert r.status_code == 400 and admin_row(database).totp_enabled
    code = pyotp.TOTP(secret).at(time.time() + 30)
    r = client.post("/staff/totp/off", data={"code": code, "csrf_token": csrf(page)})
    assert r.status_code == 302
    row = admin_row(database)
    assert not row.totp_enabled and row.totp_secret is None
    assert audit_rows(database, "staff.totp_disabled")


def test_an_operator_removes_a_lost_totp_device(app, client, database, run_cli,
                                                cowin_kit_instance, refused):
    assert login(client).status_code == 302
    enrol(client, database)
    inst = ["--instance", str(cowin_kit_instance)]
    result = run_cli("users", "reset-totp", ADMIN_EMAIL.upper(), *inst)
    assert result.exit_code == 0, result.output
    assert f"The TOTP device of {ADMIN_EMAIL} is removed; 1 login(s) ended." in result.output
    assert client.get("/staff/").status_code == 302  # its logins ended
    fresh = app.test_client()
    assert login(fresh).headers["Location"].endswith("/staff/")  # the password alone again
    [event] = audit_rows(database, "staff.totp_reset")
    assert event.actor.startswith("cli:") and "@" not in str(event.details)
    refused(run_cli("users", "reset-totp", "nobody@example.org", *inst),
            "there is no staff user nobody@example.org")


def test_an_operator_unlocks_an_account(client, database, run_cli, cowin_kit_instance):
    for n in range(auth.LOCK_AFTER):
        login(from_address(client, f"198.51.100.{n + 1}"), ADMIN_EMAIL, f"wrong-guess-{n}")
    assert login(client).status_code == 400
    result = run_cli("users", "unlock", ADMIN_EMAIL, "--instance", str(cowin_kit_instance))
    assert result.exit_code == 0 and f"{ADMIN_EMAIL} is unlocked." in result.output
    assert login(client).status_code == 302
    assert audit_rows(database, "staff.unlocked")


def test_switching_two_step_login_on_needs_the_password(app, client, database):
    """A borrowed logged-in browser must not bind the account to another phone: without the
    password the right code is refused, and a wrong password counts towards the lock-out."""
    assert login(client).status_code == 302
    html = client.get("/staff/totp").get_data(as_text=True)
    secret = re.search(r'class="totp-key"><code>([A-Z2-7 ]+)</code>', html).group(1)
    code = pyotp.TOTP(secret.replace(" ", "")).now()
    for data in ({"code": code}, {"code": code, "current": "not-the-password"}):
        r = client.post("/staff/totp", data={**data, "csrf_token": csrf(html)})
        assert r.status_code == 400
        assert not admin_row(database).totp_enabled
    assert "The current password is not right" in r.get_data(as_text=True)
    assert admin_row(database).failed_logins == 1
