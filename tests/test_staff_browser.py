"""The staff pages in a real browser (Debian's Chromium) at a phone's size: log in with the
keyboard and add a session. Screenshots go to $COWIN_KIT_SCREENSHOTS (look at them)."""
import datetime as dt

import pytest
from sqlalchemy import select

from cowin_kit.scheduling.models import Facility, VaccinationSession
from cowin_kit.testing import ADMIN_EMAIL, ADMIN_PASSWORD

from helpers import TODAY

PHONE = {"width": 390, "height": 844}


def _check(page, shots, name):
    """Save a screenshot, and check the page with axe-core (WCAG 2.1 A and AA rules)."""
    page.screenshot(path=str(shots / f"staff-{name}.png"), full_page=True)
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": [
        "wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
    problems = [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3])
                for v in results.response["violations"]]
    assert not problems, (name, problems)


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_log_in_and_add_a_session_on_a_phone(browser, live_url, shots, database):
    day = TODAY + dt.timedelta(days=30)
    page = browser.new_page(viewport=PHONE, locale="en")
    page.goto(f"{live_url}/staff/login?lang=en")
    _check(page, shots, "login")
    page.get_by_label("E-mail address").fill(ADMIN_EMAIL)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_label("Password").press("Enter")  # the keyboard submits the form
    page.wait_for_url("**/staff/")
    assert page.locator("h1").inner_text() == "Centres"
    _check(page, shots, "centres")
    assert _fits(page), "the list of centres scrolls sideways on a phone"

    with database.Session() as s:
        centre = s.scalar(select(Facility).where(Facility.code == "DEMO-PE-0001"))
    page.goto(f"{live_url}/staff/centres/{centre.id}")
    # A first try with a mistake: the summary lists it and the field shows it.
    page.get_by_label("Date").fill(day.isoformat())
    page.get_by_label("Vaccine").select_option(label="Comirnaty (Pfizer-BioNTech)")
    page.get_by_label("Minimum age (years)").fill("12")
    page.get_by_label("Dose 1", exact=True).fill("40")
    page.get_by_label("Time slots").fill("09:00-11:00, 10:00-12:00")
    page.get_by_role("button", name="Add session").click()
    page.wait_for_load_state()
    assert "Slots must not overlap." in page.locator(".error-summary").inner_text()
    assert page.locator("#slots").get_attribute("aria-invalid") == "true"
    _check(page, shots, "add-session-error")

    page.get_by_label("Time slots").fill("09:00-11:00, 11:00-13:00")
    page.get_by_role("button", name="Add session").click()
    page.wait_for_url(f"**/staff/centres/{centre.id}#main")
    assert "has been added" in page.locator(".flashes").inner_text()
    assert page.get_by_text("Dose 1: 40 of 40 left").count() == 1
    _check(page, shots, "add-session-done")
    assert _fits(page), "the centre's page scrolls sideways on a phone"
    page.close()

    with database.Session() as s:
        vs = s.scalar(select(VaccinationSession).where(
            VaccinationSession.facility_id == centre.id, VaccinationSession.date == day))
        assert vs is not None and [c.capacity for c in vs.capacities] == [40]


@pytest.mark.parametrize("cowin_kit_country", ["AE"])
def test_staff_pages_mirror_in_arabic(browser, live_url, shots, cowin_kit_country):
    page = browser.new_page(viewport=PHONE, locale="ar")
    page.goto(f"{live_url}/staff/login?lang=ar")
    assert page.locator("html").get_attribute("dir") == "rtl"
    page.locator("#email").fill(ADMIN_EMAIL)
    page.locator("#password").fill(ADMIN_PASSWORD)
    page.locator("#password").press("Enter")
    page.wait_for_url("**/staff/")
    assert page.locator("h1").inner_text() == "المراكز"
    _check(page, shots, "centres-ar")
    assert _fits(page), "the page scrolls sideways on a phone"
    page.goto(f"{live_url}/staff/sessions/import")
    _check(page, shots, "import-ar")
    assert _fits(page)
    page.close()


def _log_in(page, live_url, password=ADMIN_PASSWORD):
    page.goto(f"{live_url}/staff/login?lang=en")
    page.get_by_label("E-mail address").fill(ADMIN_EMAIL)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


def test_two_step_login_on_a_phone(browser, live_url, shots):
    """Set up TOTP from the page (the QR code and the key), then log in with a code."""
    import time

    import pyotp

    page = browser.new_page(viewport=PHONE, locale="en")
    _log_in(page, live_url)
    page.get_by_role("link", name="Two-step login").click()
    page.wait_for_url("**/staff/totp")
    assert page.locator(".totp-qr svg").count() == 1
    assert page.locator(".totp-qr svg").bounding_box()["width"] <= PHONE["width"]
    _check(page, shots, "totp-enrol")
    assert _fits(page), "the enrolment page scrolls sideways on a phone"
    secret = page.locator(".totp-key code").inner_text().replace(" ", "")
    totp = pyotp.TOTP(secret)
    page.get_by_label("Current password").fill(ADMIN_PASSWORD)
    page.get_by_label("Code from your app").fill("000000" if totp.now() != "000000" else "1" * 6)
    page.get_by_role("button", name="Switch on two-step login").click()
    page.wait_for_load_state()
    assert "The code is not right" in page.locator(".error-summary").inner_text()
    _check(page, shots, "totp-enrol-error")
    page.get_by_label("Current password").fill(ADMIN_PASSWORD)
    page.get_by_label("Code from your app").fill(totp.now())
    page.get_by_role("button", name="Switch on two-step login").click()
    page.wait_for_url("**/staff/")
    assert "Two-step login is on" in page.locator(".flashes").inner_text()

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/staff/login")
    _log_in(page, live_url)
    page.wait_for_url("**/staff/login/code")
    _check(page, shots, "login-code")
    page.get_by_label("Code from your app").fill(totp.at(time.time() + 30))
    page.get_by_label("Code from your app").press("Enter")
    page.wait_for_url("**/staff/")
    assert page.locator("h1").inner_text() == "Centres"
    page.close()


def test_weak_password_and_lock_out_messages(browser, live_url, shots):
    page = browser.new_page(viewport=PHONE, locale="en")
    _log_in(page, live_url)
    page.goto(f"{live_url}/staff/password")
    page.get_by_label("Current password").fill(ADMIN_PASSWORD)
    page.get_by_label("New password", exact=True).fill("password1234")
    page.get_by_label("New password again").fill("password1234")
    page.get_by_role("button", name="Change password").click()
    page.wait_for_load_state()
    assert "one of the most common passwords" in page.locator(".error-summary").inner_text()
    assert page.locator("#new").get_attribute("aria-invalid") == "true"
    _check(page, shots, "password-weak")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/staff/login")

    for n in range(5):
        _log_in(page, live_url, f"wrong-guess-number-{n}")
    _log_in(page, live_url)  # the right password, refused while locked
    assert "/staff/login" in page.url
    assert "not right" in page.locator(".error-summary").inner_text()
    assert "locked for a while" in page.locator("#lock-note").inner_text()
    _check(page, shots, "login-locked")
    assert _fits(page)
    page.close()
