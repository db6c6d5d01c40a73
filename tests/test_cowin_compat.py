"""A real Co-WIN client against a real server: the published ``cowin-api`` 1.0.1 (generated
from Co-WIN's OpenAPI document v2.1.0; see tests/cowin_client.py), pointed at a deployment
of the PE demo served on 127.0.0.1, through the whole flow a booking app goes through.

Nothing here is special-cased for the test: the client sends what it was generated to send
(``photo_id_type``, ``gender_id`` and ``dose`` as the floats ``1.0``), the base URL is the
only thing changed, the OTP is read from the SMS gateway's outbox (the ``file`` gateway, as
a phone would receive it), and the session that is full is made by an operator's
``cowin-kit sessions import``.

Two known limits of that client, which it has against Co-WIN itself, and how the steps treat
them: it accepts only 200 and 201, so the 204 No Content that Co-WIN (and the kit) answer to
reschedule, cancel and beneficiary/delete raises ``UnexpectedResponse(status_code=204)``: the
steps expect exactly that and check the effect with the client's own ``beneficiaries()``;
its slip and certificate methods decode the PDF as JSON, so the slip is fetched with the
client's own HTTP client and token.

Co-WIN's web-app login (auth/generateMobileOTP, auth/validateMobileOtp) has no method in the
client: it is done with plain httpx, as the booking bots did, and its token used with the
client.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import os
import time
import uuid

import cowin_client
import httpx
import jwt
import pytest
from pydantic import parse_obj_as

from helpers import TODAY

MOBILE = "987654321"  # a Peruvian mobile number as people type it
E164 = "+51987654321"  # as the SMS gateway is given it
TOMORROW = TODAY + dt.timedelta(days=1)
# The web app's "secret" the booking bots sent with generateMobileOTP.
WEB_APP_SECRET = ("U2FsdGVkX1+z/4Nr9nta+2DrVJSv7KS6VoQUSQ1ZXYDx/CJUkWxFYG6P3iM/VW+6jLQ9RDQVzp/"
                  "RcZ8kbT41xw==")
BOT_HEADERS = {  # what the bots sent besides the JSON body
    "User-Agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, "
                  "like Gecko) Chrome/90.0.4430.93 Safari/537.36",
    "Origin": "https://selfregistration.cowin.gov.in",
    "Referer": "https://selfregistration.cowin.gov.in/",
}

cowin_api = cowin_client.load()
from cowin_api import models  # noqa: E402  (importable only once cowin_client has loaded it)
from cowin_api.exceptions import UnexpectedResponse  # noqa: E402


class Beneficiary(models.BenefeiciaryResponseSchema):
    """The spec's beneficiary, but for ``vaccine``: the spec enumerates India's two products
    (COVISHIELD, COVAXIN), which no other country's deployment can give."""
    vaccine: str | None = None


# --- the server and the client -----------------------------------------------------------

@pytest.fixture
def loop():
    """The event loop the client's synchronous methods run on (``get_event_loop()``)."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield loop
    asyncio.set_event_loop(None)
    loop.close()


@pytest.fixture
def base(live_url):
    """The client's base URL: its paths start with /v2, so this is the deployment's /api."""
    return live_url + "/api"


@pytest.fixture
def cowin(base, loop):
    """``cowin(token=None)``: the client's API groups, as an app builds them."""
    made = []

    def make(token=None):
        apis = cowin_client.sync_apis(base, token)
        made.append(apis)
        return apis

    yield make
    for apis in made:
        loop.run_until_complete(apis.client._async_client.aclose())


def otp(sms_outbox) -> str:
    """The code the phone received (the file SMS gateway's outbox)."""
    return sms_outbox.last_code(E164)


