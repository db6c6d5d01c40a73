"""Officials' reports in a real browser (Debian's Chromium): a national administrator opens
the utilisation report, exports it as CSV, watches the export's progress (the page updates
itself, without JavaScript) and downloads the file; then the coverage report, and the
report on a phone. Screenshots go to $COWIN_KIT_SCREENSHOTS (look at them)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from cowin_kit.geography.models import Division
from cowin_kit.programmes.models import Product
from cowin_kit.reporting import exports
from cowin_kit.scheduling.models import Facility
from cowin_kit.staff import report_views
from cowin_kit.testing import ADMIN_EMAIL, ADMIN_PASSWORD
from cowin_kit.vaccination.service import record_dose

from helpers import TODAY, fold_rollups, new_person, new_session

DAY = TODAY - dt.timedelta(days=40)
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 780}


def _check(page, shots, name, width):
    """Save a screenshot; check the page with axe-core (WCAG 2.1 A and AA) and that it does
    not scroll sideways."""
    page.screenshot(path=str(shots / f"reports-{name}.png"), full_page=True)
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": [
        "wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
    problems = [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3])
                for v in results.response["violations"]]
    assert not problems, (name, problems)
    assert page.evaluate("document.documentElement.scrollWidth") <= width, name


def _drive(app, database):
    """Sessions and doses on DAY at three centres, and populations for the districts."""
    new_session(database, "DEMO-PE-0001", DAY, capacity=20, walk_in_quota=5)
    new_session(database, "DEMO-PE-0011", DAY, capacity=10)
    with database.Session() as s:
        product = s.scalar(select(Product).where(Product.code == "comirnaty"))
        for code, people in (("DEMO-PE-0001", 6), ("DEMO-PE-0011", 1), ("DEMO-PE-0016", 3)):
            centre = s.scalar(select(Facility.id).where(Facility.code == code))
            for i in range(people):
                record_dose(s, beneficiary_id=new_person(s, f"P{code}{i}").id, product=product,
                            dose_number=1, given_on=DAY, facility_id=centre)
        for code, people in (("1501", 1000), ("0701", 5000), ("0401", 400)):
            s.scalar(select(Division).where(Division.code == code)).population = people
        s.commit()
    fold_rollups(app)


def test_an_official_opens_a_report_and_exports_it(browser, live_url, shots, app, database,
                                                   monkeypatch):
    _drive(app, database)
    monkeypatch.setattr(exports, "SMALL_EXPORT", 0)  # the export goes to the worker
    monkeypatch.setattr(report_views, "REFRESH_SECONDS", 1)
    page = browser.new_page(viewport=DESKTOP, locale="en-GB")
    page.goto(f"{live_url}/staff/login?lang=en")
    page.locator("#email").fill(ADMIN_EMAIL)
    page.locator("#password").fill(ADMIN_PASSWORD)
    page.locator("#password").press("Enter")
    page.wait_for_load_state()
    page.get_by_role("link", name="Reports").click()
    page.wait_for_url("**/staff/reports")
    _check(page, shots, "1-index", DESKTOP["width"])

    page.get_by_role("link", name="Centre utilisation").click()
    page.get_by_label("From").fill(DAY.isoformat())
    page.get_by_label("To", exact=True).fill(DAY.isoformat())
    page.get_by_role("button", name="Show").click()
    page.wait_for_load_state()
    table = page.locator("table.report-table")
    lima = table.locator("tr", has_text="DEMO-PE-0001")
    assert "25" in lima.inner_text() and "24.0%" in lima.inner_text()  # 6 of 25 places
    assert "All centres of the area" in table.locator("tfoot").inner_text()
    _check(page, shots, "2-utilisation", DESKTOP["width"])

    page.get_by_role("button", name="Export as CSV").click()
    page.wait_for_url("**/staff/reports/exports/*")
    assert page.locator("progress").count() == 1
    assert page.get_by_role("link", name="Download CSV").count() == 0
    dep = app.extensions["cowin_kit"]
    folder = exports.folder_for(dep.settings.instance_path)
    with database.Session() as s, database.Session() as read:  # the worker's first turn
        exports.work(s, read, dep.profile, folder, TODAY, seconds=0, chunk=5)
    page.reload()
    status = page.get_by_role("status").inner_text()
    assert "Preparing the file: 5 of 18 rows." in status
    assert page.locator("progress").get_attribute("value") == "5"
    assert page.locator('meta[http-equiv="refresh"]').count() == 1
    assert page.get_by_role("link", name="Stop updating").count() == 1
    # Checked with the reloading stopped: a reload in the middle of the check (the
    # machine may be slow) would make it fail for nothing.
    running_url = page.url
    page.get_by_role("link", name="Stop updating").click()
    assert page.locator('meta[http-equiv="refresh"]').count() == 0
    assert "Preparing the file: 5 of 18 rows." in page.get_by_role("status").inner_text()
    _check(page, shots, "3-export-running", DESKTOP["width"])
    page.goto(running_url)
    with database.Session() as s, database.Session() as read:  # the worker finishes it
        while exports.work(s, read, dep.profile, folder, TODAY, chunk=5):
            pass
    # The page refreshes itself (a meta refresh, no script) and offers the file.
    download_link = page.get_by_role("link", name="Download CSV")
    download_link.wait_for()
    assert "The file is ready: 18 rows." in page.get_by_role("status").inner_text()
    _check(page, shots, "4-export-done", DESKTOP["width"])
    with page.expect_download() as info:
        download_link.click()
    text = open(info.value.path(), encoding="utf-8").read()
    assert text.startswith("centre_code,centre,division,sessions,places_offered")
    assert "DEMO-PE-0001" in text

    page.goto(f"{live_url}/staff/reports/coverage?lang=en")
    rows = page.locator("table.report-table").first.locator("tbody tr")
    assert "Callao" in rows.first.inner_text()  # lowest first, and it lags
    assert "1 district lags." in page.get_by_role("status").inner_text()
    assert "Districts without a population figure" in page.content()
    _check(page, shots, "5-coverage", DESKTOP["width"])

    phone = browser.new_page(viewport=PHONE, locale="en-GB")
    phone.context.add_cookies(page.context.cookies())
    phone.goto(f"{live_url}/staff/reports/utilisation?from={DAY}&to={DAY}&lang=en")
    _check(phone, shots, "6-utilisation-phone", PHONE["width"])
