"""The public dashboard (/dashboard) and the home page's figures: what a reader sees matches
the doses recorded (once folded into the rollups), areas drill down from the nation to a
centre, wrong parameters get the form back with the field named, and no person shows."""
from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from sqlalchemy import select

from cowin_kit.geography.models import Division
from cowin_kit.programmes.models import Product
from cowin_kit.scheduling.models import Facility
from cowin_kit.vaccination.service import record_dose

from helpers import NASTY, TODAY, fold_rollups, new_person

CENTRE = "DEMO-PE-0001"


@pytest.fixture
def drive(app, database):
    """Three people vaccinated at the demo centre (Ana twice, Luis once 2 days ago, Rosa
    today), folded into the rollups: (the centre's divisions from level 1 down, primary
    doses of the vaccine, the people's masked ID numbers)."""
    with database.Session() as s:
        centre = s.scalar(select(Facility).where(Facility.code == CENTRE))
        product = s.scalar(select(Product).where(Product.code == "comirnaty"))

        def give(person, number, days_ago):
            record_dose(s, beneficiary_id=person.id, product=product, dose_number=number,
                        given_on=TODAY - dt.timedelta(days=days_ago), facility_id=centre.id)

        people = [new_person(s, "Ana Quispe", year=TODAY.year - 30, gender="female"),
                  new_person(s, "Luis Mamani", year=TODAY.year - 70, gender="male"),
                  new_person(s, "Rosa Condori", year=TODAY.year - 13, gender="female")]
        give(people[0], 1, 30)
        give(people[0], 2, 2)
        give(people[1], 1, 2)
        give(people[2], 1, 0)
        chain, d = [], centre.division
        while d is not None:
            chain.insert(0, (d.code, d.level))
            d = d.parent
        masked = [p.id_number_masked for p in people]
        s.commit()
        primary = product.primary_doses
    assert fold_rollups(app) == 4
    return chain, primary, masked


def card(page: str, label: str) -> str:
    """The figure of a headline card, by its label."""
    match = re.search(r"<dt>" + re.escape(label) + r"[^<]*</dt>\s*<dd class=\"figure\">([^<]*)<",
                      page)
    assert match, f"no card {label!r}"
    return match.group(1)


def links(page: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'href="([^"]*/dashboard[^"]*)"', page)]


