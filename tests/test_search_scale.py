"""Search at a country's size (issue 15, item 4): down to the profile's lowest division, by
distance, a page of centres at a time in the portal, and one statement per search."""
import datetime as dt
import re

import pytest
from sqlalchemy import event, select

from cowin_kit.geography.models import Division
from cowin_kit.programmes.models import Product
from cowin_kit.scheduling import nearby, search
from cowin_kit.scheduling.models import Facility, VaccinationSession
from cowin_kit.scheduling.sessions import create_session

DAY = dt.date.today() + dt.timedelta(days=3)
API = "/api/v2/appointment"
MIRAFLORES, SURCO = "150122", "150140"


def _division(database, code) -> int:
    with database.session() as s:
        return s.scalar(select(Division.id).where(Division.code == code))


@pytest.fixture
def many(database):
    """45 more centres in Lima (province 1501), in two of its distritos (30 in Miraflores, 15
    in Surco), each with a session on DAY and the next day; coordinates a few hundred metres
    apart, south of the demo's Cercado centre."""
    with database.session() as s:
        product = s.scalar(select(Product).where(Product.code == "comirnaty"))
        blocks = {c: s.scalar(select(Division).where(Division.code == c))
                  for c in (MIRAFLORES, SURCO)}
        for i in range(45):
            block = blocks[MIRAFLORES if i < 30 else SURCO]
            centre = Facility(code=f"MANY-{i:03d}", name=f"Centro {i:03d}", address=f"Calle {i}",
                              division_id=block.id, postal_code="15074",
                              latitude=-12.13 - i * 0.003, longitude=-77.03, fee_type="Free")
            s.add(centre)
            s.flush()
            for day in (DAY, DAY + dt.timedelta(days=1)):
                create_session(s, centre, day, product, 18, None, {1: 30, 2: 10},
                               [(dt.time(9), dt.time(11)), (dt.time(11), dt.time(13))])
        s.commit()
    return {"lima": _division(database, "1501"), "miraflores": blocks[MIRAFLORES].id,
            "surco": blocks[SURCO].id}


# --- the API: blocks ------------------------------------------------------------------------

def test_the_blocks_of_a_district_narrow_its_searches(client, many):
    blocks = client.get(f"/api/v2/admin/location/blocks/{many['lima']}").get_json()
    assert blocks["ttl"] and {"block_id": many["miraflores"], "block_name": "Miraflores",
                              "block_name_l": "Miraflores"} in blocks["blocks"]
    assert len(blocks["blocks"]) == 43  # Lima's distritos in the demo geography
    when = f"date={DAY:%d-%m-%Y}"
    whole = client.get(f"{API}/sessions/public/calendarByDistrict?district_id={many['lima']}"
                       f"&{when}").get_json()["centers"]
    narrowed = client.get(f"{API}/sessions/public/calendarByDistrict?district_id="
                          f"{many['lima']}&block_id={many['miraflores']}&{when}").get_json()
    assert {c["block_name"] for c in narrowed["centers"]} == {"Miraflores"}
    assert len(narrowed["centers"]) >= 30 and len(whole) >= 45 + len(narrowed["centers"]) - 30
    assert set(narrowed["centers"][0]) == set(whole[0])  # the same fields, the same shape
    flat = client.get(f"{API}/sessions/public/findByDistrict?district_id={many['lima']}"
                      f"&block_id={many['surco']}&{when}").get_json()["sessions"]
    assert flat and {s["block_name"] for s in flat} == {"Santiago de Surco"}


@pytest.mark.parametrize("query,fragment", [
    ("district_id={lima}&block_id=999999", "no block 999999 in district"),
    ("district_id={lima}&block_id={callao_block}", "no block"),  # another district's
    ("district_id=999999&block_id={miraflores}", "no district 999999"),
])
def test_a_block_not_in_the_district_is_404(client, database, many, query, fragment):
    ids = dict(many, callao_block=_division(database, "070101"))
    for path in ("calendarByDistrict", "findByDistrict"):
        r = client.get(f"{API}/sessions/public/{path}?{query.format(**ids)}"
                       f"&date={DAY:%d-%m-%Y}", headers={"Accept-Language": "en"})
        assert r.status_code == 404 and fragment in r.get_json()["error"]


