"""The public Co-WIN v2 endpoints: shapes Co-WIN clients read, errors, caching."""
import datetime as dt
import re
import uuid

import pytest
from sqlalchemy import select

from cowin_kit.geography.models import Division
from cowin_kit.programmes.models import Product
from cowin_kit.scheduling.models import Facility, SessionCapacity, Slot, VaccinationSession

from helpers import TODAY

DAY = TODAY + dt.timedelta(days=2)


@pytest.fixture
def sessions(database):
    """Two sessions at two demo centres in Lima (PE demo data), one paid."""
    with database.session() as s:
        facilities = s.scalars(select(Facility).order_by(Facility.id).limit(2)).all()
        product = s.scalar(select(Product).where(Product.code == "comirnaty"))
        ids = []
        for i, facility in enumerate(facilities):
            if i == 1:
                facility.fee_type = "Paid"
            vs = VaccinationSession(id=str(uuid.uuid4()), facility=facility, date=DAY,
                                    product_id=product.id, min_age=18, max_age=None,
                                    fee=0 if i == 0 else 120)
            vs.capacities = [SessionCapacity(dose_number=1, capacity=50, booked=7),
                             SessionCapacity(dose_number=2, capacity=30, booked=0)]
            vs.slots = [Slot(starts=dt.time(9), ends=dt.time(11)),
                        Slot(starts=dt.time(11), ends=dt.time(13))]
            s.add(vs)
            ids.append((vs.id, facility.id, facility.postal_code, facility.division_id))
    return ids


def test_states_and_districts(client, database):
    data = client.get("/api/v2/admin/location/states").get_json()
    assert data["ttl"] == 24 and len(data["states"]) == 26
    lima = next(x for x in data["states"] if x["state_name_l"] == "Lima Metropolitana")
    assert isinstance(lima["state_id"], int)
    districts = client.get(f"/api/v2/admin/location/districts/{lima['state_id']}").get_json()
    assert [d["district_name"] for d in districts["districts"]] == ["Lima"]
    assert isinstance(districts["districts"][0]["district_id"], int)


def test_id_types_and_genders(client):
    types = client.get("/api/v2/registration/beneficiary/idTypes",
                       headers={"Accept-Language": "en"}).get_json()["types"]
    assert [t["type_l"] for t in types][0] == "National identity document (DNI)"
    assert all(isinstance(t["id"], int) for t in types)
    genders = client.get("/api/v2/registration/beneficiary/genders",
                         headers={"Accept-Language": "es"}).get_json()["genders"]
    assert [g["gender"] for g in genders] == ["Male", "Female", "Other"]
    assert genders[0]["gender_l"] == "Masculino"


def test_find_by_district_has_cowin_shapes(client, sessions, database):
    session_id, facility_id, _pin, division_id = sessions[0]
    with database.session() as s:
        district = s.get(Division, division_id)
        while district.level > 2:
            district = district.parent
        district_id = district.id
    r = client.get(f"/api/v2/appointment/sessions/public/findByDistrict?district_id={district_id}"
                   f"&date={DAY:%d-%m-%Y}")
    assert r.status_code == 200
    found = {x["session_id"]: x for x in r.get_json()["sessions"]}
    x = found[session_id]
    uuid.UUID(x["session_id"])
    assert x["center_id"] == facility_id and x["date"] == DAY.strftime("%d-%m-%Y")
    assert (x["available_capacity"], x["available_capacity_dose1"],
            x["available_capacity_dose2"]) == (73, 43, 30)
    assert x["slots"] == ["09:00AM-11:00AM", "11:00AM-01:00PM"]
    assert (x["from"], x["to"]) == ("09:00:00", "13:00:00")
    assert x["state_name"] == "Lima Metropolitana" or x["state_name"]
    assert x["district_name"] == "Lima" and x["min_age_limit"] == 18
    assert re.fullmatch(r"\d+", x["fee"]) and x["fee_type"] in ("Free", "Paid")


