"""The citizen's journey through the Co-WIN v2 API: register, book, reschedule, cancel."""
import uuid

import pytest
from sqlalchemy import select

from cowin_kit.scheduling.models import SessionCapacity, VaccinationSession

from helpers import TODAY, api_register, api_session


def test_the_whole_journey(client, ana, dni_type, database):
    r = api_register(client, ana, dni_type, "40123456")
    assert r.status_code == 200, r.get_json()
    ref = r.get_json()["beneficiary_reference_id"]
    assert len(ref) == 14
    people = client.get("/api/v2/appointment/beneficiaries", headers=ana).get_json()
    person = people["beneficiaries"][0]
    assert person["beneficiary_reference_id"] == ref
    assert person["photo_id_number"] == "XXXXXX56"
    assert person["vaccination_status"] == "Not Vaccinated"

    session_id, slot = api_session(database)
    r = client.post("/api/v2/appointment/schedule", headers=ana, json={
        "dose": 1, "session_id": session_id, "slot": slot, "beneficiaries": [ref]})
    assert r.status_code == 200, r.get_json()
    appointment_id = r.get_json()["appointment_confirmation_no"]
    uuid.UUID(appointment_id)
    appts = client.get("/api/v2/appointment/beneficiaries",
                       headers=ana).get_json()["beneficiaries"][0]["appointments"]
    assert appts[0]["appointment_id"] == appointment_id and len(appts[0]["secret_code"]) == 4

    again = client.post("/api/v2/appointment/schedule", headers=ana, json={
        "dose": 1, "session_id": session_id, "slot": slot, "beneficiaries": [ref]})
    assert again.status_code == 409  # one active appointment per person

    r = client.post("/api/v2/appointment/cancel", headers=ana,
                    json={"appointment_id": appointment_id, "beneficiariesToCancel": [ref]})
    assert r.status_code == 204
    assert client.get("/api/v2/appointment/beneficiaries",
                      headers=ana).get_json()["beneficiaries"][0]["appointments"] == []


def test_nobody_sees_or_books_anothers_people(client, ana, other, dni_type, database):
    ref = api_register(client, ana, dni_type, "40123457").get_json()["beneficiary_reference_id"]
    assert client.get("/api/v2/appointment/beneficiaries",
                      headers=other).get_json()["beneficiaries"] == []
    session_id, slot = api_session(database)
    r = client.post("/api/v2/appointment/schedule", headers=other, json={
        "dose": 1, "session_id": session_id, "slot": slot, "beneficiaries": [ref]})
    assert r.status_code == 404
    missing = client.post("/api/v2/appointment/schedule", headers=other, json={
        "dose": 1, "session_id": session_id, "slot": slot, "beneficiaries": ["12345678901234"]})
    assert missing.status_code == 404 and missing.get_json() == r.get_json()  # no probing
    r = client.post("/api/v2/registration/beneficiary/delete", headers=other,
                    json={"beneficiary_reference_id": ref})
    assert r.status_code == 404


def test_family_limit_duplicates_and_bad_ids(client, ana, dni_type):
    for i in range(4):
        assert api_register(client, ana, dni_type, f"4012346{i}").status_code == 200
    fifth = api_register(client, ana, dni_type, "40123470")
    assert fifth.status_code == 409 and "4" in fifth.get_json()["error"]
    dup = api_register(client, ana, dni_type, "40123460")
    assert dup.status_code == 409  # the family limit is checked first


def test_a_number_registered_by_anyone_is_refused(client, ana, other, dni_type):
    assert api_register(client, ana, dni_type, "40123460").status_code == 200
    dup = api_register(client, other, dni_type, "40123460-3")  # with its check digit
    assert dup.status_code == 409 and "cannot be registered" in dup.get_json()["error"]
    bad = api_register(client, other, dni_type, "12")
    assert bad.status_code == 400 and "number of characters" in bad.get_json()["error"]


def test_bad_inputs(client, ana, dni_type, database):
    assert client.get("/api/v2/appointment/beneficiaries").status_code == 401
    assert client.get("/api/v2/appointment/beneficiaries",
                      headers={"Authorization": "Bearer nope"}).status_code == 401
    r = api_register(client, ana, dni_type, "40123456", year="next year")
    assert r.status_code == 400 and "year of birth" in r.get_json()["error"]
    r = api_register(client, ana, dni_type, "10117410-3")
    assert r.status_code == 400 and "check digit" in r.get_json()["error"]
    ref = api_register(client, ana, dni_type, "40123499").get_json()["beneficiary_reference_id"]
    session_id, _slot = api_session(database)
    for body, status in (
            ({"dose": 1, "session_id": "not-a-uuid", "slot": "09:00", "beneficiaries": [ref]}, 400),
            ({"dose": 1, "session_id": str(uuid.uuid4()), "slot": "09:00",
              "beneficiaries": [ref]}, 404),
            ({"dose": 1, "session_id": session_id, "slot": "23:00", "beneficiaries": [ref]}, 400),
            ({"dose": "one", "session_id": session_id, "slot": "09:00",
              "beneficiaries": [ref]}, 400),
            ({"dose": 1, "session_id": session_id, "slot": "09:00", "beneficiaries": []}, 400)):
        r = client.post("/api/v2/appointment/schedule", headers=ana, json=body)
        assert r.status_code == status, (body, r.get_json())
        assert set(r.get_json()) == {"errorCode", "error"}