def test_blocks_of_no_district_are_404(client, database):
    for ident in (999999, _division(database, "PE-LMA"), _division(database, MIRAFLORES)):
        r = client.get(f"/api/v2/admin/location/blocks/{ident}")
        assert r.status_code == 404 and str(ident) in r.get_json()["error"]
    assert client.get("/api/v2/admin/location/blocks/x").status_code in (400, 404)
    r = client.get(f"{API}/sessions/public/calendarByDistrict?district_id=1&block_id=x"
                   f"&date={DAY:%d-%m-%Y}", headers={"Accept-Language": "en"})
    assert r.status_code == 400 and "block_id" in r.get_json()["error"]


# --- one statement, the same fields -----------------------------------------------------------

def _statements(database, fn) -> int:
    seen = []

    def count(*_args):
        seen.append(1)
    event.listen(database.engine, "before_cursor_execute", count)
    try:
        fn()
    finally:
        event.remove(database.engine, "before_cursor_execute", count)
    return len(seen)


def test_a_calendar_costs_the_same_statements_for_2_or_47_centres(database, many):
    cusco = _division(database, "0801")  # demo centres only
    with database.Session() as s:
        small = _statements(database, lambda: search.calendar(s, "es", DAY, district_id=cusco))
        s.expire_all()
        big = search.calendar(s, "es", DAY, district_id=many["lima"])
        s.expire_all()
        large = _statements(database, lambda: search.calendar(
            s, "es", DAY, district_id=many["lima"]))
    assert len(big) >= 45 and large == small <= 6


def test_the_calendar_sends_what_the_orm_fields_say(database, many):
    with database.Session() as s:
        vs = s.scalar(select(VaccinationSession).join(Facility)
                      .where(Facility.code == "MANY-007", VaccinationSession.date == DAY))
        vs.capacities[0].booked = 4
        s.commit()
        found = search.calendar(s, "en", DAY, district_id=many["miraflores"])
        entry = next(c for c in found if c["center_id"] == vs.facility_id)
        product = s.get(Product, vs.product_id)
        expected = search.session_fields(vs, product)
        assert entry["sessions"][0] == expected and expected["available_capacity_dose1"] == 26
        assert {k: v for k, v in entry.items() if k not in ("sessions", "from", "to")} == \
            search.centre_fields(vs.facility, "en")
        assert (entry["from"], entry["to"]) == ("09:00:00", "13:00:00")
        assert expected["slots"] == ["09:00AM-11:00AM", "11:00AM-01:00PM"]


# --- by distance ---------------------------------------------------------------------------

def test_find_by_lat_long_is_nearest_first_limited_and_within_reach(client, database, many):
    with database.session() as s:
        far = Facility(code="FAR-1", name="Lejos", address="", postal_code="08002",
                       division_id=_division(database, "080101"), latitude=-13.0,
                       longitude=-74.0, fee_type="Free")  # some 340 km from Lima
        s.add(far)
        s.commit()
        far_id = far.id
    near = client.get(f"{API}/centers/public/findByLatLong?lat=-12.13&long=-77.03").get_json()
    km = [c["distance_km"] for c in near["centers"]]
    assert len(km) == 20 and km == sorted(km) and km[0] < 0.1
    assert near["centers"][0]["center_id"] == _facility_id(database, "MANY-000")
    assert far_id not in {c["center_id"] for c in near["centers"]}
    alone = client.get(f"{API}/centers/public/findByLatLong?lat=-13.01&long=-74.0").get_json()
    assert [c["center_id"] for c in alone["centers"]] == [far_id]  # nothing else in 200 km
    assert alone["centers"][0]["distance_km"] == pytest.approx(1.11, abs=0.01)
    nobody = client.get(f"{API}/centers/public/findByLatLong?lat=0&long=0").get_json()
    assert nobody["centers"] == []


def _facility_id(database, code) -> int:
    with database.session() as s:
        return s.scalar(select(Facility.id).where(Facility.code == code))


@pytest.mark.parametrize("query,fragment", [
    ("lat=95&long=-77", "lat"), ("lat=-12&long=181", "long"), ("lat=north&long=1", "lat"),
    ("lat=nan&long=1", "lat"), ("lat=1&long=inf", "long"), ("lat=-12", "long"),
    ("long=-77", "lat"), ("lat=&long=", "lat"),
])
def test_find_by_lat_long_refuses_what_is_no_place(client, query, fragment):
    r = client.get(f"{API}/centers/public/findByLatLong?{query}",
                   headers={"Accept-Language": "en"})
    body = r.get_json()
    assert r.status_code == 400 and body["errorCode"] and fragment in body["error"]


