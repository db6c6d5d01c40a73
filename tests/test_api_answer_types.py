"""Every answer of the Co-WIN endpoints, field by field, in the types Co-WIN sent (issue 14,
items 5, 6 and 9), in four countries: PE and IN (numeric postal codes; PE's Callao codes
start with 0), CA (postal codes with letters) and AE (no postal codes at all).

Each answer is checked twice: by the spec's own models (``cowin_api.models``, what a client
generated from Co-WIN's OpenAPI v2.1.0 parses) and by a strict typed decoder that reads JSON
the way a Go struct or a TypeScript interface written against Co-WIN's real answers does (an
``int`` is a JSON integer, never 1.0 nor "1"; pincode an ``int`` where codes are digits).
"""
from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from urllib.parse import quote

import cowin_client
import pytest
from sqlalchemy import select

from cowin_kit.geography.models import Division
from cowin_kit.profiles import load_profile
from cowin_kit.programmes.models import Product, Programme
from cowin_kit.scheduling.models import Facility
from cowin_kit.scheduling.sessions import create_session

from helpers import TODAY, api_login

cowin_client.load()
from cowin_api import models  # noqa: E402
from pydantic import parse_obj_as  # noqa: E402

DAY = TODAY + dt.timedelta(days=20)  # past the demo sessions' week
PROFILES = Path(__file__).resolve().parent.parent / "country_profiles"

# Per country: a mobile number, the centre the answers are about (a demo centre's code, or
# a new one's postal code, None for none) and how pincode is typed.
COUNTRIES = {
    "PE": {"mobile": "987654321", "centre": "DEMO-PE-0011", "pin": int},  # Callao: 07001
    "IN": {"mobile": "9876543210", "centre": "DEMO-IN-0002", "pin": int},  # paid: fees
    # Canada counts ages from the date of birth (its children's vaccines start at 6 months).
    "CA": {"mobile": "6135550123", "new_centre": "K1A 0B1", "pin": str,
           "birth_date": "15-06-1980"},
    "AE": {"mobile": "501234567", "new_centre": None, "pin": int},
}

# --- the strict typed decoder --------------------------------------------------------------
INT, NUMBER, TEXT, BOOL = "int", "number", "string", "bool"
NULLABLE_NUMBER = "number or null"  # lat/long: a Go float64 takes null as 0


def _enum(*values):
    return ("enum", values)


def _pattern(regex):
    return ("pattern", regex)


