"""The vaccinator's pages in a real browser (Debian's Chromium) on a 360px phone: a booked
person found by secret code and vaccinated; the offline queue (network cut, two doses kept,
synced when it returns, exactly one dose each, a conflict shown); screenshots in Spanish and
Arabic (right to left). Screenshots go to $COWIN_KIT_SCREENSHOTS (look at them)."""
import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from cowin_kit import clock
from cowin_kit.vaccination.models import Dose, VaccineLot

from helpers import (
    STAFF_PASSWORD,
    TODAY,
    add_lot,
    adult_session_today,
    book_today,
    facility_user,
)

PHONE = {"width": 360, "height": 740}


@pytest.fixture
def cowin_kit_config():
    return {"OTP_RESEND_SECONDS": 0, "LANGUAGES": ["es", "ar", "en"]}


@pytest.fixture
def centre(app, database):
    vs = adult_session_today(database)
    lot = add_lot(database, vs.facility_id, vs.product_id, "LOT-7731")
    facility_user(database, "vac@example.org", "vaccinator", vs.facility_id)
    return vs, lot


def _phone(browser, locale):
    """A phone whose clock stands where the kit's wall clock is pinned for the tests (its
    timers run): the recordings it queues carry its time, checked against the kit's day."""
    context = browser.new_context(viewport=PHONE, locale=locale)
    context.clock.set_fixed_time(clock.now())
    return context


def _login(page, live_url, lang="en"):
    page.goto(f"{live_url}/staff/login?lang={lang}")
    page.locator("#email").fill("vac@example.org")
    page.locator("#password").fill(STAFF_PASSWORD)
    page.locator("#password").press("Enter")
    page.wait_for_url("**/staff/today")


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def _doses(database, person_id):
    with database.Session() as s:
        return s.scalar(select(func.count()).select_from(Dose).where(
            Dose.beneficiary_id == person_id))


def test_a_booked_person_found_by_secret_code_and_vaccinated(app, browser, live_url, shots,
                                                             database, centre):
    vs, lot = centre
    ana = book_today(app, vs.id, "40123456", "Ana Quispe")
    context = _phone(browser, "en")
    page = context.new_page()
    _login(page, live_url)
    page.get_by_label("Reference (14 digits)").fill(ana.reference)
    page.get_by_label("Secret code (4 digits)").fill(ana.code)
    page.get_by_role("button", name="Find", exact=True).click()
    page.wait_for_url(f"**/staff/today/appointments/{ana.appointment_id}")
    identity = page.locator("dl.identity").inner_text()
    assert "Ana Quispe" in identity and "1980" in identity and "40123456" not in identity
    assert "Dose 1 of" in page.locator(".dose-number").inner_text()
    page.get_by_label("Left upper arm").check()
    page.get_by_role("button", name="Record dose").click()
    page.wait_for_url("**/staff/today")
    assert "Dose 1 recorded for Ana Quispe." in page.locator(".flashes").inner_text()
    assert _doses(database, ana.beneficiary_id) == 1
    assert _fits(page)
    context.close()


