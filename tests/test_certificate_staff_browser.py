"""The certificate pages in a real browser (Debian's Chromium) at a phone's width (360 px):
an administrator finds a person, revokes a version, corrects the details; and the list of
versions in Arabic, right to left. Screenshots go to $COWIN_KIT_SCREENSHOTS (look at them)."""
import datetime as dt
import uuid

import pytest
from sqlalchemy import select

from cowin_kit.testing import ADMIN_EMAIL, ADMIN_PASSWORD

from helpers import TODAY, add_member, certificate_rows, reference, vaccinated, web_login

PHONE = {"width": 360, "height": 780}


def _check(page, shots, name):
    """Save a screenshot; check the page with axe-core (WCAG 2.1 A and AA) and that it does
    not scroll sideways on a phone."""
    page.screenshot(path=str(shots / f"certificates-{name}.png"), full_page=True)
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": [
        "wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
    problems = [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3])
                for v in results.response["violations"]]
    assert not problems, (name, problems)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], name


def _login(page, live_url, lang):
    page.goto(f"{live_url}/staff/login?lang={lang}")
    page.locator("#email").fill(ADMIN_EMAIL)
    page.locator("#password").fill(ADMIN_PASSWORD)
    page.locator("#password").press("Enter")
    page.wait_for_load_state()


def test_find_revoke_and_correct_on_a_phone(browser, live_url, shots, app, client, database,
                                           cowin_kit_instance):
    web_login(client, cowin_kit_instance)
    add_member(client, "45678912", name="Rosa Quispe", year="1980")
    ref = reference(database)
    vaccinated(app, database, ref, number=1, days_ago=40)
    vaccinated(app, database, ref, number=2, days_ago=10)

    page = browser.new_page(viewport=PHONE, locale="en-GB")
    _login(page, live_url, "en")
    page.goto(f"{live_url}/staff/certificates")
    _check(page, shots, "1-find")
    page.get_by_label("Reference ID or certificate identifier (UVCI)").fill("not a reference")
    page.get_by_role("button", name="Find").click()
    page.wait_for_load_state()
    assert "There is a problem" in page.content()
    _check(page, shots, "2-find-error")
    page.get_by_label("Reference ID or certificate identifier (UVCI)").fill(ref)
    page.get_by_role("button", name="Find").click()
    page.wait_for_url("**/staff/certificates/person/*")
    _check(page, shots, "3-versions")

    page.get_by_role("link", name="Revoke version 1").click()
    page.wait_for_url("**/revoke")
    page.get_by_label("Reason for revoking").fill("short")
    page.get_by_role("button", name="Revoke this certificate").click()
    page.wait_for_load_state()
    _check(page, shots, "4-revoke-error")
    page.get_by_label("Reason for revoking").fill("Recorded for the wrong person at the centre.")
    page.get_by_role("button", name="Revoke this certificate").click()
    page.wait_for_url("**/staff/certificates/person/*")
    assert "is revoked" in page.content()
    _check(page, shots, "5-revoked")

    page.get_by_role("link", name="Correct the person's details").click()
    page.wait_for_url("**/correct")
    page.get_by_label("Full name, as on the ID document").fill("Rosa Quispe Mamani")
    page.get_by_label("Reason for the correction").fill("The second surname was missing.")
    page.get_by_role("button", name="Correct and reissue the certificate").click()
    page.wait_for_url("**/staff/certificates/person/*")
    assert "The details are corrected" in page.content()
    _check(page, shots, "6-corrected")
    assert [r.revoked_at is not None for r in certificate_rows(database, ref)] == [
        True, True, False]



@pytest.mark.parametrize("cowin_kit_country", ["AE"])
def test_the_versions_mirror_in_arabic(browser, live_url, shots, app, database,
                                       cowin_kit_country):
    from cowin_kit.certificates import admin, issuing
    from cowin_kit.programmes.models import Product
    from cowin_kit.registration.models import Beneficiary, IdDocumentType
    from cowin_kit.vaccination.service import record_dose

    dep = app.extensions["cowin_kit"]
    with database.Session() as s:  # AE ships no demo centres: a dose recorded by the nation
        key = uuid.uuid4().hex
        person = Beneficiary(
            reference_id=key[:14].translate(str.maketrans("abcdef0", "1234567")),
            name="فاطمة أحمد", birth_year=1985, gender="female", language="ar",
            id_document_type_id=s.scalar(select(IdDocumentType.id)), id_number_hash=key * 2,
            id_number_encrypted="x", id_number_masked="XXXXXXXXXXX1234")
        s.add(person)
        s.flush()
        ctx = issuing.context_for(dep.settings, dep.profile)
        product = s.scalar(select(Product))
        for number, days in ((1, 40), (2, 10)):
            record_dose(s, beneficiary_id=person.id, product=product, dose_number=number,
                        given_on=TODAY - dt.timedelta(days=days), certificates=ctx)
        s.flush()
        first = s.scalar(select(Beneficiary).where(Beneficiary.id == person.id))
        cert_id = admin.versions(s, first.id)[0].versions[-1].id
        admin.revoke(s, cert_id, reason="صدرت لشخص آخر عن طريق الخطأ.", user="test")
        s.commit()
        person_id = person.id

    page = browser.new_page(viewport=PHONE, locale="ar")
    _login(page, live_url, "ar")
    page.goto(f"{live_url}/staff/certificates/person/{person_id}")
    assert page.locator("html").get_attribute("dir") == "rtl"
    _check(page, shots, "7-versions-ar")
    page.goto(f"{live_url}/staff/certificates/person/{person_id}/correct")
    _check(page, shots, "8-correct-ar")