def test_calendar_groups_by_centre_with_fees(client, sessions, database):
    _sid, _fid, _pin, division_id = sessions[1]
    with database.session() as s:
        district = s.get(Division, division_id)
        while district.level > 2:
            district = district.parent
        district_id = district.id
    centres = client.get(f"/api/v2/appointment/sessions/public/calendarByDistrict?"
                         f"district_id={district_id}&date={TODAY:%d-%m-%Y}"
                         ).get_json()["centers"]
    paid = next(c for c in centres if c["center_id"] == sessions[1][1])
    assert paid["fee_type"] == "Paid"
    assert all(set(f) == {"vaccine", "fee"} for f in paid["vaccine_fees"])
    assert "Comirnaty (Pfizer-BioNTech)" in {f["vaccine"] for f in paid["vaccine_fees"]}
    assert sessions[1][0] in {x["session_id"] for x in paid["sessions"]}
    assert len({x["date"] for x in paid["sessions"]}) > 1  # demo sessions over the week
    free = [c for c in centres if c["fee_type"] == "Free"]
    assert all("vaccine_fees" not in c for c in free)


def test_search_by_pincode_and_location(client, sessions):
    _sid, _fid, pin, _div = sessions[0]
    if pin:
        r = client.get(f"/api/v2/appointment/sessions/public/findByPin?pincode={pin}"
                       f"&date={DAY:%d-%m-%Y}")
        assert r.status_code == 200 and r.get_json()["sessions"]
    near = client.get("/api/v2/appointment/centers/public/findByLatLong?lat=-12.12&long=-77.03"
                      ).get_json()["centers"]
    assert near and near[0]["distance_km"] <= near[-1]["distance_km"]


def test_public_search_is_cacheable(client, sessions):
    url = "/api/v2/admin/location/states"
    first = client.get(url)
    assert "max-age" in first.headers["Cache-Control"] and first.headers["ETag"]
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


@pytest.mark.parametrize("url,status,fragment", [
    ("/api/v2/appointment/sessions/public/findByPin?pincode=15001&date=2021-05-21", 400,
     "DD-MM-YYYY"),
    ("/api/v2/appointment/sessions/public/findByPin?pincode=ABC&date=21-05-2021", 400,
     "postal code"),
    ("/api/v2/appointment/sessions/public/findByDistrict?district_id=x&date=21-05-2021", 400,
     "whole number"),
    ("/api/v2/appointment/sessions/public/findByDistrict?district_id=999999&date=21-05-2021",
     404, "999999"),
    ("/api/v2/admin/location/districts/999999", 404, "999999"),
    ("/api/v2/appointment/centers/public/findByLatLong?lat=north&long=1", 400, "decimal"),
    ("/api/v2/no/such/endpoint", 404, "Not found"),
    # The public download needs the token of auth/public/confirmOTP (test_certificate_downloads).
    ("/api/v2/registration/certificate/public/download", 401, "log in again"),
])
def test_bad_requests_get_cowin_errors(client, url, status, fragment):
    r = client.get(url, headers={"Accept-Language": "en"})
    assert r.status_code == status
    body = r.get_json()
    assert set(body) == {"errorCode", "error"} and fragment in body["error"]


def test_errors_follow_accept_language(client):
    r = client.get("/api/v2/appointment/sessions/public/findByPin?pincode=15001&date=bad",
                   headers={"Accept-Language": "es"})
    assert r.status_code == 400 and "DD-MM-YYYY" in r.get_json()["error"]