def sha(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def partner_login(cowin, sms_outbox, mobile=MOBILE):
    """auth/generateOTP + auth/confirmOTP with the client: its confirmOTP answer."""
    sent = cowin().authentication_ap_is_api.generate_otp(models.InlineObject2(mobile=mobile))
    assert isinstance(sent.txn_id, uuid.UUID)
    return cowin().authentication_ap_is_api.confirm_otp(
        models.InlineObject3(otp=sha(otp(sms_outbox)), txnId=sent.txn_id))


def web_app_login(base, sms_outbox, mobile=MOBILE) -> httpx.Response:
    """Co-WIN's web-app login, request by request as the booking bots sent it."""
    r = httpx.post(base + "/v2/auth/generateMobileOTP", headers=BOT_HEADERS,
                   json={"mobile": mobile, "secret": WEB_APP_SECRET})
    assert r.status_code == 200, r.text
    assert "Retry-After" not in r.headers  # a successful answer is not a throttle
    txn = r.json()["txnId"]
    return httpx.post(base + "/v2/auth/validateMobileOtp", headers=BOT_HEADERS,
                      json={"otp": sha(otp(sms_outbox)), "txnId": txn})


def assert_jwt(token: str) -> dict:
    """What clients did with Co-WIN's tokens: read ``exp`` without the key, to log in again
    before it passes. Nothing personal is in the claims."""
    claims = jwt.decode(token, options={"verify_signature": False})
    now = time.time()
    assert isinstance(claims["exp"], int) and claims["exp"] > now, claims
    assert claims.get("iat", 0) <= now + 5
    assert MOBILE not in json.dumps(claims), claims
    return claims


def no_content(call, *args):
    """Co-WIN answered 204 No Content here; the generated client takes only 200 and 201 and
    raises for any other status, this one included (against Co-WIN too)."""
    with pytest.raises(UnexpectedResponse) as raised:
        call(*args)
    assert raised.value.status_code == 204, str(raised.value)


def is_pincode(value) -> bool:
    """A postal code as Co-WIN sent it: a JSON integer (Go clients decode it into an int)."""
    return type(value) is int and value > 0


# --- discovering the country through the client ------------------------------------------

def districts_with_centres(api, date: str) -> list[tuple[int, dict]]:
    """(district_id, calendarByDistrict answer) of every district with sessions from date."""
    meta = api.metadata_ap_is_api
    found = []
    for state in meta.states(accept_language="en").states:
        for district in meta.districts(str(int(state.state_id)), accept_language="en").districts:
            answer = api.appointment_availability_ap_is_api.public_calendar_by_district(
                str(int(district.district_id)), date)
            if answer["centers"]:
                found.append((int(district.district_id), answer))
    return found


def open_sessions(calendar: dict, min_age=46) -> list[tuple[dict, dict]]:
    """(centre, session) of a calendar answer that take a first dose at ``min_age``, after
    today (today's slots may have passed); not a children's session (max_age_limit)."""
    return [(c, s) for c in calendar["centers"] for s in c["sessions"]
            if s["available_capacity"] > 0 and s["min_age_limit"] <= min_age
            and (s.get("max_age_limit") or 200) >= min_age
            and dt.datetime.strptime(s["date"], "%d-%m-%Y").date() > TODAY
            and s.get("available_capacity_dose1", 1) > 0]


# --- the steps ---------------------------------------------------------------------------

def test_states_districts_and_metadata_parse_with_the_spec_models(cowin):
    meta = cowin().metadata_ap_is_api
    states = meta.states(accept_language="en")
    assert isinstance(states, models.InlineResponse2002) and len(states.states) >= 25
    assert all(s.state_id == int(s.state_id) > 0 and s.state_name for s in states.states)
    districts = [meta.districts(str(int(s.state_id)), accept_language="en")
                 for s in states.states]
    assert all(isinstance(d, models.InlineResponse2003) for d in districts)
    listed = [d for answer in districts for d in answer.districts]
    assert listed, "no state has districts"
    assert all(d.district_id == int(d.district_id) > 0 and d.district_name for d in listed)

    types = meta.id_types(accept_language="en")
    assert isinstance(types, models.InlineResponse2005) and types.types
    assert all(t.id == int(t.id) > 0 and t.type for t in types.types)
    genders = meta.genders(accept_language="en")
    assert isinstance(genders, models.InlineResponse2006) and len(genders.genders) >= 2
    assert all(g.id == int(g.id) > 0 and g.gender for g in genders.genders)


def test_the_four_public_searches(cowin):
    api = cowin()
    public = api.appointment_availability_ap_is_api
    day = TOMORROW.strftime("%d-%m-%Y")
    found = districts_with_centres(api, day)
    assert found, "no demo district has sessions"
    centres = [c for _, answer in found for c in answer["centers"]]
    for centre in centres:
        models.SessionCalendarEntrySchema.parse_obj(centre)
        # every demo centre can be found by its postal code, an integer as in Co-WIN
        assert is_pincode(centre["pincode"]), (centre["name"], centre["pincode"])

    district_id, calendar = found[0]
    flat = public.public_find_by_district(str(district_id), day)
    assert flat["sessions"]
    for s in flat["sessions"]:
        models.SessionResponseSchema.parse_obj(s)
        assert is_pincode(s["pincode"]) and s["date"] == day
    assert {s["center_id"] for s in flat["sessions"]} <= {c["center_id"] for c in centres}

    centre = calendar["centers"][0]
    pin = str(centre["pincode"])
    by_pin = public.public_find_by_pin(pin, day)
    assert by_pin["sessions"] and all(s["pincode"] == centre["pincode"]
                                      for s in by_pin["sessions"])
    assert centre["center_id"] in {s["center_id"] for s in by_pin["sessions"]}
    for s in by_pin["sessions"]:
        models.SessionResponseSchema.parse_obj(s)

    # DD-MM-YY, which Co-WIN took as well as DD-MM-YYYY
    week = public.public_calendar_by_pin(pin, TOMORROW.strftime("%d-%m-%y"))
    assert centre["center_id"] in {c["center_id"] for c in week["centers"]}
    for c in week["centers"]:
        models.SessionCalendarEntrySchema.parse_obj(c)
        assert c["pincode"] == centre["pincode"]


def test_partner_login_gives_a_jwt_and_the_searches_logged_in(cowin, sms_outbox):
    answer = partner_login(cowin, sms_outbox)
    assert isinstance(answer, models.InlineResponse2004)
    assert answer.is_new_account == "Y" and answer.token
    assert_jwt(answer.token)

    public = cowin()
    day = TOMORROW.strftime("%d-%m-%Y")
    district_id, calendar = districts_with_centres(public, day)[0]
    pin = str(calendar["centers"][0]["pincode"])
    logged_in = cowin(answer.token).vaccination_appointment_ap_is_api
    for s in logged_in.find_by_district(str(district_id), day)["sessions"]:
        models.SessionResponseSchema.parse_obj(s)
        assert is_pincode(s["pincode"])
    assert logged_in.find_by_pin(pin, day)["sessions"]
    week = logged_in.calendar_by_district(str(district_id), day)
    assert [c["center_id"] for c in week["centers"]] == [
        c["center_id"] for c in calendar["centers"]]
    for c in logged_in.calendar_by_pin(pin, day)["centers"]:
        models.SessionCalendarEntrySchema.parse_obj(c)
        assert str(c["pincode"]) == pin
    assert logged_in.beneficiaries() == {"beneficiaries": []}


def test_public_login_with_the_client(cowin, sms_outbox):
    auth = cowin().user_authentication_ap_is_api
    sent = auth.public_generate_otp(models.InlineObject(mobile=MOBILE))
    answer = auth.public_confirm_otp(
        models.InlineObject1(otp=sha(otp(sms_outbox)), txnId=sent.txn_id))
    assert isinstance(answer, models.InlineResponse2001)
    assert_jwt(answer.token)


def test_web_app_login_as_the_booking_bots_did(base, cowin, sms_outbox):
    r = web_app_login(base, sms_outbox)
    assert r.status_code == 200, r.text
    assert "Retry-After" not in r.headers
    token = r.json()["token"]
    assert_jwt(token)
    # the token works with the client
    assert cowin(token).vaccination_appointment_ap_is_api.beneficiaries() == {
        "beneficiaries": []}


def register(api, number: str, name: str) -> str:
    """beneficiary/new with the client (gender and ID type as the floats it sends)."""
    meta = api.metadata_ap_is_api
    dni = next(t for t in meta.id_types(accept_language="en").types if "DNI" in t.type)
    female = next(g for g in meta.genders(accept_language="en").genders
                  if g.gender.lower() == "female")
    body = models.InlineObject4(name=name, birth_year="1980", gender_id=female.id,
                                photo_id_type=dni.id, photo_id_number=number,
                                comorbidity_ind="N", consent_version="1")
    assert isinstance(body.photo_id_type, float)  # what goes on the wire: 1.0, not 1
    made = api.beneficiary_registration_ap_is_api.\
        beneficiary_registration_for_partner_applications(body)
    assert isinstance(made, models.InlineResponse2007)
    assert made.beneficiary_reference_id and made.beneficiary_reference_id.isdigit()
    return made.beneficiary_reference_id


def people(api) -> dict[str, Beneficiary]:
    answer = api.vaccination_appointment_ap_is_api.beneficiaries()
    return {b.beneficiary_reference_id: b
            for b in parse_obj_as(list[Beneficiary], answer["beneficiaries"])}


def test_register_book_slip_reschedule_cancel_delete(base, cowin, sms_outbox, loop):
    token = partner_login(cowin, sms_outbox).token
    api = cowin(token)
    appointments = api.vaccination_appointment_ap_is_api

    ref = register(api, "40123456", "Ana Quispe")
    ana = people(api)[ref]
    assert ana.name == "Ana Quispe" and ana.birth_year == "1980"
    assert ana.comorbidity_ind == "N" and ana.vaccination_status == "Not Vaccinated"
    assert not ana.appointments

    day = TOMORROW.strftime("%d-%m-%Y")
    choices = [pair for _, calendar in districts_with_centres(api, day)
               for pair in open_sessions(calendar)]
    assert len(choices) >= 2, "the demo has too few open sessions"
    (centre, session), (centre2, session2) = choices[0], next(
        p for p in choices[1:] if p[1]["session_id"] != choices[0][1]["session_id"])

    booked = appointments.schedule(models.InlineObject6(
        dose=1, session_id=session["session_id"], slot=session["slots"][0],
        beneficiaries=[ref]))
    confirmation = uuid.UUID(booked["appointment_confirmation_no"])

    ana = people(api)[ref]
    assert len(ana.appointments) == 1
    booking = ana.appointments[0]
    assert booking.appointment_id == confirmation
    assert str(booking.session_id) == session["session_id"]
    assert booking.center_id == centre["center_id"] and booking.dose == 1
    assert booking.slot == session["slots"][0] and booking.date == session["date"]
    assert booking.fee_type == centre["fee_type"]
    raw = appointments.beneficiaries()["beneficiaries"][0]["appointments"][0]
    assert raw["pincode"] == centre["pincode"] and is_pincode(raw["pincode"])

    # The slip: the client's download method decodes the PDF as JSON, so an app fetches it
    # with the same HTTP client, base URL and token.
    slip = loop.run_until_complete(api.client.middleware(httpx.Request(
        "GET", base + "/v2/appointment/appointmentslip/download",
        params={"appointment_id": str(confirmation)}), api.client.send_inner))
    assert slip.status_code == 200, slip.text
    assert slip.headers["Content-Type"].startswith("application/pdf")
    assert slip.content.startswith(b"%PDF")

    no_content(appointments.reschedule_appointment, models.InlineObject7(
        appointment_id=confirmation, session_id=session2["session_id"],
        slot=session2["slots"][-1]))
    moved = people(api)[ref].appointments[0]
    assert str(moved.session_id) == session2["session_id"]
    assert moved.slot == session2["slots"][-1] and moved.center_id == centre2["center_id"]
    assert moved.pincode == str(centre2["pincode"])

    no_content(appointments.cancel_appointment, models.InlineObject8(
        appointment_id=moved.appointment_id, beneficiariesToCancel=[ref]))
    assert not people(api)[ref].appointments

    no_content(api.beneficiary_registration_ap_is_api.delete_beneficiary,
               models.InlineObject5(beneficiary_reference_id=ref))
    assert people(api) == {}


@pytest.fixture
def import_sessions(cli_runner, cowin_kit_instance, monkeypatch, tmp_path):
    """An operator's ``cowin-kit sessions import`` on the served instance."""
    from cowin_kit.cli.sessions_cmd import sessions

    for key in list(os.environ):
        if key.startswith("COWIN_KIT_") and key != "COWIN_KIT_TEST_DATABASE_URL":
            monkeypatch.delenv(key)

    def run(lines: str):
        path = tmp_path / "sessions.csv"
        path.write_text("facility_code,date,vaccine,min_age,capacity_dose1,slots\n" + lines,
                        encoding="utf-8")
        result = cli_runner.invoke(sessions, ["import", str(path), "--instance",
                                              str(cowin_kit_instance)])
        assert result.exit_code == 0, result.output

    return run


def test_a_full_session_answers_409_appoin0040(cowin, sms_outbox, import_sessions):
    # A session with one place, weeks after the demo's week of sessions.
    day = TODAY + dt.timedelta(days=30)
    import_sessions(f"DEMO-PE-0001,{day:%d-%m-%Y},comirnaty,18,1,09:00-11:00\n")
    api = cowin(partner_login(cowin, sms_outbox).token)
    first, second = register(api, "40123456", "Ana Quispe"), register(api, "40123457",
                                                                      "Rosa Quispe")
    calendar = districts_with_centres(cowin(), f"{day:%d-%m-%Y}")
    session = next(s for _, answer in calendar for c in answer["centers"]
                   for s in c["sessions"] if s["date"] == f"{day:%d-%m-%Y}")
    assert session["available_capacity"] == 1

    appointments = api.vaccination_appointment_ap_is_api
    appointments.schedule(models.InlineObject6(
        dose=1, session_id=session["session_id"], slot=session["slots"][0],
        beneficiaries=[first]))
    with pytest.raises(UnexpectedResponse) as raised:
        appointments.schedule(models.InlineObject6(
            dose=1, session_id=session["session_id"], slot=session["slots"][0],
            beneficiaries=[second]))
    assert raised.value.status_code == 409
    error = models.InlineResponse400.parse_obj(raised.value.structured())
    assert error.error_code == "APPOIN0040" and error.error
    assert not people(api)[second].appointments
