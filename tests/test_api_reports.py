"""The reports API (/api/v2/reports/…) and Co-WIN's public report: the figures match the
doses recorded, drill down from the nation to a centre, "today" is live, answers are cached
with ETags (one area's never served for another's) and open to other sites, and every bad
parameter is a 400 that says what is wrong."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from cowin_kit.geography.models import Division
from cowin_kit.programmes.models import Product
from cowin_kit.reporting import queries
from cowin_kit.reporting.dashboard import dashboard_figures
from cowin_kit.scheduling.models import Facility
from cowin_kit.vaccination.service import record_dose

from helpers import TODAY, fold_rollups, new_person

EN = {"Accept-Language": "en"}
R = "/api/v2/reports"
COWIN = "/api/v1/reports/v2/getPublicReports"


@pytest.fixture
def cowin_kit_config():
    # Computed at every request unless a test turns the cache on (change_settings).
    return {"OTP_RESEND_SECONDS": 0, "REPORTS_CACHE_SECONDS": 0}


def _give(s, person, number, days_ago, facility, product):
    record_dose(s, beneficiary_id=person.id, product=product, dose_number=number,
                given_on=TODAY - dt.timedelta(days=days_ago), facility_id=facility.id)


@pytest.fixture
def drive(app, database):
    """At the demo centre in Lima (region PE-LMA, province 1501, district 150101): Ana (30)
    with two doses, Luis (70) and Rosa (13) with one; Rosa's is today's. Folded."""
    with database.Session() as s:
        f = s.scalar(select(Facility).where(Facility.code == "DEMO-PE-0001"))
        product = s.scalar(select(Product).where(Product.code == "comirnaty"))
        ana = new_person(s, "Ana", year=TODAY.year - 30, gender="female")
        _give(s, ana, 1, 30, f, product)
        _give(s, ana, 2, 2, f, product)
        _give(s, new_person(s, "Luis", year=TODAY.year - 70, gender="male"), 1, 2, f, product)
        _give(s, new_person(s, "Rosa", year=TODAY.year - 13, gender="female"), 1, 0, f,
              product)
        s.commit()
        chain = [f.division]
        while chain[-1].parent is not None:
            chain.append(chain[-1].parent)
        ids = {"facility": f.id, "district": chain[0].code, "province": chain[1].code,
               "region": chain[2].code, "region_id": chain[2].id,
               "province_id": chain[1].id}
    assert fold_rollups(app) == 4
    return ids


def _ok(client, url, **headers):
    r = client.get(url, headers={**EN, **headers})
    assert r.status_code == 200, (url, r.get_json())
    return r.get_json()


# --- the figures -----------------------------------------------------------------------------

def test_the_dashboard_endpoint_is_exactly_the_pages_figures(client, app, database, drive):
    start = TODAY - dt.timedelta(days=60)
    got = _ok(client, f"{R}/dashboard?division={drive['region']}&from={start.isoformat()}"
                      f"&to={TODAY.isoformat()}")
    profile = app.extensions["cowin_kit"].profile
    with database.Session() as s:
        area = queries.resolve_area(s, profile, "en", division=drive["region"])
        programme = queries.programme_figures(s, "en", None, profile.default_language)
        want = dashboard_figures(s, profile, "en", area, programme, start, TODAY, TODAY)
    assert got == want
    assert got["totals"]["doses"] == 4 and got["today"]["doses"] == 1


def test_summary_counts_the_doses_and_the_people(client, drive):
    data = _ok(client, f"{R}/summary")
    assert data["area"]["kind"] == "nation" and data["trail"] == []
    assert data["programme"]["code"] == "covid19" and data["as_of"]
    totals = data["totals"]
    assert (totals["doses"], totals["first"], totals["full"], totals["booster"]) == (4, 3, 1, 0)
    assert totals["by_dose"] == {"1": 3, "2": 1}
    assert data["today"] == {"date": TODAY.isoformat(), "doses": 1, "first": 1, "full": 0,
                             "booster": 0, "by_dose": {"1": 1}}
    centre = _ok(client, f"{R}/summary?facility=DEMO-PE-0001")
    assert centre["area"]["kind"] == "facility" and centre["totals"]["doses"] == 4
    assert [t["kind"] for t in centre["trail"]] == ["nation", "division", "division",
                                                    "division"]
    elsewhere = _ok(client, f"{R}/summary?division=PE-CUS")
    assert elsewhere["totals"]["doses"] == 0 and elsewhere["today"]["doses"] == 0


def test_daily_products_and_age_gender(client, drive):
    start = (TODAY - dt.timedelta(days=3)).isoformat()
    # DD-MM-YYYY is read too, as Co-WIN's other endpoints write dates.
    daily = _ok(client, f"{R}/daily?from={start}&to={TODAY:%d-%m-%Y}")
    assert daily["range"] == {"from": start, "to": TODAY.isoformat()}
    assert [d["doses"] for d in daily["daily"]] == [0, 2, 0, 1]
    products = {p["code"]: p for p in _ok(client, f"{R}/products")["products"]}
    assert products["comirnaty"]["doses"] == 4 and products["spikevax"]["doses"] == 0
    cells = {(c["band"], c["gender"]): (c["label"], c["doses"])
             for c in _ok(client, f"{R}/age-gender")["age_gender"]}
    assert cells == {(12, "female"): ("12–14", 1), (18, "female"): ("18–44", 2),
                     (60, "male"): ("60+", 1)}


def test_areas_drill_down_from_the_nation_to_the_centre(client, drive):
    def children(param=""):
        data = _ok(client, f"{R}/areas{param}")
        return {c["code"]: c for c in data["children"]}

    nation = children()
    assert len(nation) == 26 and sum(c["doses"] for c in nation.values()) == 4
    assert nation[drive["region"]]["doses"] == 4 and nation[drive["region"]]["level"] == 1
    assert nation["PE-CUS"]["doses"] == 0
    region = children(f"?division={drive['region']}")
    assert region[drive["province"]]["doses"] == 4
    province = children(f"?division={drive['province']}")
    assert province[drive["district"]]["first"] == 3
    district = children(f"?division={drive['district']}")
    centre = district["DEMO-PE-0001"]
    assert centre["kind"] == "facility" and (centre["doses"], centre["full"]) == (4, 1)
    assert children("?facility=DEMO-PE-0001") == {}


def test_today_is_live_before_the_worker_folds(client, app, database, drive):
    before = _ok(client, f"{R}/summary")
    with database.Session() as s:
        f = s.get(Facility, drive["facility"])
        product = s.scalar(select(Product).where(Product.code == "comirnaty"))
        _give(s, new_person(s, "Late", year=1990), 1, 0, f, product)
        s.commit()
    after = _ok(client, f"{R}/summary")
    assert after["today"]["doses"] == before["today"]["doses"] + 1
    assert after["totals"]["doses"] == before["totals"]["doses"]  # not folded yet
    report = _ok(client, COWIN)
    v = report["topBlock"]["vaccination"]
    assert v["today"] == 2 and v["today_female"] == 2  # Rosa and Late
    assert v["total_doses"] == 4  # as of the last fold
    states = {x["id"]: x["today"] for x in report["getBeneficiariesGroupBy"]}
    assert states[drive["region_id"]] == 2 and sum(states.values()) == 2
    district = _ok(client, f"{COWIN}?district_id={drive['province_id']}")
    assert [x["today"] for x in district["getBeneficiariesGroupBy"]
            if x["session_site_id"] == drive["facility"]] == [2]
    fold_rollups(app)
    assert _ok(client, f"{R}/summary")["totals"]["doses"] == before["totals"]["doses"] + 1


# --- caching and CORS ------------------------------------------------------------------------

def test_answers_carry_an_etag_and_revalidate_with_304(client, drive, change_settings):
    change_settings(REPORTS_CACHE_SECONDS=30)
    first = client.get(f"{R}/summary", headers=EN)
    assert first.status_code == 200
    assert first.headers["Cache-Control"] == "public, max-age=30"
    tag = first.headers["ETag"]
    assert tag.startswith('"') and not tag.startswith("W/")
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    again = client.get(f"{R}/summary", headers={**EN, "If-None-Match": tag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == tag and again.headers["Access-Control-Allow-Origin"] == "*"
    other = client.get(f"{R}/summary?division=PE-CUS", headers={**EN, "If-None-Match": tag})
    assert other.status_code == 200 and other.headers["ETag"] != tag
    preflight = client.options(f"{R}/summary", headers={
        "Origin": "https://dashboard.example", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "if-none-match"})
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "If-None-Match" in preflight.headers["Access-Control-Allow-Headers"]


def test_the_cache_never_serves_one_areas_answer_for_another(client, drive,
                                                             change_settings):
    change_settings(REPORTS_CACHE_SECONDS=300)
    lima = _ok(client, f"{R}/summary?division={drive['region']}")
    cusco = _ok(client, f"{R}/summary?division=PE-CUS")
    assert (lima["area"]["code"], lima["totals"]["doses"]) == (drive["region"], 4)
    assert (cusco["area"]["code"], cusco["totals"]["doses"]) == ("PE-CUS", 0)
    assert _ok(client, f"{R}/summary?facility=DEMO-PE-0001")["area"]["kind"] == "facility"
    assert _ok(client, f"{R}/summary?division={drive['region']}") == lima  # from the cache
    es = client.get(f"{R}/summary", headers={"Accept-Language": "es"}).get_json()
    en = _ok(client, f"{R}/summary")
    assert es["area"]["name"] == "Perú" and en["area"]["name"] == "Peru"
    states = {x["id"]: x["total"] for x in _ok(client, COWIN)["getBeneficiariesGroupBy"]}
    state = _ok(client, f"{COWIN}?state_id={drive['region_id']}")
    assert [x["district_id"] for x in state["getBeneficiariesGroupBy"]] != list(states)
    assert state["topBlock"]["vaccination"]["total"] == 3


# --- Co-WIN's public report ----------------------------------------------------------------

def test_the_cowin_report_of_the_nation(client, drive):
    data = _ok(client, f"{COWIN}?state_id=&district_id=&date={TODAY.isoformat()}")
    assert set(data) == {"topBlock", "getBeneficiariesGroupBy", "last7DaysVaccination",
                         "vaccinationByAge", "reportFor", "timestamp"}
    v = data["topBlock"]["vaccination"]
    assert (v["total"], v["male"], v["female"], v["others"]) == (3, 1, 2, 0)
    assert (v["tot_dose_1"], v["tot_dose_2"], v["tot_pd"], v["total_doses"]) == (3, 1, 0, 4)
    assert (v["today"], v["today_dose_one"], v["today_dose_two"], v["today_dose_pd"]) == (
        1, 1, 0, 0)
    assert (v["today_male"], v["today_female"], v["today_others"]) == (0, 1, 0)
    assert v["comirnaty"] == 4 and v["spikevax"] == 0 and v["yesterday_vac"] == 0
    assert "aefi" not in v and "registration" not in data["topBlock"]
    assert data["topBlock"]["sites"] == {"total": 1, "today": 1}
    assert data["vaccinationByAge"] == {"total": 3, "vac_0_11": 0, "vac_12_14": 1,
                                        "vac_15_17": 0, "vac_18_45": 1, "vac_45_60": 0,
                                        "above_60": 1}
    days = data["last7DaysVaccination"]
    assert [d["vaccine_date"] for d in days] == [
        (TODAY - dt.timedelta(days=i)).isoformat() for i in range(7, 0, -1)]
    assert days[-2] == {"vaccine_date": (TODAY - dt.timedelta(days=2)).isoformat(),
                        "count": 2, "dose_one": 1, "dose_two": 1, "dose_pd": 0}
    states = {x["state_id"]: x for x in data["getBeneficiariesGroupBy"]}
    listed = _ok(client, "/api/v2/admin/location/states")["states"]
    assert set(states) == {x["state_id"] for x in listed}  # the location endpoints' ids
    lima = states[drive["region_id"]]
    assert {k: lima[k] for k in ("id", "total", "partial_vaccinated", "totally_vaccinated",
                                 "precaution_dose", "today")} == {
        "id": drive["region_id"], "total": 3, "partial_vaccinated": 2,
        "totally_vaccinated": 1, "precaution_dose": 0, "today": 1}
    same = next(x for x in listed if x["state_id"] == drive["region_id"])
    assert (lima["state_name"], lima["title"]) == (same["state_name"], same["state_name_l"])
    assert lima["title"] == "Metropolitan Lima"  # in the reader's language
    assert data["reportFor"] == f"State :  & District:  | {TODAY.isoformat()}"
    assert _ok(client, f"{R}/public") == data  # the alias


def test_the_cowin_report_of_a_state_and_a_district(client, drive):
    state = _ok(client, f"{COWIN}?state_id={drive['region_id']}")
    districts = _ok(client, f"/api/v2/admin/location/districts/{drive['region_id']}")
    items = state["getBeneficiariesGroupBy"]
    assert [x["district_id"] for x in items] == [d["district_id"]
                                                 for d in districts["districts"]]
    assert items[0]["state_id"] == drive["region_id"] and items[0]["total"] == 3
    district = _ok(client, f"{COWIN}?state_id={drive['region_id']}&district_id="
                           f"{drive['province_id']}")
    assert district["topBlock"]["vaccination"]["total_doses"] == 4
    sites = {x["session_site_id"]: x for x in district["getBeneficiariesGroupBy"]}
    site = sites[drive["facility"]]
    assert (site["total"], site["totally_vaccinated"], site["today"]) == (3, 1, 1)
    assert site["session_site_name"].startswith("Centro de vacunación DEMO")
    assert _ok(client, f"{COWIN}?district_id={drive['province_id']}") == {
        **district, "reportFor": f"State :  & District: {drive['province_id']} | "
                                 f"{TODAY.isoformat()}"}


def test_the_cowin_report_of_a_past_day_counts_up_to_it(client, drive):
    day = TODAY - dt.timedelta(days=2)
    data = _ok(client, f"{COWIN}?date={day.year}-{day.month}-{day.day}")  # unpadded too
    v = data["topBlock"]["vaccination"]
    assert (v["total_doses"], v["total"], v["tot_dose_2"]) == (3, 2, 1)  # not Rosa's
    assert (v["today"], v["today_dose_one"], v["today_dose_two"]) == (2, 1, 1)
    assert data["vaccinationByAge"]["vac_12_14"] == 0
    assert data["topBlock"]["sites"] == {"total": 1, "today": 1}
    assert data["reportFor"].endswith(day.isoformat())
    before = _ok(client, f"{COWIN}?date={(TODAY - dt.timedelta(days=40)).isoformat()}")
    assert before["topBlock"]["vaccination"]["total_doses"] == 0
    assert before["topBlock"]["sites"]["total"] == 0


# --- bad input -----------------------------------------------------------------------------

LONG = "9" * 65


@pytest.mark.parametrize("query, words", [
    ("division=PE-XXX", "no division with the code PE-XXX"),
    ("facility=NOPE", "no centre with the code NOPE"),
    ("programme=nope", "no vaccination programme with the code nope"),
    (f"division={LONG}", "division must be a code"),
    ("facility=DEMO%00", "facility must be a code"),
    ("from=2026-13-01", "2026-13-01 is not a date"),
    ("to=yesterday", "yesterday is not a date"),
    ("from=2026-03-02&to=2026-03-01", "is after the end date"),
    ("from=2020-01-01&to=2026-01-01", "at most 731 days"),
    ("to=0001-01-01", "no figures before 1900"),
    ("from=1899-12-31&to=1900-01-02", "no figures before 1900"),
])
@pytest.mark.parametrize("path", ["dashboard", "summary", "daily", "areas", "products",
                                  "age-gender"])
def test_bad_parameters_are_refused_with_the_reason(client, path, query, words):
    r = client.get(f"{R}/{path}?{query}", headers=EN)
    assert r.status_code == 400, r.get_json()
    assert r.get_json()["errorCode"] == "BAD_REQUEST"
    assert words in r.get_json()["error"]
    assert r.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("query, words", [
    ("state_id=999999", "no state 999999"),
    ("state_id=abc", "state_id must be a whole number"),
    ("state_id=-1", "state_id must be a whole number"),
    ("state_id=99999999999", "state_id must be a whole number"),
    ("district_id=999999", "no district 999999"),
    ("date=2021-02-30", "2021-02-30 is not a date"),
    ("date=tomorrow", "tomorrow is not a date"),
    ("date=1850-01-01", "no figures before 1900"),
    ("programme=nope", "no vaccination programme with the code nope"),
])
def test_bad_cowin_report_parameters_are_refused(client, query, words):
    r = client.get(f"{COWIN}?{query}", headers=EN)
    assert r.status_code == 400, r.get_json()
    assert r.get_json()["errorCode"] == "BAD_REQUEST" and words in r.get_json()["error"]
    assert r.headers["Access-Control-Allow-Origin"] == "*"


def test_cowin_ids_must_be_a_state_and_one_of_its_districts(client, database, drive):
    with database.Session() as s:
        other_state = s.scalar(select(Division.id).where(
            Division.level == 1, Division.id != drive["region_id"]).limit(1))
    cases = {
        f"state_id={drive['province_id']}": f"no state {drive['province_id']}",
        f"district_id={drive['region_id']}": f"no district {drive['region_id']}",
        f"state_id={other_state}&district_id={drive['province_id']}":
            f"District {drive['province_id']} is not in state {other_state}",
        f"date={(TODAY + dt.timedelta(days=1)).isoformat()}": "no figures yet",
    }
    for query, words in cases.items():
        r = client.get(f"{COWIN}?{query}", headers=EN)
        assert r.status_code == 400 and words in r.get_json()["error"], (query, r.get_json())


def test_errors_are_in_the_readers_language(client):
    r = client.get(f"{COWIN}?state_id=999999", headers={"Accept-Language": "es"})
    assert r.status_code == 400
    assert r.get_json()["error"] == "No existe la división de primer nivel 999999."
    r = client.get(f"{R}/summary?division=PE-XXX", headers={"Accept-Language": "es"})
    assert r.get_json()["error"] == "No hay ninguna división con el código PE-XXX."