def test_authenticated_search_twins(client, ana):
    assert client.get("/api/v2/appointment/sessions/findByPin?pincode=15001&date=01-01-2030"
                      ).status_code == 401
    r = client.get("/api/v2/appointment/sessions/findByPin?pincode=15001&date=01-01-2030",
                   headers=ana)
    assert r.status_code == 200 and "sessions" in r.get_json()


def test_the_family_limit_holds_under_parallel_requests(app, ana, dni_type):
    import threading

    barrier = threading.Barrier(12)
    statuses = []

    def register(i):
        client = app.test_client()
        barrier.wait()
        statuses.append(api_register(client, ana, dni_type, f"4055{i:04d}").status_code)

    threads = [threading.Thread(target=register, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses.count(200) == 4 and statuses.count(409) == 8


@pytest.mark.parametrize("body,status", [
    ({"name": None}, 400),
    ({"name": ["Ana"]}, 400),
    ({"photo_id_number": None}, 400),
    ({"photo_id_type": 10 ** 30}, 400),
    ({"birth_year": 10 ** 30}, 400),
])
def test_wrong_types_are_refused_not_stored(client, ana, dni_type, body, status):
    values = {"name": "Ana Quispe", "birth_year": "1980", "gender_id": 2,
              "photo_id_type": dni_type, "photo_id_number": "40999999"}
    values.update(body)
    r = client.post("/api/v2/registration/beneficiary/new", headers=ana, json=values)
    assert r.status_code == status, r.get_json()
    assert client.get("/api/v2/appointment/beneficiaries",
                      headers=ana).get_json()["beneficiaries"] == []


def test_absurd_slots_and_dates_are_400(client, ana, dni_type, database):
    ref = api_register(client, ana, dni_type, "40123499").get_json()["beneficiary_reference_id"]
    session_id, _slot = api_session(database)
    r = client.post("/api/v2/appointment/schedule", headers=ana, json={
        "dose": 1, "session_id": session_id, "slot": "1" * 5000, "beneficiaries": [ref]})
    assert r.status_code == 400
    for path in ("calendarByPin?pincode=15001", "findByPin?pincode=15001"):
        r = client.get(f"/api/v2/appointment/sessions/public/{path}&date=31-12-9999")
        assert r.status_code == 400


def test_logged_in_search_answers_are_private(client, ana):
    r = client.get("/api/v2/appointment/sessions/findByPin?pincode=15001&date=01-01-2030",
                   headers=ana)
    assert r.headers["Cache-Control"].startswith("private")
    public = client.get("/api/v2/appointment/sessions/public/findByPin?pincode=15001"
                        "&date=01-01-2030")
    # Public answers depend on the URL and the language only (never a cookie or a token).
    assert public.headers["Vary"] == "Accept-Language"
    assert public.headers["Cache-Control"].startswith("public")


def test_query_junk_does_not_grow_the_answer_cache(app, client):
    url = "/api/v2/appointment/sessions/public/findByPin?pincode=15001&date=01-01-2030"
    for i in range(20):
        assert client.get(f"{url}&x={i}").status_code == 200
    assert len(app.extensions["cowin_kit.answers"]._entries) == 1


def test_priority_groups_are_checked_against_the_profile(client, ana, dni_type):
    ok = client.post("/api/v2/registration/beneficiary/new", headers=ana, json={
        "name": "Rosa Huamán", "birth_year": "1975", "gender_id": 2, "photo_id_type": dni_type,
        "photo_id_number": "40888001", "comorbidity_ind": "Y",
        "priority_groups": ["health-workers"]})
    assert ok.status_code == 200, ok.get_json()
    bad = client.post("/api/v2/registration/beneficiary/new", headers=ana, json={
        "name": "Luis Quispe", "birth_year": "1975", "gender_id": 1, "photo_id_type": dni_type,
        "photo_id_number": "40888002", "priority_groups": ["astronauts"]})
    assert bad.status_code == 400


def test_a_person_with_a_dose_cannot_be_deleted(client, ana, dni_type, database):
    from cowin_kit.registration.models import Beneficiary
    from cowin_kit.vaccination.service import record_dose

    ref = api_register(client, ana, dni_type, "40123456").get_json()["beneficiary_reference_id"]
    with database.session() as s:
        person = s.scalar(select(Beneficiary).where(Beneficiary.reference_id == ref))
        record_dose(s, beneficiary_id=person.id, dose_number=1, product=1,
                    given_on=TODAY)
        s.commit()
    r = client.post("/api/v2/registration/beneficiary/delete", headers=ana,
                    json={"beneficiary_reference_id": ref})
    assert r.status_code == 409 and "recorded dose" in r.get_json()["error"]
    assert len(client.get("/api/v2/appointment/beneficiaries",
                          headers=ana).get_json()["beneficiaries"]) == 1


def test_a_full_session_answers_409_over_http(client, ana, dni_type, database):
    session_id, slot = api_session(database)
    with database.session() as s:
        cap = s.get(SessionCapacity, (session_id, 1))
        cap.booked = cap.capacity - 1  # one place left
        s.commit()
    first = api_register(client, ana, dni_type, "40123456").get_json()["beneficiary_reference_id"]
    second = api_register(client, ana, dni_type, "40123457", name="Rosa Quispe").get_json()[
        "beneficiary_reference_id"]
    both = client.post("/api/v2/appointment/schedule", headers=ana, json={
        "dose": 1, "session_id": session_id, "slot": slot, "beneficiaries": [first, second]})
    assert both.status_code == 409 and "no places left" in both.get_json()["error"]
    one = client.post("/api/v2/appointment/schedule", headers=ana, json={
        "dose": 1, "session_id": session_id, "slot": slot, "beneficiaries": [first]})
    assert one.status_code == 200
    full = client.post("/api/v2/appointment/schedule", headers=ana, json={
        "dose": 1, "session_id": session_id, "slot": slot, "beneficiaries": [second]})
    assert full.status_code == 409 and full.get_json()["errorCode"] == "APPOIN0040"


def test_family_cancel_finds_each_persons_appointment_after_a_reschedule(client, ana, dni_type,
                                                                          database):
    first = api_register(client, ana, dni_type, "40123456").get_json()["beneficiary_reference_id"]
    second = api_register(client, ana, dni_type, "40123457", name="Rosa Quispe").get_json()[
        "beneficiary_reference_id"]
    session_id, slot = api_session(database)
    booked = client.post("/api/v2/appointment/schedule", headers=ana, json={
        "dose": 1, "session_id": session_id, "slot": slot, "beneficiaries": [first, second]})
    confirmation = booked.get_json()["appointment_confirmation_no"]
    moved_id = booked.get_json()["appointment_ids"][1]
    with database.session() as s:
        other = s.scalar(select(VaccinationSession).join(SessionCapacity).where(
            VaccinationSession.date > TODAY, VaccinationSession.id != session_id,
            VaccinationSession.max_age.is_(None),
            VaccinationSession.min_age <= 40, SessionCapacity.dose_number == 1))
        other_id, other_slot = other.id, other.slots[0].starts.strftime("%H:%M")
    assert client.post("/api/v2/appointment/reschedule", headers=ana, json={
        "appointment_id": moved_id, "session_id": other_id,
        "slot": other_slot}).status_code == 204
    r = client.post("/api/v2/appointment/cancel", headers=ana, json={
        "appointment_id": confirmation, "beneficiariesToCancel": [first, second]})
    assert r.status_code == 204
    people = client.get("/api/v2/appointment/beneficiaries", headers=ana).get_json()
    assert [p["appointments"] for p in people["beneficiaries"]] == [[], []]


def test_beneficiaries_show_the_vaccine_and_a_completed_single_dose(client, ana, dni_type,
                                                                    database):
    from cowin_kit.programmes.models import Product
    from cowin_kit.registration.models import Beneficiary
    from cowin_kit.vaccination.service import record_dose

    ref = api_register(client, ana, dni_type, "40123456").get_json()["beneficiary_reference_id"]
    with database.session() as s:
        product = s.scalar(select(Product).where(Product.primary_doses == 2))
        person = s.scalar(select(Beneficiary).where(Beneficiary.reference_id == ref))
        record_dose(s, beneficiary_id=person.id, dose_number=1, product=product,
                    given_on=TODAY)
        s.commit()
        product_id, product_name = product.id, product.name

    def status():
        person = client.get("/api/v2/appointment/beneficiaries", headers=ana).get_json()[
            "beneficiaries"][0]
        return person["vaccine"], person["vaccination_status"]

    assert status() == (product_name, "Partially Vaccinated")
    with database.session() as s:  # the same dose of a single-dose vaccine completes it
        s.get(Product, product_id).primary_doses = 1
        s.commit()
    assert status() == (product_name, "Vaccinated")


def test_a_malformed_slip_id_says_what_is_wrong(client, ana):
    r = client.get("/api/v2/appointment/appointmentslip/download?appointment_id=nope",
                   headers=ana)
    assert r.status_code == 400 and r.get_json()["error"] == "The appointment id is not valid."