def test_search_answers_are_reused_briefly_and_304s_cost_no_query(client, sessions, database,
                                                                 monkeypatch):
    from cowin_kit.scheduling import search as search_module

    _sid, _fid, _pin, division_id = sessions[0]
    with database.session() as s:
        district = s.get(Division, division_id)
        while district.level > 2:
            district = district.parent
        district_id = district.id
    url = (f"/api/v2/appointment/sessions/public/calendarByDistrict?district_id={district_id}"
           f"&date={DAY:%d-%m-%Y}")
    first = client.get(url)
    calls = []
    monkeypatch.setattr(search_module, "calendar", lambda *a, **k: calls.append(1) or [])
    second = client.get(url)
    assert second.get_data() == first.get_data() and calls == []
    assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    other_language = client.get(url, headers={"Accept-Language": "en"})  # PE's default is es
    assert calls == [1] and other_language.status_code == 200  # built once for English


def _district_of(database, division_id) -> int:
    with database.session() as s:
        district = s.get(Division, division_id)
        while district.level > 2:
            district = district.parent
        return district.id


def _calendar(client, district_id, query="", **headers):
    r = client.get(f"/api/v2/appointment/sessions/public/calendarByDistrict?"
                   f"district_id={district_id}&date={DAY:%d-%m-%Y}{query}", headers=headers)
    assert r.status_code == 200, r.get_json()
    return r.get_json()["centers"]


def _session_ids(centres) -> set:
    return {s["session_id"] for c in centres for s in c["sessions"]}


COMIRNATY = "Comirnaty (Pfizer-BioNTech)"


def test_each_search_filter_narrows_the_answer(client, sessions, database):
    """The demo week in Lima has four vaccines, min ages 5/12/18 and places for doses 1-3;
    the fixture's two sessions (Comirnaty, 18+, no dose-3 places, one at a paid centre)."""
    district_id = _district_of(database, sessions[0][3])
    ours = {sessions[0][0], sessions[1][0]}
    everything = _calendar(client, district_id)
    every_id = _session_ids(everything)
    assert ours <= every_id

    def narrowed(query, keep):
        centres = _calendar(client, district_id, query)
        found = [s for c in centres for s in c["sessions"]]
        assert all(keep(c, s) for c in centres for s in c["sessions"]), query
        assert all(c["sessions"] for c in centres), query  # emptied centres are dropped
        expected = {s["session_id"] for c in everything for s in c["sessions"] if keep(c, s)}
        assert {s["session_id"] for s in found} == expected and expected < every_id, query
        return expected

    by_code = narrowed("&vaccine=COMIRNATY", lambda c, s: s["vaccine"] == COMIRNATY)
    assert ours <= by_code
    # Any case, the name or the product's code: the same answer.
    for variant in ("comirnaty", "Comirnaty%20(Pfizer-BioNTech)", "COMIRNATY%20(PFIZER-BIONTECH)",
                    "%20comirnaty%20"):
        assert _session_ids(_calendar(client, district_id, f"&vaccine={variant}")) == by_code
    adults = narrowed("&min_age_limit=18", lambda c, s: s["min_age_limit"] == 18)
    assert ours <= adults
    assert not _calendar(client, district_id, "&min_age_limit=45")
    third = narrowed("&dose=3", lambda c, s: s["available_capacity_dose3"] > 0)
    assert not ours & third
    paid = narrowed("&fee_type=Paid", lambda c, s: c["fee_type"] == "Paid")
    assert sessions[1][0] in paid and sessions[0][0] not in paid
    assert [c["center_id"] for c in _calendar(client, district_id, "&fee_type=paid")] == [
        sessions[1][1]]
    free = narrowed("&fee_type=Free", lambda c, s: c["fee_type"] == "Free")
    assert sessions[0][0] in free and sessions[1][0] not in free
    # An empty filter filters nothing.
    assert _calendar(client, district_id, "&vaccine=&dose=&fee_type=&min_age_limit=") == everything


