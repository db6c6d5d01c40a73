"""The citizen's whole journey in a real browser (Debian's Chromium, phone-sized), with
the keyboard where a person would use it. Screenshots go to $COWIN_KIT_SCREENSHOTS."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from cowin_kit.scheduling.models import Appointment, Facility, SessionCapacity, VaccinationSession
from cowin_kit.testing import last_otp

from helpers import TODAY

PHONE = {"width": 390, "height": 844}


def _shot(page, shots, name):
    """Save a screenshot, and check the page with axe-core (WCAG 2.1 A and AA rules)."""
    page.screenshot(path=str(shots / f"portal-{name}.png"), full_page=True)
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": [
        "wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
    problems = [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3])
                for v in results.response["violations"]]
    assert not problems, (name, problems)


def _log_in(page, live_url, instance, lang):
    page.goto(f"{live_url}/portal/login?lang={lang}")
    page.locator("#mobile").fill("987 654 321")
    page.locator("#mobile").press("Enter")  # the keyboard submits the form
    page.wait_for_url("**/portal/login/code")
    page.locator("#code").fill(last_otp(instance))
    page.locator("button[type=submit].primary").click()
    page.wait_for_url("**/portal/")


def _pincode_with_sessions(database):
    with database.session() as s:
        vs = s.scalar(select(VaccinationSession).join(SessionCapacity).join(Facility).where(
            Facility.postal_code.is_not(None), VaccinationSession.date > TODAY,
            VaccinationSession.max_age.is_(None),
            VaccinationSession.min_age <= 40, SessionCapacity.dose_number == 1)
            .order_by(VaccinationSession.date))
        return vs.facility.postal_code


def test_citizen_books_reschedules_and_cancels_on_a_phone(browser, live_url, shots, app,
                                                          cowin_kit_instance, database):
    page = browser.new_page(viewport=PHONE, locale="en-GB")
    page.goto(f"{live_url}/portal/login?lang=en")
    _shot(page, shots, "1-login")
    page.locator("#mobile").fill("12")
    page.get_by_role("button", name="Send the code").click()
    expect(page.locator(".error-summary")).to_be_visible()
    assert page.locator("#mobile").get_attribute("aria-invalid") == "true"
    _shot(page, shots, "1b-login-error")
    _log_in(page, live_url, cowin_kit_instance, "en")
    _shot(page, shots, "2-family-empty")

    page.get_by_role("link", name="Add a member").click()
    page.get_by_label("Full name, as on the ID document").fill("Ana Quispe")
    page.get_by_label("Year of birth").fill("1980")
    page.get_by_label("Female").check()
    page.get_by_label("ID document", exact=True).select_option("dni")
    page.get_by_label("ID number").fill("10117410-3")  # a wrong check digit
    page.get_by_role("button", name="Register").click()
    assert "check digit" in page.locator("#id_number-error").inner_text()
    _shot(page, shots, "3-member-error")
    page.get_by_label("ID number").fill("40123456")
    page.get_by_role("button", name="Register").click()
    page.wait_for_url("**/portal/")
    assert "Ana Quispe is registered" in page.locator(".flashes").inner_text()
    assert "XXXXXX56" in page.locator(".member").inner_text()
    _shot(page, shots, "4-family")

    page.get_by_role("link", name="Book dose 1").click()
    page.get_by_label("Postal code").fill(_pincode_with_sessions(database))
    page.get_by_role("button", name="Search").click()
    first = page.locator("form.book-form").first
    expect(first).to_be_visible()
    _shot(page, shots, "5-search")
    first.locator("label.slot").last.click()
    first.get_by_role("button", name="Book").click()
    page.wait_for_url("**/portal/appointments/*")
    assert page.locator(".slip-secret").inner_text().strip().isdigit()
    _shot(page, shots, "6-slip")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the slip (PDF)").click()
    assert download.value.suggested_filename.endswith(".pdf")

    page.get_by_role("link", name="Back to my family").click()
    page.get_by_role("link", name="Reschedule").click()
    page.get_by_label("Postal code").fill(_pincode_with_sessions(database))
    page.get_by_role("button", name="Search").click()
    page.locator("form.book-form").nth(1).get_by_role("button", name="Move here").click()
    page.wait_for_url("**/portal/appointments/*")
    assert "The appointment is moved" in page.locator(".flashes").inner_text()

    page.get_by_role("link", name="Back to my family").click()
    page.get_by_role("link", name="Cancel").click()
    _shot(page, shots, "7-cancel")
    page.get_by_role("button", name="Cancel the appointment").click()
    page.wait_for_url("**/portal/")
    assert "Book dose 1" in page.locator(".member").inner_text()
    with database.session() as s:
        assert s.scalars(select(Appointment.status)).all() == ["cancelled"]

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/portal/login")
    page.goto(f"{live_url}/portal/")
    assert "/portal/login" in page.url
    page.close()


@pytest.mark.parametrize("cowin_kit_country,lang,direction", [("PE", "es", "ltr"),
                                                              ("AE", "ar", "rtl")])
def test_portal_pages_in_the_reader_language(browser, live_url, shots, app, cowin_kit_instance,
                                             cowin_kit_country, lang, direction):
    page = browser.new_page(viewport=PHONE, locale=lang)
    page.goto(f"{live_url}/portal/login?lang={lang}")
    assert page.locator("html").get_attribute("dir") == direction
    _shot(page, shots, f"login-{lang}")
    page.locator("#mobile").fill({"PE": "987654321", "AE": "501234567"}[cowin_kit_country])
    page.locator("#mobile").press("Enter")
    page.wait_for_url("**/portal/login/code")
    page.locator("#code").fill(last_otp(cowin_kit_instance))
    page.locator("#code").press("Enter")
    page.wait_for_url("**/portal/")
    page.goto(f"{live_url}/portal/members/new")
    _shot(page, shots, f"member-form-{lang}")
    page.goto(f"{live_url}/portal/search")
    _shot(page, shots, f"search-{lang}")
    assert page.locator("html").get_attribute("lang") == lang
    page.close()


def test_citizen_edits_removes_and_searches_by_district(browser, live_url, shots, app,
                                                        cowin_kit_instance, database):
    from cowin_kit.geography.models import Division

    page = browser.new_page(viewport=PHONE, locale="en-GB")
    _log_in(page, live_url, cowin_kit_instance, "en")
    for name, number in (("Ana Quispe", "40123456"), ("Rosa Quispe", "40123457")):
        page.goto(f"{live_url}/portal/members/new")
        page.get_by_label("Full name, as on the ID document").fill(name)
        page.get_by_label("Year of birth").fill("1980")
        page.get_by_label("Female").check()
        page.get_by_label("ID document", exact=True).select_option("dni")
        page.get_by_label("ID number").fill(number)
        page.get_by_role("button", name="Register").click()
        page.wait_for_url("**/portal/")

    # Edit: the form keeps what was stored, and saving shows the new name.
    page.locator(".member").nth(1).get_by_role("link", name="Edit details").click()
    assert page.get_by_label("Full name, as on the ID document").input_value() == "Rosa Quispe"
    page.get_by_label("Full name, as on the ID document").fill("Rosa María Quispe")
    page.get_by_label("Health worker").check()
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/portal/")
    assert "Rosa María Quispe" in page.locator(".member").nth(1).inner_text()
    assert "Health worker" in page.locator(".member").nth(1).inner_text()

    # Remove, after a confirmation page.
    page.locator(".member").nth(1).get_by_role("link", name="Remove").click()
    _shot(page, shots, "8-remove")
    page.get_by_role("button", name="Remove").click()
    page.wait_for_url("**/portal/")
    assert page.locator(".member").count() == 1

    # Search by district, with the keyboard-friendly two-step lists, and a filter.
    with database.session() as s:
        district = s.scalar(select(Division).join(
            Facility, Facility.division_id == Division.id).where(Division.level == 2))
        if district is None:  # centres may sit one level below the district
            block = s.scalar(select(Division).join(Facility, Facility.division_id == Division.id))
            district = block.parent if block.level == 3 else block
        state_id, district_id = str(district.parent_id), str(district.id)
    page.get_by_role("link", name="Book dose 1").click()
    page.locator("#state").select_option(state_id)
    page.get_by_role("button", name="Search").click()  # the second list fills in
    page.locator("#district").select_option(district_id)
    page.locator("summary").click()
    page.get_by_label("Age of the person").fill("45")
    page.get_by_role("button", name="Search").click()
    # expect() waits for the answer (a loaded machine may take a while to give it).
    expect(page.locator("article.centre").first).to_be_visible(timeout=30_000)
    _shot(page, shots, "9-search-district")

    # The language control: choose, then press the button (no change of page on choosing).
    page.locator("#lang-select").select_option("es")
    page.locator(".lang-switch button").click()
    expect(page.locator("html")).to_have_attribute("lang", "es", timeout=30_000)
    assert page.locator("#age").input_value() == "45"  # the search was kept
    page.close()
