"""The public Co-WIN v2 endpoints: shapes Co-WIN clients read, errors, caching."""
import datetime as dt
import re
import uuid

import pytest
from sqlalchemy import select

from cowin_kit.geography.models import Division
from cowin_kit.programmes.models import Product
from cowin_kit.scheduling.models import Facility, SessionCapacity, Slot, VaccinationSession

DAY = dt.date.today() + dt.timedelta(days=2)


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
                         f"district_id={district_id}&date={dt.date.today():%d-%m-%Y}"
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
    ("/api/v2/registration/certificate/public/download", 404, "not issued"),
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