def test_filters_combine_on_every_search(client, sessions, database):
    (free_id, free_centre, pin, division), (paid_id, paid_centre, _pin, _div) = sessions
    district_id = _district_of(database, division)
    both = "&vaccine=comirnaty&min_age_limit=18"  # the demo's Comirnaty (12+) sessions
    assert _session_ids(_calendar(client, district_id, both)) == {free_id, paid_id}
    centres = _calendar(client, district_id, both + "&fee_type=Paid")
    assert [(c["center_id"], _session_ids([c])) for c in centres] == [(paid_centre, {paid_id})]
    assert [f["vaccine"] for f in centres[0]["vaccine_fees"]] == [COMIRNATY]
    assert _session_ids(_calendar(client, district_id, both + "&dose=1")) == {free_id, paid_id}
    assert not _calendar(client, district_id, both + "&dose=3")
    base = "/api/v2/appointment/sessions/public"
    flat = client.get(f"{base}/findByDistrict?district_id={district_id}&date={DAY:%d-%m-%Y}"
                      f"{both}&fee_type=Free").get_json()["sessions"]
    assert free_id in {s["session_id"] for s in flat} and paid_id not in {
        s["session_id"] for s in flat}
    assert all(s["vaccine"] == COMIRNATY and s["min_age_limit"] == 18 and s["fee_type"] == "Free"
               and s["available_capacity_dose1"] > 0 for s in flat)
    if pin:
        by_pin = client.get(f"{base}/findByPin?pincode={pin}&date={DAY:%d-%m-%Y}"
                            "&vaccine=COMIRNATY&dose=3").get_json()["sessions"]
        assert free_id not in {s["session_id"] for s in by_pin}
        calendar = client.get(f"{base}/calendarByPin?pincode={pin}&date={DAY:%d-%m-%Y}"
                              f"{both}").get_json()["centers"]
        assert free_id in _session_ids(calendar)
        assert all(s["vaccine"] == COMIRNATY for s in calendar[0]["sessions"])


def test_the_logged_in_twins_filter_too(client, sessions, database, cowin_kit_instance):
    from helpers import api_login

    auth = api_login(client, cowin_kit_instance, "987654321")
    district_id = _district_of(database, sessions[0][3])
    url = (f"/api/v2/appointment/sessions/calendarByDistrict?district_id={district_id}"
           f"&date={DAY:%d-%m-%Y}")
    centres = client.get(url + "&fee_type=Paid&vaccine=COMIRNATY&min_age_limit=18",
                         headers=auth).get_json()["centers"]
    assert _session_ids(centres) == {sessions[1][0]}
    r = client.get(url + "&dose=none", headers=auth)
    assert r.status_code == 400 and "dose must be a whole number" in r.get_json()["error"]


@pytest.mark.parametrize("query,fragment", [
    ("&min_age_limit=eighteen", "min_age_limit must be a whole number."),
    ("&min_age_limit=-18", "min_age_limit must be a whole number."),
    ("&dose=x", "dose must be a whole number."),
    ("&dose=0", "The dose must be 1 or more."),
    ("&fee_type=cheap", "fee_type must be one of: Free, Paid."),
    ("&vaccine=COVAXIN", "vaccine must be one of: bbibp-corv, comirnaty, "),
])
@pytest.mark.parametrize("path", ["findByPin?pincode=15001", "calendarByPin?pincode=15001",
                                  "findByDistrict?district_id=", "calendarByDistrict?district_id="])
def test_bad_filters_are_400(client, database, path, query, fragment):
    if path.endswith("="):
        with database.session() as s:
            path += str(s.scalar(select(Division.id).where(Division.level == 2)))
    url = f"/api/v2/appointment/sessions/public/{path}&date=21-05-2021{query}"
    for _ in range(2):  # a refused query leaves nothing in the cache
        r = client.get(url, headers={"Accept-Language": "en"})
        assert r.status_code == 400
        assert r.get_json()["errorCode"] == "BAD_REQUEST"
        assert r.get_json()["error"].startswith(fragment)


