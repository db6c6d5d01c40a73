"""A walk-in in a real browser (Debian's Chromium) on a 360 px phone: a vaccinator registers
a person without a mobile at the centre and records the dose in the same flow. In Spanish
and in Arabic (right to left). Screenshots go to $COWIN_KIT_SCREENSHOTS (look at them)."""
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from cowin_kit.scheduling.models import Appointment, VaccinationSession
from cowin_kit.vaccination.models import Dose

from helpers import STAFF_PASSWORD, add_lot, facility, facility_user_at, session_today

PHONE = {"width": 360, "height": 780}


@pytest.mark.parametrize("cowin_kit_config", [{"OTP_RESEND_SECONDS": 0,
                                               "LANGUAGES": ["es", "ar", "en"]}])
@pytest.mark.parametrize("lang,number", [("es", "40123456"), ("ar", "40123457")])
def test_a_walk_in_registered_without_a_mobile_on_a_phone(browser, live_url, shots, database,
                                                          lang, number):
    facility_user_at(database, "vax@example.org", "vaccinator", "DEMO-PE-0001")
    session_id = session_today(database, "DEMO-PE-0001", quota=2)
    with database.Session() as s:
        product_id = s.get(VaccinationSession, session_id).product_id
    lot = add_lot(database, facility(database, "DEMO-PE-0001").id, product_id)
    page = browser.new_page(viewport=PHONE, locale=lang)
    page.goto(f"{live_url}/staff/login?lang={lang}")
    assert page.locator("html").get_attribute("dir") == ("rtl" if lang == "ar" else "ltr")
    page.locator("#email").fill("vax@example.org")
    page.locator("#password").fill(STAFF_PASSWORD)
    page.locator("#password").press("Enter")
    page.wait_for_url("**/staff/**")

    page.goto(f"{live_url}/staff/walk-in")
    page.locator("#id_type").select_option("dni")
    page.locator("#id_number").fill(number)
    page.screenshot(path=str(shots / f"walk-in-find-{lang}.png"), full_page=True)
    page.locator("button.primary").click()
    page.wait_for_load_state()
    # Nobody has this number: the registration form, with the number kept.
    assert page.locator("#id_number").input_value() == number
    page.locator("#name").fill("Rosa Huamán")
    page.locator("#birth_year").fill("1971")
    page.locator("#gender-1").check()
    assert page.locator("#mobile").input_value() == ""
    page.screenshot(path=str(shots / f"walk-in-register-{lang}.png"), full_page=True)
    page.locator("button.primary").click()
    page.wait_for_url("**/staff/walk-in/book**")
    expect(page.locator(f"input[value='{session_id}']")).to_be_checked()
    page.screenshot(path=str(shots / f"walk-in-book-{lang}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.locator("button.primary").click()
    # The same flow goes on to the record page: the person masked, and the dose recorded.
    page.wait_for_url("**/staff/today/appointments/**")
    with database.Session() as s:
        appointment = s.scalar(select(Appointment).where(Appointment.session_id == session_id))
        assert appointment.source == "walk_in" and appointment.walk_in_place
    assert "Rosa Huamán" in page.locator("main").inner_text()
    assert number not in page.locator("main").inner_text()  # the number is masked
    page.screenshot(path=str(shots / f"walk-in-record-{lang}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.locator("input[name=site][value=left_arm]").check()
    page.locator("section.record button.primary").click()
    page.wait_for_load_state()
    with database.Session() as s:
        doses = s.scalars(select(Dose).where(Dose.appointment_id == appointment.id)).all()
        assert [(d.dose_number, d.lot_id, d.site) for d in doses] == [(1, lot, "left_arm")]
    page.screenshot(path=str(shots / f"walk-in-vaccinated-{lang}.png"), full_page=True)
    page.close()


def test_assisted_registration_with_an_attestation_on_a_phone(browser, live_url, shots,
                                                              database):
    import datetime as dt

    from helpers import TODAY, make_user

    make_user(database, "calls@example.org", "call_centre", "1501")
    session_id = session_today(database, "DEMO-PE-0001", quota=0, capacity=5,
                               day=TODAY + dt.timedelta(days=1))
    page = browser.new_page(viewport=PHONE, locale="es")
    page.goto(f"{live_url}/staff/login?lang=es")
    page.locator("#email").fill("calls@example.org")
    page.locator("#password").fill(STAFF_PASSWORD)
    page.locator("#password").press("Enter")
    page.wait_for_url("**/staff/assist")
    page.locator("#mobile").fill("987654323")
    page.locator("#attest").check()
    page.screenshot(path=str(shots / "assist-start-es.png"), full_page=True)
    page.locator("button[value='attest']").click()
    page.wait_for_url("**/staff/assist/family")
    page.locator("a[href$='/staff/assist/register']").click()
    page.locator("#id_type").select_option("dni")
    page.locator("#id_number").fill("40123459")
    page.locator("#name").fill("Juana Mamani")
    page.locator("#birth_year").fill("1958")
    page.locator("#gender-1").check()
    page.locator("button.primary").click()
    page.wait_for_url("**/staff/assist/family")
    page.screenshot(path=str(shots / "assist-family-es.png"), full_page=True)
    page.locator("main a.button.primary").click()
    page.locator("#district").select_option(label="Lima")
    page.locator("form.card button").click()
    page.wait_for_load_state()
    page.locator(f"form:has(input[value='{session_id}'])").scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "assist-search-es.png"))
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.locator(f"form:has(input[value='{session_id}']) button").click()
    page.wait_for_url("**/staff/assist/family")
    assert "Juana Mamani" in page.locator(".flashes").inner_text()
    with database.Session() as s:
        booked = s.scalar(select(Appointment).where(Appointment.session_id == session_id))
        assert booked.source == "assisted"
    page.close()
