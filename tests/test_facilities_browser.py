"""A centre's page in a real browser at a phone's width (360 px): an administrator cancels
a session with a booked appointment, and the person's SMS waits in the outbox.
Screenshots go to $COWIN_KIT_SCREENSHOTS (look at them)."""

import pytest
from sqlalchemy import select

from cowin_kit.notifications.models import OutboxMessage
from cowin_kit.scheduling.models import Appointment, VaccinationSession
from cowin_kit.testing import ADMIN_EMAIL, ADMIN_PASSWORD

from helpers import LATER, TODAY, booked_person, facility, make_user, new_session

PHONE = {"width": 360, "height": 780}


def _check(page, shots, name):
    """A screenshot, the page fitting the phone's width, and axe-core's WCAG 2.1 AA rules."""
    page.screenshot(path=str(shots / f"facilities-{name}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], name
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": [
        "wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
    problems = [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3])
                for v in results.response["violations"]]
    assert not problems, (name, problems)


def test_an_administrator_cancels_a_session_and_the_sms_is_queued(
        app, browser, live_url, shots, database):
    centre = facility(database, "DEMO-PE-0001")
    sid = new_session(database, "DEMO-PE-0001", LATER, walk_in_quota=4)
    _account, person_id, appointment_id = booked_person(app, database, sid, "+51987000444")
    make_user(database, "vac@example.org", "vaccinator", "1501")
    page = browser.new_page(viewport=PHONE, locale="en")
    page.goto(f"{live_url}/staff/login?lang=en")
    page.get_by_label("E-mail address").fill(ADMIN_EMAIL)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_label("Password").press("Enter")
    page.wait_for_url("**/staff/")
    page.goto(f"{live_url}/staff/centres/{centre.id}")
    page.get_by_text("Repeat on several days").click()  # the recurring part, opened
    assert page.get_by_text("Walk-in places: 0 of 4 taken").count() == 1
    _check(page, shots, "centre")

    page.locator(f'a[href$="/sessions/{sid}/cancel"]').click()
    page.wait_for_url(f"**/sessions/{sid}/cancel")
    assert "1 booked appointment(s) will be cancelled" in page.locator("main").inner_text()
    page.get_by_role("button", name="Cancel the session").click()  # no reason: refused
    page.wait_for_load_state()
    assert "Say why the session is cancelled" in page.locator(".error-summary").inner_text()
    _check(page, shots, "cancel-error")
    page.get_by_label("Reason").fill("Vaccine delivery delayed")
    page.get_by_role("button", name="Cancel the session").click()
    page.wait_for_url(f"**/staff/centres/{centre.id}#main")
    assert "1 appointment(s) cancelled" in page.locator(".flashes").inner_text()
    assert page.locator(".staff-session.cancelled").count() == 1
    _check(page, shots, "centre-after-cancel")
    page.close()

    with database.Session() as s:
        assert s.get(VaccinationSession, sid).cancelled_at is not None
        assert s.get(Appointment, appointment_id).status == "cancelled"
        [text] = s.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == "session.cancelled")).all()
        assert (text.mobile, text.beneficiary_id, text.status) == (
            "+51987000444", person_id, "pending")
        assert text.params["date"] == LATER.strftime("%d-%m-%Y")
        assert LATER > TODAY


@pytest.mark.parametrize("cowin_kit_country", ["AE"])
def test_a_centre_page_mirrors_in_arabic(app, browser, live_url, shots, database,
                                         cowin_kit_country):
    """Right to left at 360 px: the centre's page after adding a session with walk-in
    places, the centre form and the lot form."""
    from cowin_kit.geography.models import Division
    from cowin_kit.scheduling.models import Facility

    with database.Session() as s:  # the AE profile has no demo centres: one of our own
        division = s.scalar(select(Division).order_by(Division.level.desc(), Division.id))
        s.add(Facility(code="AE-DXB-0001", name="مركز التطعيم", address="", names={},
                       division_id=division.id, fee_type="Free"))
        s.commit()
    code = "AE-DXB-0001"
    page = browser.new_page(viewport=PHONE, locale="ar")
    page.goto(f"{live_url}/staff/login?lang=ar")
    assert page.locator("html").get_attribute("dir") == "rtl"
    page.locator("#email").fill(ADMIN_EMAIL)
    page.locator("#password").fill(ADMIN_PASSWORD)
    page.locator("#password").press("Enter")
    page.wait_for_url("**/staff/")
    centre = facility(database, code)
    page.goto(f"{live_url}/staff/centres/{centre.id}")
    page.locator("#date").fill(LATER.isoformat())
    page.locator("#min_age").fill("18")
    page.locator("#capacity_dose1").fill("20")
    page.locator("#walk_in_quota").fill("5")
    page.locator("#slots").fill("09:00-11:00")
    page.locator("button.primary").click()
    page.wait_for_url(f"**/staff/centres/{centre.id}#main")
    _check(page, shots, "centre-ar")
    page.goto(f"{live_url}/staff/centres/{centre.id}/edit")
    _check(page, shots, "centre-form-ar")
    page.goto(f"{live_url}/staff/centres/{centre.id}/lots/new")
    _check(page, shots, "lot-ar")
    page.close()