def test_centres_across_the_180th_meridian_are_near(database):
    with database.session() as s:
        s.add_all([Facility(code=f"FJ-{i}", name=f"Fiji {i}", address="", fee_type="Free",
                            division_id=_division(database, "1501"), latitude=-16.5,
                            longitude=lon) for i, lon in enumerate((179.95, -179.98, 178.0))])
        s.commit()
        found = nearby.nearest_centres(s, -16.5, -179.99, limit=5, radius_km=50)
    assert [round(km, 1) for _id, km in found] == [1.1, 6.4]


# --- the portal ------------------------------------------------------------------------------

def _cards(page: str) -> int:
    return page.count('<article class="card centre">')


def test_portal_results_come_a_page_at_a_time(client, database, many):
    url = f"/portal/search?by=district&district={many['lima']}&date={DAY.isoformat()}"
    first = client.get(url + "&lang=en")
    page = first.get_data(as_text=True)
    total = int(re.search(r"(\d+) centres with sessions", page).group(1))
    assert total >= 47 and _cards(page) == 20
    assert 'rel="next"' in page and 'rel="prev"' not in page
    assert f"Page 1 of {-(-total // 20)}" in page and 'aria-label="Pages"' in page
    assert len(first.get_data()) < 60_000  # a page a phone loads on 3G in about a second
    last = client.get(url + f"&page={-(-total // 20)}").get_data(as_text=True)
    assert _cards(last) == total - 20 * (-(-total // 20) - 1) and 'rel="next"' not in last
    seen = set()
    for n in range(1, -(-total // 20) + 1):
        seen |= set(re.findall(r"<h3><bdi>([^<]+)</bdi>", client.get(f"{url}&page={n}")
                               .get_data(as_text=True)))
    assert len(seen) == total  # every centre once
    beyond = client.get(url + "&page=99")
    assert beyond.status_code == 404
    assert "There is no page 99 of these results" in beyond.get_data(as_text=True)
    assert 'rel="prev"' in beyond.get_data(as_text=True)  # a way back
    for junk in ("0", "-1", "abc", "1e3", "9" * 30):
        r = client.get(url + f"&page={junk}")
        assert r.status_code == 400 and "There is no page" in r.get_data(as_text=True), junk


def test_portal_searches_down_to_the_lowest_division(client, database, many):
    lma = _division(database, "PE-LMA")
    page = client.get(f"/portal/search?state={lma}&district={many['lima']}&lang=en"
                      ).get_data(as_text=True)
    assert '<select id="block" name="block"' in page
    assert f'<option value="{many["miraflores"]}"' in page
    narrowed = client.get(f"/portal/search?state={lma}&district={many['lima']}"
                          f"&block={many['surco']}&date={DAY.isoformat()}&lang=en")
    text = narrowed.get_data(as_text=True)
    assert narrowed.status_code == 200 and "Santiago de Surco" in text
    assert re.search(r"(\d+) centres with sessions", text).group(1) in {"15", "16"}
    # The block alone (a bookmark) names its district and state; one left from another
    # district (the lists changed without a script) is dropped.
    alone = client.get(f"/portal/search?block={many['surco']}&date={DAY.isoformat()}&lang=en")
    assert alone.status_code == 200 and f'<option value="{lma}" selected' in \
        alone.get_data(as_text=True)
    callao = _division(database, "0701")
    moved = client.get(f"/portal/search?state={_division(database, 'PE-CAL')}"
                       f"&district={callao}&block={many['surco']}&lang=en")
    assert moved.status_code == 200
    assert f'<option value="{many["surco"]}" selected' not in moved.get_data(as_text=True)
    assert f'<option value="{callao}" selected' in moved.get_data(as_text=True)
    assert client.get("/portal/search?by=district&block=999999").status_code == 400


def test_portal_near_a_place_lists_the_nearest_first(client, many):
    r = client.get(f"/portal/search?by=near&lat=-12.13&long=-77.03&date={DAY.isoformat()}"
                   "&lang=en")
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "Nearest first, within 50 km" in page
    assert re.findall(r"<h3><bdi>([^<]+)</bdi>", page)[0] == "Centro 000"
    km = [float(x) for x in re.findall(r"([0-9.]+) km away", page)]
    assert km[0] == 0 and km == sorted(km) and _cards(page) == 20 == len(km)
    nobody = client.get("/portal/search?by=near&lat=0&long=0&lang=en").get_data(as_text=True)
    assert "No centre within 50 km" in nobody
    for bad in ("lat=95&long=1", "lat=abc&long=1", "lat=1", "lat=1&long=-181"):
        r = client.get(f"/portal/search?by=near&{bad}&lang=en")
        assert r.status_code == 400 and "decimal degrees" in r.get_data(as_text=True), bad
