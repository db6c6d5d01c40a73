"""An adverse event in a real browser (Debian's Chromium) at a phone's width (360 px): a
citizen reports it on the portal, a district official follows it up; and the same pages in
Arabic, right to left. Screenshots go to $COWIN_KIT_SCREENSHOTS (look at them)."""
import datetime as dt
import uuid

import pytest
from sqlalchemy import select

from cowin_kit.testing import ADMIN_EMAIL, ADMIN_PASSWORD, last_otp
from cowin_kit.vaccination.aefi_models import AefiReport

from helpers import STAFF_PASSWORD, TODAY, give_dose, make_user, reference

PHONE = {"width": 360, "height": 780}


def _check(page, shots, name):
    """Save a screenshot; check the page with axe-core (WCAG 2.1 A and AA) and that it does
    not scroll sideways on a phone."""
    page.screenshot(path=str(shots / f"aefi-{name}.png"), full_page=True)
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": [
        "wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
    problems = [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3])
                for v in results.response["violations"]]
    assert not problems, (name, problems)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], name


def _citizen(page, live_url, instance, mobile, lang):
    page.goto(f"{live_url}/portal/login?lang={lang}")
    page.locator("#mobile").fill(mobile)
    page.locator("#mobile").press("Enter")
    page.wait_for_url("**/portal/login/code")
    page.locator("#code").fill(last_otp(instance))
    page.locator("#code").press("Enter")
    page.wait_for_url("**/portal/")


def _staff(page, live_url, email, password, lang):
    page.goto(f"{live_url}/staff/login?lang={lang}")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.locator("#password").press("Enter")
    page.wait_for_load_state()


def test_a_citizen_reports_and_the_district_follows_up(browser, live_url, shots, app,
                                                       cowin_kit_instance, database):
    page = browser.new_page(viewport=PHONE, locale="en-GB")
    _citizen(page, live_url, cowin_kit_instance, "987654321", "en")
    page.get_by_role("link", name="Add a member").click()
    page.get_by_label("Full name, as on the ID document").fill("Ana Quispe")
    page.get_by_label("Year of birth").fill("1980")
    page.get_by_label("Female").check()
    page.get_by_label("ID document", exact=True).select_option("dni")
    page.get_by_label("ID number").fill("40123456")
    page.get_by_role("button", name="Register").click()
    page.wait_for_url("**/portal/")
    assert page.get_by_role("link", name="Report a side effect").count() == 0  # no dose yet
    give_dose(database, reference(database), days_ago=1)
    page.reload()
    _check(page, shots, "1-family")
    page.get_by_role("link", name="Report a side effect").click()
    page.wait_for_url("**/side-effect")
    _check(page, shots, "2-form")

    # A first try with mistakes: serious without saying why, and a day in the future.
    page.get_by_label("Fever").check()
    page.get_by_label("Allergic reaction", exact=True).check()
    page.get_by_label("Day it started").fill((TODAY + dt.timedelta(days=2)).isoformat())
    page.get_by_label("Serious: death, danger to life, hospital stay or disability").check()
    page.get_by_label("Outcome").select_option("recovering")
    page.get_by_label("What happened").fill("Hives and a swollen face the evening after.")
    page.get_by_role("button", name="Send the report").click()
    page.wait_for_load_state()
    assert "Say what made it serious." in page.locator(".error-summary").inner_text()
    assert page.get_by_label("What happened").input_value().startswith("Hives")  # kept
    _check(page, shots, "3-form-error")
    page.get_by_role("checkbox", name="Hospital stay").check()
    page.get_by_role("button", name="Send the report").click()
    page.wait_for_load_state()
    assert "cannot have started in the future" in page.locator(".error-summary").inner_text()
    page.get_by_label("Day it started").fill((TODAY - dt.timedelta(days=1)).isoformat())
    page.get_by_label("Time it started (if known)").fill("19:30")
    page.get_by_role("button", name="Send the report").click()
    page.wait_for_url("**/portal/")
    assert "is reported (number" in page.locator(".flashes").inner_text()
    _check(page, shots, "4-reported")
    page.close()
    with database.Session() as s:
        report = s.scalar(select(AefiReport))
        assert (report.seriousness, report.serious_criteria, report.symptoms) == (
            "serious", ["hospitalisation"], ["fever", "allergic-reaction"])

    make_user(database, "lima@example.org", "district_admin", "1501")
    page = browser.new_page(viewport=PHONE, locale="en-GB")
    _staff(page, live_url, "lima@example.org", STAFF_PASSWORD, "en")
    page.get_by_role("link", name="Adverse events").click()
    page.wait_for_url("**/staff/aefi")
    _check(page, shots, "5-list")
    page.get_by_role("link", name=f"Report {report.id}: Ana Quispe").click()
    assert "Hives and a swollen face" in page.locator("main").inner_text()
    _check(page, shots, "6-report")
    page.get_by_label("Status").select_option("closed")
    page.get_by_label("Note").fill("Treated at the hospital; discharged the next day.")
    page.get_by_role("button", name="Save the follow-up").click()
    page.wait_for_load_state()
    assert "closed only with a causality assessment" in page.locator(
        ".error-summary").inner_text()
    page.get_by_label("Causality (WHO category)").select_option("a1")
    page.get_by_label("Outcome").select_option("recovered")
    page.get_by_role("button", name="Save the follow-up").click()
    page.wait_for_url(f"**/staff/aefi/{report.id}#main")
    assert "The follow-up is saved." in page.locator(".flashes").inner_text()
    assert "discharged the next day" in page.locator(".aefi-steps").inner_text()
    _check(page, shots, "7-followed-up")
    page.close()
    with database.Session() as s:
        report = s.get(AefiReport, report.id)
        assert (report.status, report.causality, report.outcome) == ("closed", "a1",
                                                                     "recovered")


