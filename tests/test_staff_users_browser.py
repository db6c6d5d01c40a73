"""An administrator creates a vaccinator through the staff pages on a phone (360 px), and the
vaccinator logs in with the one-time password, must change it, and lands on their start
page. Screenshots go to $COWIN_KIT_SCREENSHOTS (look at them)."""
import pytest

from cowin_kit.testing import ADMIN_EMAIL, ADMIN_PASSWORD

PHONE = {"width": 360, "height": 740}
NEW_PASSWORD = "violet tractor harbour mango"


def _check(page, shots, name):
    """Save a screenshot, and check the page with axe-core (WCAG 2.1 A and AA rules)."""
    page.screenshot(path=str(shots / f"users-{name}.png"), full_page=True)
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": [
        "wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
    problems = [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3])
                for v in results.response["violations"]]
    assert not problems, (name, problems)


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def _log_in(page, live_url, email, password):
    page.goto(f"{live_url}/staff/login?lang=en")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_label("Password").press("Enter")
    page.wait_for_load_state()


def test_an_administrator_creates_a_vaccinator_who_logs_in(browser, live_url, shots):
    admin = browser.new_page(viewport=PHONE, locale="en")
    _log_in(admin, live_url, ADMIN_EMAIL, ADMIN_PASSWORD)
    admin.get_by_role("link", name="Users").click()
    admin.wait_for_url("**/staff/users")
    _check(admin, shots, "list")
    assert _fits(admin), "the users list scrolls sideways on a phone"
    admin.get_by_role("link", name="Add a user").click()

    # A first try with a mistake: the centre's code is wrong.
    admin.get_by_label("E-mail address").fill("vacunadora@example.org")
    admin.get_by_label("Role").select_option(label="Vaccinator")
    admin.get_by_label("Centre code").fill("DEMO-PE-9999")
    admin.get_by_role("button", name="Create the user").click()
    admin.wait_for_load_state()
    assert "There is no centre with the code DEMO-PE-9999." in admin.locator(
        ".error-summary").inner_text()
    assert admin.locator("#facility").get_attribute("aria-invalid") == "true"
    assert admin.get_by_label("E-mail address").input_value() == "vacunadora@example.org"
    _check(admin, shots, "new-error")
    assert _fits(admin)

    admin.get_by_label("Centre code").fill("DEMO-PE-0001")
    admin.get_by_role("button", name="Create the user").click()
    admin.wait_for_load_state()
    password = admin.locator("#one-time-password").inner_text()
    assert len(password) >= 12
    assert "has been created" in admin.locator(".flashes").inner_text()
    _check(admin, shots, "created")
    assert _fits(admin), "the new user's page scrolls sideways on a phone"
    admin.reload()  # shown once
    assert admin.locator("#one-time-password").count() == 0
    admin.close()

    vaccinator = browser.new_page(viewport=PHONE, locale="en")
    _log_in(vaccinator, live_url, "vacunadora@example.org", password)
    vaccinator.wait_for_url("**/staff/password")
    assert "Choose a password of your own" in vaccinator.content()
    vaccinator.get_by_label("Current password").fill(password)
    vaccinator.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    vaccinator.get_by_label("New password again").fill(NEW_PASSWORD)
    vaccinator.get_by_role("button", name="Change password").click()
    vaccinator.wait_for_load_state()
    assert "Your password has been changed" in vaccinator.locator(".flashes").inner_text()
    # The start page of a vaccinator: the first page of its menu (its day's queue where
    # that page exists), never an administrator's page nor the forced change again.
    assert "Choose a password of your own" not in vaccinator.content()
    assert vaccinator.get_by_role("link", name="Users").count() == 0
    assert vaccinator.locator(".staff-who").inner_text() == "vacunadora@example.org"
    _check(vaccinator, shots, "vaccinator-start")
    vaccinator.goto(f"{live_url}/staff/users")
    assert "Not allowed" in vaccinator.content()
    vaccinator.close()


@pytest.mark.parametrize("cowin_kit_country", ["AE"])
def test_the_user_pages_mirror_in_arabic(browser, live_url, shots, cowin_kit_country):
    page = browser.new_page(viewport=PHONE, locale="ar")
    page.goto(f"{live_url}/staff/login?lang=ar")
    page.locator("#email").fill(ADMIN_EMAIL)
    page.locator("#password").fill(ADMIN_PASSWORD)
    page.locator("#password").press("Enter")
    page.wait_for_load_state()
    for name, path in (("list-ar", "/staff/users"), ("new-ar", "/staff/users/new"),
                       ("audit-ar", "/staff/audit")):
        page.goto(f"{live_url}{path}")
        assert page.locator("html").get_attribute("dir") == "rtl"
        _check(page, shots, name)
        assert _fits(page), f"{path} scrolls sideways on a phone in Arabic"
    page.close()
