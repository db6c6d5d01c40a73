"""The public dashboard in a real browser: at a phone's width (360 px) its charts are drawn
and visible, the page fits the screen and passes axe-core's WCAG 2.1 AA rules, and a reader
drills down by clicking an area; in Arabic it mirrors; in Hindi the script renders.
Screenshots go to $COWIN_KIT_SCREENSHOTS (look at them)."""
from __future__ import annotations

import datetime as dt
import itertools

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from cowin_kit.geography.models import Division
from cowin_kit.programmes.models import Programme
from cowin_kit.scheduling.models import Facility
from cowin_kit.vaccination.service import record_dose

from helpers import TODAY, fold_rollups, new_person

PHONE = {"width": 360, "height": 780}
DESKTOP = {"width": 1280, "height": 900}


def populate(app, database, centres: int = 3, people: int = 60) -> list[str]:
    """``people`` vaccinated over the last weeks at ``centres`` centres in different
    level-1 divisions (centres made where the profile has no demo ones), folded into the
    rollups: the level-1 divisions' codes, busiest first."""
    with database.Session() as s:
        found = list(s.scalars(select(Facility).order_by(Facility.id)))
        level1 = {}
        for f in found:
            top = f.division
            while top.parent is not None:
                top = top.parent
            level1.setdefault(top.id, (top, f))
        places = [f for _top, f in level1.values()][:centres]
        if len(places) < centres:
            for d in s.scalars(select(Division).where(Division.level == 1)
                               .order_by(Division.id).limit(centres - len(places))):
                f = Facility(code=f"DASH-{d.id}", name=f"Centre {d.code}", address="",
                             names={}, division_id=d.id, fee_type="Free")
                s.add(f)
                places.append(f)
            s.flush()
        programme = s.scalar(select(Programme).where(Programme.is_active.is_(True))
                             .order_by(Programme.id))
        product = sorted(programme.products, key=lambda p: p.id)[0]
        weights = itertools.cycle([0, 0, 0, 1, 1, 2])  # the first centre busiest
        genders = itertools.cycle(["female", "male", "female", "male", "other"])
        ages = itertools.cycle([19, 27, 35, 48, 52, 63, 71, 16, 40, 33, 66])
        for i in range(people):
            person = new_person(s, f"Person {i}", year=TODAY.year - next(ages),
                                gender=next(genders))
            place = places[next(weights) % len(places)]
            first = 3 + (i * 7) % 40
            record_dose(s, beneficiary_id=person.id, product=product, dose_number=1,
                        given_on=TODAY - dt.timedelta(days=first), facility_id=place.id)
            if i % 3 and product.primary_doses > 1 and first > 21:
                record_dose(s, beneficiary_id=person.id, product=product, dose_number=2,
                            given_on=TODAY - dt.timedelta(days=first - 21),
                            facility_id=place.id)
        record_dose(s, beneficiary_id=new_person(s, "Today", year=1990).id, product=product,
                    dose_number=1, given_on=TODAY, facility_id=places[0].id)
        codes = []
        for f in places:
            top = f.division
            while top.parent is not None:
                top = top.parent
            codes.append(top.code)
        s.commit()
    fold_rollups(app)
    return codes


def check(page, shots, name, width=PHONE["width"]):
    """A full-page screenshot; the page fits the screen's width; axe-core finds nothing."""
    page.screenshot(path=str(shots / f"dashboard-{name}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= width, name
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": [
        "wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
    problems = [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3])
                for v in results.response["violations"]]
    assert not problems, (name, problems)


def charts_drawn(page) -> None:
    """The daily, vaccine and age charts are on screen with bars of some size."""
    for chart in ("chart-daily", "chart-products", "chart-age-gender"):
        svg = page.locator(f'svg[aria-labelledby^="{chart}-title"]')
        expect(svg).to_be_visible()
        box = svg.bounding_box()
        assert box["width"] > 250 and box["height"] > 60, (chart, box)
        side = "height" if chart == "chart-daily" else "width"  # columns, or bars
        longest = max(b.bounding_box()[side] for b in svg.locator("rect.bar").all())
        assert longest > 20, chart


def test_the_dashboard_renders_its_charts_and_drills_down(app, browser, live_url, shots,
                                                         database):
    busiest, *_ = populate(app, database)
    page = browser.new_page(viewport=PHONE, locale="en")
    page.goto(f"{live_url}/?lang=en")
    page.get_by_role("navigation", name="Public pages").get_by_role(
        "link", name="Dashboard").click()
    page.wait_for_url("**/dashboard")
    assert page.get_by_role("heading", level=1).inner_text() == "Vaccination in Peru"
    charts_drawn(page)
    assert page.locator(".headline .card.total .figure").inner_text() != "0"
    check(page, shots, "en")

    link = page.locator(f'#h-children ~ .table-wrap a[href$="division={busiest}"]')
    name = link.inner_text()
    link.click()
    page.wait_for_url(f"**/dashboard?division={busiest}")
    assert name in page.get_by_role("heading", level=1).inner_text()
    expect(page.get_by_role("navigation", name="Areas above this one").get_by_role(
        "link", name="Peru")).to_be_visible()
    charts_drawn(page)
    check(page, shots, "en-division")

    # A narrower range through the form, without JavaScript's help.
    page.locator("#f-from").fill((TODAY - dt.timedelta(days=13)).isoformat())
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**from=*")
    assert page.locator('svg[aria-labelledby^="chart-daily"] rect.bar').count() == 14
    page.close()

    page = browser.new_page(viewport=DESKTOP, locale="en")
    page.goto(f"{live_url}/dashboard?lang=en")
    charts_drawn(page)
    page.get_by_text("As a chart").click()
    expect(page.locator('svg[aria-labelledby^="chart-children"]')).to_be_visible()
    check(page, shots, "en-desktop", DESKTOP["width"])
    page.goto(f"{live_url}/dashboard?lang=en&division=PE-XXX&to=31-02-2026")
    assert "There is no division with the code PE-XXX." in page.locator(
        ".error-summary").inner_text()
    check(page, shots, "en-error", DESKTOP["width"])
    page.close()


@pytest.mark.parametrize("cowin_kit_country", ["AE"])
def test_the_dashboard_mirrors_in_arabic(app, browser, live_url, shots, database,
                                         cowin_kit_country):
    busiest, *_ = populate(app, database)
    page = browser.new_page(viewport=PHONE, locale="ar")
    page.goto(f"{live_url}/dashboard?lang=ar")
    assert page.locator("html").get_attribute("dir") == "rtl"
    charts_drawn(page)
    # Bars grow from the right: each bar's right edge is the chart's.
    svg = page.locator('svg[aria-labelledby^="chart-products"]')
    chart_right = svg.bounding_box()["x"] + svg.bounding_box()["width"]
    bar = svg.locator("rect.bar").first.bounding_box()
    assert abs(bar["x"] + bar["width"] - chart_right) < 2
    check(page, shots, "ar")
    page.locator(f'#h-children ~ .table-wrap a[href*="division={busiest}"]').click()
    page.wait_for_url(f"**division={busiest}")
    charts_drawn(page)
    check(page, shots, "ar-division")
    page.close()


@pytest.mark.parametrize("cowin_kit_country", ["IN"])
def test_the_dashboard_in_hindi(app, browser, live_url, shots, database, cowin_kit_country):
    populate(app, database)
    page = browser.new_page(viewport=PHONE, locale="hi")
    page.goto(f"{live_url}/dashboard?lang=hi")
    assert page.locator("html").get_attribute("lang") == "hi"
    charts_drawn(page)
    check(page, shots, "hi")
    page.close()