@pytest.mark.parametrize("cowin_kit_country", ["AE"])
def test_the_aefi_pages_mirror_in_arabic(browser, live_url, shots, app, cowin_kit_instance,
                                         database, cowin_kit_country):
    from cowin_kit.accounts.models import CitizenAccount
    from cowin_kit.programmes.models import Product
    from cowin_kit.registration.models import Beneficiary, IdDocumentType
    from cowin_kit.vaccination.service import record_dose

    page = browser.new_page(viewport=PHONE, locale="ar")
    _citizen(page, live_url, cowin_kit_instance, "501234567", "ar")
    with database.Session() as s:  # a member with a dose (AE ships no demo centres)
        key = uuid.uuid4().hex
        person = Beneficiary(
            reference_id=key[:14].translate(str.maketrans("abcdef", "123456")),
            account_id=s.scalar(select(CitizenAccount.id)), name="فاطمة أحمد",
            birth_year=1985, gender="female", language="ar",
            id_document_type_id=s.scalar(select(IdDocumentType.id)), id_number_hash=key * 2,
            id_number_encrypted="x", id_number_masked="XXXXXXXXXXX1234")
        s.add(person)
        s.flush()
        record_dose(s, beneficiary_id=person.id, product=s.scalar(select(Product)),
                    dose_number=1, given_on=TODAY - dt.timedelta(days=2))
        s.commit()
    page.reload()
    assert page.locator("html").get_attribute("dir") == "rtl"
    page.locator("a[href$='/side-effect']").click()
    page.wait_for_url("**/side-effect")
    _check(page, shots, "ar-1-form")
    page.locator("input[name=symptoms][value=headache]").check()
    page.locator("#onset").fill((TODAY - dt.timedelta(days=1)).isoformat())
    page.locator("input[name=seriousness][value=minor]").check()
    page.locator("#outcome").select_option("recovered")
    page.locator("button[type=submit].primary").click()
    page.wait_for_url("**/portal/")
    _check(page, shots, "ar-2-reported")
    page.close()

    page = browser.new_page(viewport=PHONE, locale="ar")
    _staff(page, live_url, ADMIN_EMAIL, ADMIN_PASSWORD, "ar")
    page.goto(f"{live_url}/staff/aefi")
    assert page.locator("html").get_attribute("dir") == "rtl"
    _check(page, shots, "ar-3-list")
    page.locator(".aefi-list h2 a").first.click()
    page.wait_for_load_state()
    assert "فاطمة أحمد" in page.locator("h1").inner_text()
    _check(page, shots, "ar-4-report")
    page.close()


def test_the_vaccinator_reports_on_a_phone(browser, live_url, shots, app, database,
                                           cowin_kit_instance):
    from helpers import beneficiary_id, make_facility_user

    page = browser.new_page(viewport=PHONE, locale="en-GB")
    _citizen(page, live_url, cowin_kit_instance, "987654321", "en")
    page.get_by_role("link", name="Add a member").click()
    page.get_by_label("Full name, as on the ID document").fill("Rosa Huamán")
    page.get_by_label("Year of birth").fill("1970")
    page.get_by_label("Female").check()
    page.get_by_label("ID document", exact=True).select_option("dni")
    page.get_by_label("ID number").fill("40123456")
    page.get_by_role("button", name="Register").click()
    page.wait_for_url("**/portal/")
    page.close()
    ref = reference(database)
    give_dose(database, ref, days_ago=0)
    make_facility_user(database, "vax@example.org", "vaccinator", "DEMO-PE-0001")

    page = browser.new_page(viewport=PHONE, locale="en-GB")
    _staff(page, live_url, "vax@example.org", STAFF_PASSWORD, "en")
    page.goto(f"{live_url}/staff/aefi/new?beneficiary={beneficiary_id(database, ref)}")
    assert "Rosa Huamán" in page.locator("main").inner_text()
    _check(page, shots, "8-centre-form")
    page.get_by_label("Fainting").check()
    page.get_by_label("Day it started").fill(TODAY.isoformat())
    page.get_by_label("Minor: mild, went away by itself").check()
    page.get_by_label("Outcome").select_option("recovered")
    page.get_by_role("button", name="Send the report").click()
    page.wait_for_load_state()
    assert "is reported (number" in page.locator(".flashes").inner_text()
    page.close()
    with database.Session() as s:
        report = s.scalar(select(AefiReport))
        assert (report.reporter_kind, report.symptoms) == ("vaccinator", ["syncope"])