def get(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return response.get_data(as_text=True)


def test_the_headline_figures_are_the_doses_recorded(client, drive):
    _chain, primary, _ = drive
    page = get(client, "/dashboard?lang=en")
    assert "Vaccination in Peru" in page
    assert card(page, "Doses given") == "4"
    assert card(page, "People with a first dose") == "3"
    assert card(page, "People fully vaccinated") == ("1" if primary == 2 else "3")
    assert card(page, "People with a booster") == "0"
    assert card(page, "Doses today") == "1"  # Rosa
    assert "Figures as of" in page and "Today's count is live." in page
    # Peru's population comes from the profile: shares, and where the figure comes from.
    assert "&lt;0.1% of the population" in page  # 3 of 34 million
    assert "World Population Prospects 2022" in page and "2023" in page
    # Four inline SVG charts (the sub-areas' one folded away), each with a title.
    assert page.count('<svg xmlns="http://www.w3.org/2000/svg"') == 4
    for title in ("Doses per day", "Doses by vaccine", "Doses by age and gender",
                  "Doses by area"):
        assert f'-title">{title}</title>' in page
    # The same numbers as tables: by age band and gender, by vaccine.
    # Columns: male, female, all. Ana's two doses at 30, Luis's at 70.
    assert re.search(r"<th scope=\"row\"><bdi dir=\"ltr\">18–\d+</bdi></th><td>0</td><td>2</td>"
                     r"<td>2</td>", page)
    assert re.search(r"<th scope=\"row\"><bdi dir=\"ltr\">60\+</bdi></th><td>1</td><td>0</td>"
                     r"<td>1</td>", page)
    assert re.search(r"Comirnaty[^<]*</bdi></th><td>4</td><td>3</td>", page)


def test_today_is_live_before_the_worker_folds(app, client, database, drive):
    with database.Session() as s:
        centre = s.scalar(select(Facility.id).where(Facility.code == CENTRE))
        person = new_person(s, "Late Comer", year=1990)
        record_dose(s, beneficiary_id=person.id, dose_number=1, given_on=TODAY,
                    facility_id=centre,
                    product=s.scalar(select(Product).where(Product.code == "comirnaty")))
        s.commit()
    page = get(client, "/dashboard?lang=en")
    assert card(page, "Doses today") == "2"
    assert card(page, "Doses given") == "4"  # the total waits for the fold


def test_drill_down_from_the_nation_to_the_centre(client, database, drive):
    chain, _primary, _ = drive
    page = get(client, "/dashboard?lang=en")
    url = f"/dashboard?division={chain[0][0]}"
    assert url in links(page)
    for code, _level in chain:  # each level's page links to the next one down
        url = f"/dashboard?division={code}"
        assert url in links(page), (code, links(page))
        page = get(client, url + "&lang=en")
        assert card(page, "Doses given") == "4"
        crumbs = page.split('class="breadcrumbs"')[1].split("</nav>")[0]
        assert 'href="/dashboard"' in crumbs  # back to the nation
        assert 'aria-current="page"' in crumbs
    assert f"/dashboard?facility={CENTRE}" in links(page)
    page = get(client, f"/dashboard?facility={CENTRE}&lang=en")
    assert card(page, "Doses given") == "4" and card(page, "Doses today") == "1"
    assert "Vaccination centre" in page
    assert 'id="h-children"' not in page  # a centre has no areas under it
    crumbs = page.split('class="breadcrumbs"')[1].split("</nav>")[0]
    for code, _level in chain:
        assert f"/dashboard?division={code}" in crumbs


def test_the_form_keeps_the_area_and_links_keep_a_chosen_range(client, drive):
    chain, _primary, _ = drive
    start = (TODAY - dt.timedelta(days=6)).strftime("%d-%m-%Y")  # Co-WIN's format is read too
    page = get(client, f"/dashboard?division={chain[0][0]}&from={start}&lang=en")
    assert f'<input type="hidden" name="division" value="{chain[0][0]}">' in page
    iso = (TODAY - dt.timedelta(days=6)).isoformat()
    assert f'name="from" value="{iso}"' in page and f'name="to" value="{TODAY}"' in page
    assert page.count('<tr><th scope="row">') >= 7
    assert any(f"from={iso}" in link and "division=" in link for link in links(page))
    # The busiest day of the week: Ana's second dose and Luis's first, 2 days ago.
    assert "The most on" in page


def test_population_shares_and_where_the_figure_comes_from(client, database, drive):
    chain, _primary, _ = drive
    with database.Session() as s:
        s.scalar(select(Division).where(Division.code == chain[0][0])).population = 200
        s.commit()
    page = get(client, f"/dashboard?division={chain[0][0]}&lang=en")
    assert "1.5% of the population" in page  # 3 people with a first dose of 200
    assert "Shares are of a population of 200" in page
    page = get(client, "/dashboard?lang=en")
    assert "1.5%" in page  # the level-1 division's row in the nation's table


@pytest.mark.parametrize("query, field, reason", [
    ("division=PE-XXX", "division", "There is no division with the code PE-XXX."),
    ("facility=NOPE-1", "facility", "There is no centre with the code NOPE-1."),
    ("programme=smallpox", "programme",
     "There is no vaccination programme with the code smallpox."),
    ("from=2026-13-01", "from", "2026-13-01 is not a date."),
    ("to=yesterday", "to", "yesterday is not a date."),
    ("from=2026-03-02&to=2026-03-01", "from",
     "The start date 2026-03-02 is after the end date 2026-03-01."),
    ("from=2020-01-01&to=2026-01-01", "from", "Ask for at most 731 days at a time."),
])
def test_wrong_parameters_are_400_with_the_field_named(client, query, field, reason):
    page = get(client, f"/dashboard?{query}&lang=en", status=400)
    assert 'class="error-summary"' in page
    assert f'<a href="#f-{field}">{html.escape(reason, quote=True)}' in page
    assert f'id="f-{field}-error">{html.escape(reason, quote=True)}' in page
    assert f'id="f-{field}"' in page and 'aria-invalid="true"' in page
    assert "<svg" not in page  # no figures for a request that was refused


def test_every_wrong_field_is_named_at_once(client):
    page = get(client, "/dashboard?division=PE-XXX&programme=nope&to=31-02-2026&lang=en",
               status=400)
    for field in ("division", "programme", "to"):
        assert f'<a href="#f-{field}">' in page


@pytest.mark.parametrize("name", ["division", "facility", "programme", "from", "to"])
def test_nasty_values_are_refused_never_a_server_error(client, name):
    for value in NASTY:
        response = client.get("/dashboard", query_string={name: value, "lang": "en"})
        assert response.status_code in (200, 400), (name, value, response.status_code)
        if response.status_code == 400:
            assert f'<a href="#f-{name}">' in response.get_data(as_text=True), (name, value)


def test_no_person_on_the_page(client, drive):
    _chain, _primary, masked = drive
    for url in ("/dashboard?lang=en", f"/dashboard?facility={CENTRE}&lang=en", "/?lang=en"):
        page = get(client, url)
        for name in ("Ana", "Luis", "Rosa", "Quispe", "Mamani", "Condori"):
            assert name not in page, (url, name)
        for number in masked:
            assert number not in page and number[4:] not in page


def test_public_cache_header_and_cached_figures(app, client, database, drive, change_settings):
    response = client.get("/dashboard?lang=en")
    assert response.headers["Cache-Control"] == "public, max-age=30"
    assert "Accept-Language" in response.headers["Vary"]
    with database.Session() as s:
        centre = s.scalar(select(Facility.id).where(Facility.code == CENTRE))
        record_dose(s, beneficiary_id=new_person(s, "Eva", year=1990).id, dose_number=1,
                    given_on=TODAY - dt.timedelta(days=1), facility_id=centre,
                    product=s.scalar(select(Product).where(Product.code == "comirnaty")))
        s.commit()
    fold_rollups(app)
    # Within REPORTS_CACHE_SECONDS the same figures are served, computed once.
    assert card(get(client, "/dashboard?lang=en"), "Doses given") == "4"
    change_settings(REPORTS_CACHE_SECONDS=0)
    response = client.get("/dashboard?lang=en")
    assert card(response.get_data(as_text=True), "Doses given") == "5"
    assert response.headers["Cache-Control"] == "public, max-age=0"
    refused = client.get("/dashboard?division=PE-XXX")
    assert refused.status_code == 400 and "public" not in refused.headers.get("Cache-Control", "")


def test_in_spanish(app, client, drive):
    from flask_babel import gettext

    chain, _primary, _ = drive
    page = get(client, f"/dashboard?division={chain[0][0]}&lang=es")
    assert '<html lang="es" dir="ltr">' in page
    with app.test_request_context("/?lang=es"):
        for msgid in ("Doses per day", "Doses by vaccine", "Vaccination programme", "Show"):
            assert gettext(msgid) in page, msgid
    from babel.dates import format_date

    assert format_date(TODAY, "long", locale="es") in page  # "12 de marzo de 2026"
    assert "Perú" in page  # the nation's name in the breadcrumbs
    page = get(client, "/dashboard?division=PE-XXX&lang=es", status=400)
    with app.test_request_context("/?lang=es"):
        assert gettext("There is no division with the code %(code)s.") % {
            "code": "PE-XXX"} in page


@pytest.mark.parametrize("cowin_kit_country", ["AE"])
def test_right_to_left_in_arabic(client, cowin_kit_country):
    page = get(client, "/dashboard")
    assert '<html lang="ar" dir="rtl">' in page
    assert 'direction="rtl"' in page  # the charts' texts run right to left
    assert "الإمارات" in page


def test_the_home_page_reads_the_rollups_and_links_the_dashboard(app, client, database, drive):
    page = get(client, "/?lang=en")
    assert re.search(r'<span class="figure">4</span>\s*<span class="label">doses given', page)
    assert re.search(r'<span class="figure">3</span>\s*<span class="label">people with a '
                     r'first dose', page)
    assert 'href="/dashboard"' in page
    # Cached like the dashboard: a dose folded meanwhile shows after REPORTS_CACHE_SECONDS.
    with database.Session() as s:
        centre = s.scalar(select(Facility.id).where(Facility.code == CENTRE))
        record_dose(s, beneficiary_id=new_person(s, "Eva", year=1990).id, dose_number=1,
                    given_on=TODAY, facility_id=centre,
                    product=s.scalar(select(Product).where(Product.code == "comirnaty")))
        s.commit()
    fold_rollups(app)
    assert '<span class="figure">4</span>' in get(client, "/?lang=en")
    app.extensions["cowin_kit"].figures_cache.clear()
    assert '<span class="figure">5</span>' in get(client, "/?lang=en")


def test_the_public_pages_link_the_dashboard(client):
    for url in ("/?lang=en", "/verify?lang=en", "/no-such-page?lang=en"):
        page = client.get(url).get_data(as_text=True)
        assert re.search(r'<nav class="site-nav"[^>]*>\s*<ul><li><a href="/dashboard"', page), url