def test_a_filtered_answer_is_never_served_for_another_query(app, client, sessions, database,
                                                             monkeypatch):
    from cowin_kit.scheduling import search as search_module

    district_id = _district_of(database, sessions[0][3])
    paid_only = "&fee_type=Paid&vaccine=comirnaty&min_age_limit=18"
    filtered_first = _calendar(client, district_id, paid_only)
    unfiltered = _calendar(client, district_id)
    assert _session_ids(filtered_first) == {sessions[1][0]}
    assert len(unfiltered) > 1 and _session_ids(unfiltered) > _session_ids(filtered_first)
    # Both answers are cached now (and the unfiltered one is in FastAnswers too): each query
    # keeps getting its own, without the database.
    calls = []
    monkeypatch.setattr(search_module, "calendar", lambda *a, **k: calls.append(1) or [])
    for _ in range(2):
        assert _calendar(client, district_id) == unfiltered
        assert _calendar(client, district_id, paid_only) == filtered_first
        assert _calendar(client, district_id, "&fee_type=PAID&vaccine=COMIRNATY&min_age_limit=18"
                         ) == filtered_first
    assert calls == []
    # Another filter is another answer (built now, from the patched, empty calendar).
    assert _calendar(client, district_id, "&fee_type=Free") == [] and calls == [1]
    fast = app.wsgi_app.wsgi_app  # FastAnswers, under the requests' metrics middleware
    assert [key[1] for key in fast._answers] == [
        f"district_id={district_id}&date={DAY:%d-%m-%Y}"]  # filtered ones go through Flask
    entries = app.extensions["cowin_kit.answers"]._entries
    assert len(entries) == 3  # unfiltered, the paid Comirnaty one (in any case), Free


NEAR = "/api/v2/appointment/centers/public/findByLatLong"


def test_find_by_lat_long_is_cached_per_point_to_3_decimals(app, client, database,
                                                            monkeypatch):
    """Cached as the session searches are (public.cached_search): one answer per point to
    3 decimals and language, for ANSWER_TTL_SECONDS. Nothing empties the cache when a
    centre, a session or a booking changes, for any of the searches: a change shows once
    the answer has expired."""
    from cowin_kit.api import public

    built = []
    real = public.search.centres_near
    monkeypatch.setattr(public.search, "centres_near",
                        lambda *a, **k: built.append(a[2:4]) or real(*a, **k))
    url = f"{NEAR}?lat=-12.12&long=-77.03"
    first = client.get(url)
    assert first.status_code == 200 and first.get_json()["centers"]
    assert built == [(-12.12, -77.03)]
    # 30 m away is the same point to 3 decimals: the same answer, without the database.
    close_by = client.get(f"{NEAR}?lat=-12.1203&long=-77.0298")
    assert close_by.get_data() == first.get_data() and len(built) == 1
    # The same query again is answered before Flask, as the other searches are.
    flask_answers = []
    real_cached = public.cached_search
    monkeypatch.setattr(public, "cached_search",
                        lambda *a: flask_answers.append(1) or real_cached(*a))
    again = client.get(url)
    assert again.get_data() == first.get_data() and flask_answers == [] and len(built) == 1
    # 220 m away is another point, looked up from its rounded place.
    assert client.get(f"{NEAR}?lat=-12.1222&long=-77.03").status_code == 200
    assert built[1:] == [(-12.122, -77.03)]

    # A centre opens where the person stands: the cached answer stands until it expires.
    with database.session() as s:
        division_id = s.scalars(select(Facility.division_id).order_by(Facility.id)).first()
        new = Facility(code="NEAR-NEW", name="Posta Nueva", address="", postal_code="15001",
                       division_id=division_id, latitude=-12.12, longitude=-77.03,
                       fee_type="Free")
        s.add(new)
        s.commit()
        new_id = new.id
    assert client.get(url).get_data() == first.get_data()
    later = public.time.monotonic() + public.ANSWER_TTL_SECONDS + 1
    monkeypatch.setattr(public.time, "monotonic", lambda: later)
    fresh = client.get(url).get_json()["centers"]
    assert fresh[0]["center_id"] == new_id and fresh[0]["distance_km"] == 0
    assert len(built) == 3