def test_the_offline_queue_syncs_when_the_network_returns(app, browser, live_url, shots,
                                                           database, centre):
    vs, lot = centre
    ana = book_today(app, vs.id, "40123456", "Ana Quispe")
    luis = book_today(app, vs.id, "10117410", "Luis Quispe")
    rosa = book_today(app, vs.id, "20304050", "Rosa Mamani", mobile="+51987000111")
    context = _phone(browser, "en")
    page = context.new_page()
    _login(page, live_url)
    page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_function("() => document.querySelector('a[data-appointment]') !== null")
    # The queue is kept on the phone once loaded (IndexedDB).
    page.wait_for_function("""() => new Promise(resolve => {
        const r = indexedDB.open('cowin-kit-vaccinate', 1);
        r.onsuccess = () => r.result.transaction('queue').objectStore('queue').count()
            .onsuccess = e => resolve(e.target.result > 0);
    })""")

    context.set_offline(True)
    form = page.locator("#offline-record")
    # Ana from the queue; Luis by his secret code, checked on the phone.
    page.locator(f"a[data-appointment='{ana.appointment_id}']").click()
    form.wait_for(state="visible")
    assert "Ana Quispe" in form.inner_text() and "40123456" not in form.inner_text()
    form.get_by_label("Right upper arm").check()
    form.get_by_role("button", name="Record dose").click()
    form.wait_for(state="hidden")
    page.get_by_label("Reference (14 digits)").fill(luis.reference)
    page.get_by_label("Secret code (4 digits)").fill(f"{(int(luis.code) + 1) % 10000:04d}")
    page.get_by_role("button", name="Find", exact=True).click()
    expect(page.locator("#find-error")).to_contain_text("The secret code is not right")
    page.get_by_label("Secret code (4 digits)").fill(luis.code)
    page.get_by_role("button", name="Find", exact=True).click()
    form.wait_for(state="visible")
    assert "Luis Quispe" in form.inner_text()
    page.screenshot(path=str(shots / "vaccinate-offline-form.png"), full_page=True)
    form.get_by_label("Right upper arm").check()
    form.get_by_role("button", name="Record dose").click()
    form.wait_for(state="hidden")
    status = page.locator("#sync-status")
    expect(status).to_contain_text("2 recording(s) waiting to be sent")
    expect(page.locator("#pending-list li")).to_have_count(2)
    expect(page.locator("#sync-note")).to_contain_text("No connection")
    page.screenshot(path=str(shots / "vaccinate-offline-pending.png"), full_page=True)

    # A third, for someone who is then vaccinated elsewhere before the phone reconnects.
    page.locator(f"a[data-appointment='{rosa.appointment_id}']").click()
    page.locator("#offline-record").get_by_label("Left thigh").check()
    page.locator("#offline-record").get_by_role("button", name="Record dose").click()
    page.wait_for_function(
        "() => document.getElementById('sync-status').textContent.startsWith('3 ')")
    from cowin_kit.vaccination.service import record_dose

    with database.Session() as s:
        record_dose(s, beneficiary_id=rosa.beneficiary_id, product=vs.product_id,
                    dose_number=1, given_on=TODAY)
        s.commit()

    context.set_offline(False)
    page.wait_for_function(
        "() => document.getElementById('pending-list').children.length === 0"
        " && document.getElementById('attention-list').children.length === 1",
        timeout=30000)
    assert "Every recording has been sent." in status.inner_text()
    expect(page.locator("#sync-note")).to_be_hidden()
    attention = page.locator("#attention-list").inner_text()
    assert "Rosa Mamani" in attention and "Dose 1 is already recorded" in attention
    expect(page.locator('[data-count="done"]')).to_have_text("2")
    page.screenshot(path=str(shots / "vaccinate-offline-synced.png"), full_page=True)
    assert _doses(database, ana.beneficiary_id) == 1
    assert _doses(database, luis.beneficiary_id) == 1
    assert _doses(database, rosa.beneficiary_id) == 1  # the one given elsewhere only
    with database.Session() as s:
        assert s.get(VaccineLot, lot).doses_used == 2
    # Marked dealt with, it goes; nothing else was dropped.
    page.locator("#attention-list button").click()
    page.wait_for_function(
        "() => document.getElementById('attention-list').children.length === 0")
    context.close()


@pytest.mark.parametrize("lang", ["es", "ar"])
def test_screenshots_at_360px(app, browser, live_url, shots, database, centre, lang):
    vs, lot = centre
    ana = book_today(app, vs.id, "40123456", "Ana Quispe")
    book_today(app, vs.id, "10117410", "Luis Quispe")
    context = _phone(browser, lang)
    page = context.new_page()
    _login(page, live_url, lang)
    assert page.locator("html").get_attribute("dir") == ("rtl" if lang == "ar" else "ltr")
    page.wait_for_function("() => document.querySelector('a[data-appointment]') !== null")
    page.screenshot(path=str(shots / f"vaccinate-today-{lang}.png"), full_page=True)
    assert _fits(page), "the today page scrolls sideways on a phone"
    page.goto(f"{live_url}/staff/today/appointments/{ana.appointment_id}")
    page.screenshot(path=str(shots / f"vaccinate-record-{lang}.png"), full_page=True)
    assert _fits(page), "the record page scrolls sideways on a phone"
    context.close()