DATE = _pattern(r"\d{2}-\d{2}-\d{4}")
UUID_TEXT = _pattern(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
CENTRE = {"center_id": INT, "name": TEXT, "name_l": TEXT, "address": TEXT, "address_l": TEXT,
          "state_name": TEXT, "state_name_l": TEXT, "district_name": TEXT,
          "district_name_l": TEXT, "block_name": TEXT, "block_name_l": TEXT,
          "pincode": "PIN", "lat": NULLABLE_NUMBER, "long": NULLABLE_NUMBER,
          "from": TEXT, "to": TEXT, "fee_type": _enum("Free", "Paid")}
SESSION = {"session_id": UUID_TEXT, "date": DATE, "available_capacity": INT,
           "available_capacity_dose1": INT, "available_capacity_dose2": INT,
           "min_age_limit": INT, "vaccine": TEXT, "fee": _pattern(r"\d+(\.\d\d)?"),
           "slots": [TEXT], "walkin_ind": _enum("Y", "N"), "allow_all_age": BOOL}
CALENDAR_CENTRE = {**CENTRE, "sessions": [SESSION]}
NEARBY = {k: CENTRE[k] for k in ("center_id", "name", "name_l", "state_name", "state_name_l",
                                  "district_name", "district_name_l", "block_name",
                                  "block_name_l", "pincode", "lat", "long")} | {
    "location": TEXT, "distance_km": NUMBER}
APPOINTMENT = {k: CENTRE[k] for k in ("center_id", "name", "name_l", "state_name",
                                      "state_name_l", "district_name", "district_name_l",
                                      "block_name", "block_name_l", "pincode", "from", "to",
                                      "fee_type")} | {
    "dose": INT, "appointment_id": UUID_TEXT, "session_id": UUID_TEXT, "date": DATE,
    "slot": TEXT, "secret_code": TEXT}
BENEFICIARY = {"beneficiary_reference_id": TEXT, "name": TEXT, "birth_year": _pattern(r"\d{4}"),
               "gender": TEXT, "mobile_number": _pattern(r"\d{4}"), "photo_id_type": TEXT,
               "photo_id_number": TEXT, "comorbidity_ind": _enum("Y", "N"),
               "vaccination_status": _enum("Not Vaccinated", "Partially Vaccinated",
                                           "Vaccinated"),
               "vaccine": TEXT, "dose1_date": TEXT, "dose2_date": TEXT,
               "appointments": [APPOINTMENT]}
ANSWERS = {
    "states": {"states": [{"state_id": INT, "state_name": TEXT, "state_name_l": TEXT}],
               "ttl": INT},
    "districts": {"districts": [{"district_id": INT, "district_name": TEXT,
                                 "district_name_l": TEXT}], "ttl": INT},
    "idTypes": {"types": [{"id": INT, "type": TEXT, "type_l": TEXT}]},
    "genders": {"genders": [{"id": INT, "gender": TEXT, "gender_l": TEXT}]},
    "find": {"sessions": [CENTRE | SESSION]},
    "calendar": {"centers": [CALENDAR_CENTRE]},
    "near": {"centers": [NEARBY], "ttl": INT},
    "new": {"beneficiary_reference_id": TEXT},
    "beneficiaries": {"beneficiaries": [BENEFICIARY]},
    "schedule": {"appointment_confirmation_no": UUID_TEXT},
}


def typed_decode(value, spec, pin_type, path="$"):
    """The problems a typed client would have decoding ``value`` (parsed JSON) into
    ``spec``: every field of a struct present, each of its declared JSON type."""
    if spec == "PIN":
        spec = INT if pin_type is int else TEXT
    problems = []
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            return [f"{path}: an object expected, got {value!r}"]
        for name, sub in spec.items():
            if name not in value:
                problems.append(f"{path}.{name}: missing")
            else:
                problems += typed_decode(value[name], sub, pin_type, f"{path}.{name}")
    elif isinstance(spec, list):
        if not isinstance(value, list):
            return [f"{path}: an array expected, got {value!r}"]
        for i, item in enumerate(value):
            problems += typed_decode(item, spec[0], pin_type, f"{path}[{i}]")
    elif spec == INT:
        if type(value) is not int:
            problems.append(f"{path}: an integer expected, got {value!r}")
    elif spec in (NUMBER, NULLABLE_NUMBER):
        if not (type(value) in (int, float) or (value is None and spec == NULLABLE_NUMBER)):
            problems.append(f"{path}: a number expected, got {value!r}")
    elif spec == TEXT:
        if type(value) is not str:
            problems.append(f"{path}: a string expected, got {value!r}")
    elif spec == BOOL:
        if type(value) is not bool:
            problems.append(f"{path}: a boolean expected, got {value!r}")
    elif spec[0] == "enum":
        if value not in spec[1]:
            problems.append(f"{path}: one of {spec[1]} expected, got {value!r}")
    elif spec[0] == "pattern":
        if type(value) is not str or not re.fullmatch(spec[1], value):
            problems.append(f"{path}: a string like {spec[1]} expected, got {value!r}")
    return problems


# --- the spec's models ---------------------------------------------------------------------

class NearbyCentre(models.CenterResponseSchema):
    """findByLatLong: the spec gives it no model (the client takes Any); its centres are
    CenterResponseSchema's without the session hours and fee type, which it never had."""
    from_: str | None = None
    to: str | None = None
    fee_type: str | None = None


class Beneficiary(models.BenefeiciaryResponseSchema):
    """The spec's model, whose ``vaccine`` enum lists India's two products: the kit sends the
    product's name, and "" before a first dose, as Co-WIN's server did."""
    vaccine: str | None = None


def _resolve_forward_refs():
    """The published models name each other in quotes and never resolve the names (a nested
    model, like InlineResponse2002's states, cannot parse until they are): resolved here,
    with the models module's own names."""
    from pydantic import BaseModel

    names = {**vars(models), "NearbyCentre": NearbyCentre, "Beneficiary": Beneficiary}
    for model in names.values():
        if isinstance(model, type) and issubclass(model, BaseModel) and model is not BaseModel:
            model.update_forward_refs(**names)


_resolve_forward_refs()

SPEC_MODELS = {
    "states": models.InlineResponse2002, "districts": models.InlineResponse2003,
    "idTypes": models.InlineResponse2005, "genders": models.InlineResponse2006,
    "new": models.InlineResponse2007,
    "find": lambda a: parse_obj_as(list[models.SessionResponseSchema], a["sessions"]),
    "calendar": lambda a: parse_obj_as(list[models.SessionCalendarEntrySchema], a["centers"]),
    "near": lambda a: parse_obj_as(list[NearbyCentre], a["centers"]),
    "beneficiaries": lambda a: parse_obj_as(list[Beneficiary], a["beneficiaries"]),
    "schedule": lambda a: a,  # the spec's client takes Any
}


def check(kind, response, pin_type):
    """The answer, once both decoders took it."""
    assert response.status_code == 200, response.get_data(as_text=True)
    answer = json.loads(response.get_data(as_text=True))
    problems = typed_decode(answer, ANSWERS[kind], pin_type)
    assert not problems, problems
    model = SPEC_MODELS[kind]
    model.parse_obj(answer) if hasattr(model, "parse_obj") else model(answer)
    return answer


# --- the deployment ------------------------------------------------------------------------

@pytest.fixture(params=sorted(COUNTRIES))
def cowin_kit_country(request):
    return request.param


@pytest.fixture
def country(cowin_kit_country, database):
    """The country's settings, with the id of the centre the answers are about, where a
    session for adults opens on DAY (a new centre in the first state where there are no demo
    centres)."""
    c = dict(COUNTRIES[cowin_kit_country], code=cowin_kit_country)
    with database.Session() as s:
        if "centre" in c:
            centre = s.scalar(select(Facility).where(Facility.code == c["centre"]))
        else:
            state = s.scalar(select(Division).where(Division.level == 1).order_by(Division.id))
            centre = Facility(code="TYPES-1", name="Centre of types", address="1 Main St",
                              division_id=state.id, postal_code=c["new_centre"],
                              latitude=24.4, longitude=54.4, fee_type="Free")
            s.add(centre)
            s.flush()
        programme = s.scalar(select(Programme).order_by(Programme.id))
        product = s.scalar(select(Product).where(Product.programme_id == programme.id)
                           .order_by(Product.id))
        vs = create_session(s, centre, DAY, product, 18, None, {1: 20, 2: 5},
                            [(dt.time(9), dt.time(11)), (dt.time(11), dt.time(13))],
                            fee=250 if centre.fee_type == "Paid" else 0)
        s.commit()
        c.update(centre_id=centre.id, postal_code=centre.postal_code,
                 division_id=centre.division_id, session_id=vs.id,
                 lat=centre.latitude, long=centre.longitude)
    return c


def _passport_type(client) -> int:
    types = client.get("/api/v2/registration/beneficiary/idTypes").get_json()["types"]
    return next(t["id"] for t in types if t["code"] == "passport")


def test_every_answer_has_cowin_types(client, cowin_kit_instance, country):
    pin_type, base = country["pin"], "/api/v2/appointment/sessions/public"
    states = check("states", client.get("/api/v2/admin/location/states"), pin_type)
    for state in states["states"][:3]:
        check("districts", client.get(f"/api/v2/admin/location/districts/{state['state_id']}"),
              pin_type)
    check("idTypes", client.get("/api/v2/registration/beneficiary/idTypes"), pin_type)
    check("genders", client.get("/api/v2/registration/beneficiary/genders"), pin_type)

    when = f"date={DAY:%d-%m-%Y}"
    by_district = check("find", client.get(
        f"{base}/findByDistrict?district_id={country['division_id']}&{when}"), pin_type)
    mine = next(s for s in by_district["sessions"] if s["session_id"] == country["session_id"])
    assert mine["center_id"] == country["centre_id"]
    check("calendar", client.get(
        f"{base}/calendarByDistrict?district_id={country['division_id']}&{when}"), pin_type)
    near = check("near", client.get(f"/api/v2/appointment/centers/public/findByLatLong?"
                                    f"lat={country['lat']}&long={country['long']}"), pin_type)
    assert near["centers"][0]["center_id"] == country["centre_id"]

    # The pincode an answer carries finds its centre again (7001 for Callao's 07001).
    pin = mine["pincode"]
    if country["postal_code"] is None:
        assert pin == 0  # AE: no postal codes; the search by pincode says so, naming it
        r = client.get(f"{base}/findByPin?pincode={pin}&{when}",
                       headers={"Accept-Language": "en"})
        assert r.status_code == 400 and "postal codes" in r.get_json()["error"]
    else:
        assert pin == pin_type(country["postal_code"])
        for path, kind, key in (("findByPin", "find", "sessions"),
                                ("calendarByPin", "calendar", "centers")):
            found = check(kind, client.get(f"{base}/{path}?pincode={quote(str(pin))}&{when}"),
                          pin_type)
            assert country["centre_id"] in {x["center_id"] for x in found[key]}
            assert all(x["pincode"] == pin for x in found[key])
    if country["code"] == "IN":  # a paid centre: its fees, as strings
        calendar = client.get(f"{base}/calendarByPin?pincode={pin}&{when}").get_json()
        fees = calendar["centers"][0]["vaccine_fees"]
        assert fees and all(re.fullmatch(r"\d+(\.\d\d)?", f["fee"]) for f in fees)

    auth = api_login(client, cowin_kit_instance, country["mobile"])
    refs = []
    for number, ill in (("K1234567", "Y"), ("K7654321", "N")):
        new = check("new", client.post("/api/v2/registration/beneficiary/new", headers=auth, json={
            "name": "Ana Quispe", "birth_year": "1980", "gender_id": 2,
            "photo_id_type": _passport_type(client), "photo_id_number": number,
            "comorbidity_ind": ill, "consent_version": "1",
            **({"birth_date": country["birth_date"]} if "birth_date" in country else {})}),
            pin_type)
        refs.append(new["beneficiary_reference_id"])
    check("schedule", client.post("/api/v2/appointment/schedule", headers=auth, json={
        "dose": 1, "session_id": country["session_id"], "slot": mine["slots"][0],
        "beneficiaries": refs[:1]}), pin_type)
    family = check("beneficiaries", client.get("/api/v2/appointment/beneficiaries",
                                               headers=auth), pin_type)["beneficiaries"]
    assert [(b["beneficiary_reference_id"], b["comorbidity_ind"], len(b["appointments"]))
            for b in family] == [(refs[0], "Y", 1), (refs[1], "N", 0)]
    [appointment] = family[0]["appointments"]
    assert appointment["pincode"] == pin and appointment["fee_type"] == mine["fee_type"]
    assert appointment["center_id"] == country["centre_id"]


def _centre_names(answer_centre) -> dict:
    return {k: answer_centre[k] for k in ("name_l", "state_name_l", "district_name_l")}


@pytest.mark.parametrize("cowin_kit_country", ["IN"])
def test_localised_fields_follow_accept_language(client, cowin_kit_instance, country):
    """Hindi and English: the searches (cached per language, in Flask and before it) and the
    appointments in beneficiaries give each language its own *_l names."""
    base = "/api/v2/appointment/sessions/public"
    url = f"{base}/calendarByPin?pincode=110017&date={DAY:%d-%m-%Y}"
    seen = {}
    for _round in range(2):  # the second round comes from the caches
        for lang in ("en", "hi", "en"):
            r = client.get(url, headers={"Accept-Language": lang})
            centre = next(c for c in r.get_json()["centers"]
                          if c["center_id"] == country["centre_id"])
            names = _centre_names(centre)
            assert seen.setdefault(lang, names) == names
    assert seen["en"]["name_l"] == "DEMO Vaccination Centre — Saket Private Hospital"
    assert seen["hi"]["name_l"] == "डेमो टीकाकरण केंद्र — साकेत निजी अस्पताल"
    assert seen["hi"]["state_name_l"] != seen["en"]["state_name_l"]  # दिल्ली, Delhi
    # The plain fields do not change with the language.
    plain = {lang: client.get(url, headers={"Accept-Language": lang}).get_json()["centers"][0]
             ["name"] for lang in ("en", "hi")}
    assert plain["en"] == plain["hi"]

    states = {lang: {x["state_name"]: x["state_name_l"] for x in client.get(
        "/api/v2/admin/location/states", headers={"Accept-Language": lang}).get_json()["states"]}
        for lang in ("en", "hi")}
    assert states["en"]["Delhi"] == "Delhi" and states["hi"]["Delhi"] == "दिल्ली"

    auth = api_login(client, cowin_kit_instance, country["mobile"])
    ref = client.post("/api/v2/registration/beneficiary/new", headers=auth, json={
        "name": "Asha Devi", "birth_year": "1980", "gender_id": 2,
        "photo_id_type": _passport_type(client), "photo_id_number": "K1234567",
        "consent_version": "1"}).get_json()["beneficiary_reference_id"]
    r = client.post("/api/v2/appointment/schedule", headers=auth, json={
        "dose": 1, "session_id": country["session_id"], "slot": "09:00AM-11:00AM",
        "beneficiaries": [ref]})
    assert r.status_code == 200, r.get_json()
    for lang in ("en", "hi"):
        family = client.get("/api/v2/appointment/beneficiaries",
                            headers={**auth, "Accept-Language": lang}).get_json()
        [appointment] = family["beneficiaries"][0]["appointments"]
        assert _centre_names(appointment) == seen[lang], lang
        assert appointment["name"] == plain["en"]


@pytest.mark.parametrize("cowin_kit_country", ["PE"])
def test_openapi_document_states_the_answer_types(client):
    doc = client.get("/api/openapi.json").get_json()["components"]["schemas"]
    for name in ("Session", "Appointment"):
        pincode = doc[name]["properties"]["pincode"]
        assert pincode["oneOf"] == [{"type": "integer"}, {"type": "string"}], name
        assert "integer" in pincode["description"] and "pincode" in doc[name]["required"]
    assert doc["Session"]["properties"]["center_id"]["type"] == "integer"
    assert doc["Session"]["properties"]["fee"]["type"] == "string"
    assert doc["Beneficiary"]["properties"]["comorbidity_ind"]["enum"] == ["Y", "N"]
    assert {"pincode", "fee_type", "name_l"} <= set(doc["Appointment"]["properties"])


# --- demo centres and their postal codes ---------------------------------------------------

DEMO_PROFILES = sorted(p.parent.parent.name for p in PROFILES.glob("*/demo/facilities.csv"))


def _demo_rows(code):
    import csv

    with open(PROFILES / code / "demo" / "facilities.csv", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("code", DEMO_PROFILES)
def test_every_demo_centre_has_a_postal_code_of_the_country(code):
    profile = load_profile(code)
    pattern = profile["postal_code_pattern"]
    rows = _demo_rows(code)
    assert rows
    for row in rows:
        if pattern == "^$":
            assert row["postal_code"] == "", row["code"]
        else:
            assert re.fullmatch(pattern, row["postal_code"]), (row["code"], row["postal_code"])


@pytest.mark.parametrize("cowin_kit_country", DEMO_PROFILES)
def test_find_by_pin_reaches_every_demo_centre(client, database, cowin_kit_country):
    """Each demo centre, with a session on DAY, is found by its own postal code, as the
    answers send it (an integer: Callao's 07001 is searched for as 7001) and as written."""
    with database.Session() as s:
        product = s.scalar(select(Product).order_by(Product.id))
        centres = s.scalars(select(Facility).where(Facility.is_demo.is_(True))).all()
        assert {c.code for c in centres} == {r["code"] for r in _demo_rows(cowin_kit_country)}
        for centre in centres:
            create_session(s, centre, DAY, product, 18, None, {1: 5}, [(dt.time(9), dt.time(10))])
        s.commit()
        expected = {(c.id, c.postal_code) for c in centres}
    for centre_id, postal_code in expected:
        for asked in {postal_code, str(int(postal_code))}:
            r = client.get(f"/api/v2/appointment/sessions/public/findByPin?pincode={asked}"
                           f"&date={DAY:%d-%m-%Y}")
            assert r.status_code == 200, r.get_json()
            found = {s["center_id"]: s["pincode"] for s in r.get_json()["sessions"]}
            assert found.get(centre_id) == int(postal_code), (postal_code, asked)
