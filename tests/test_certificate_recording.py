"""Every way the app records a dose issues the person's certificate in the same transaction:
the vaccinator's form and the offline queue's JSON (both cowin_kit.vaccination.recording).
A replayed recording issues nothing more; without usable signing keys the dose is still
recorded."""
import logging
import uuid
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from cowin_kit.certificates.models import Certificate
from cowin_kit.vaccination.models import Dose

from helpers import (
    STAFF_PASSWORD,
    add_lot,
    adult_session_today,
    book_today,
    csrf,
    decode_hc1,
    decode_shc,
    facility_user,
    staff_login,
)


@pytest.fixture
def day(app, database, client):
    """A person booked into today's adult session at a demo centre, a lot of its vaccine,
    and the client logged in as the centre's vaccinator."""
    vs = adult_session_today(database)
    lot = add_lot(database, vs.facility_id, vs.product_id, number="LOT-CERT1")
    ana = book_today(app, vs.id, "40123456", "Ana Quispe Ñahui")
    facility_user(database, "vac@example.org", "vaccinator", vs.facility_id)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert staff_login(client, "vac@example.org", STAFF_PASSWORD).status_code == 302
    return SimpleNamespace(session=vs, lot=lot, ana=ana)


def _post(client, day, key):
    token = client.get("/staff/today/queue.json").get_json()["csrf_token"]
    return client.post("/staff/today/doses", headers={"X-CSRFToken": token}, json={
        "appointment_id": day.ana.appointment_id, "lot_id": day.lot, "site": "left_arm",
        "idempotency_key": key})


def _certificates(database, person_id):
    with database.Session() as s:
        rows = s.scalars(select(Certificate).where(Certificate.beneficiary_id == person_id)
                         .order_by(Certificate.version)).all()
        s.expunge_all()
        return rows


def test_the_offline_queue_issues_once_and_a_replay_issues_nothing(client, database, day):
    key = str(uuid.uuid4())
    assert _post(client, day, key).status_code == 201
    [cert] = _certificates(database, day.ana.beneficiary_id)
    with database.Session() as s:
        dose = s.scalar(select(Dose).where(Dose.idempotency_key == key))
        assert cert.last_dose_id == dose.id and cert.doses == 1 and cert.version == 1
    dcc = decode_hc1(cert.hc1)
    assert dcc["nam"] == {"fn": "Ana Quispe Ñahui", "fnt": "ANA<QUISPE<NAHUI"}
    # No PUBLIC_URL in the tests: the card names the address the request came to, which
    # serves /.well-known/jwks.json.
    card = decode_shc(cert.shc)
    assert card["iss"] == "http://localhost"
    [_, immunization] = [e["resource"] for e in card["vc"]["credentialSubject"][
        "fhirBundle"]["entry"]]
    assert immunization["lotNumber"] == "LOT-CERT1"

    again = _post(client, day, key)  # the same recording sent again (a retry, a replay)
    assert again.status_code == 200 and again.get_json()["status"] == "already_recorded"
    assert [c.uvci for c in _certificates(database, day.ana.beneficiary_id)] == [cert.uvci]


def test_the_form_issues_once_and_a_double_tap_issues_nothing(client, database, day,
                                                               change_settings):
    change_settings(PUBLIC_URL="https://vacunas.example.gob")
    url = f"/staff/today/appointments/{day.ana.appointment_id}"
    page = client.get(url).get_data(as_text=True)
    key = page.split('name="idempotency_key" type="hidden" value="')[1].split('"')[0]
    data = {"csrf_token": csrf(page), "idempotency_key": key, "lot": str(day.lot),
            "site": "right_arm", "given_time": "00:00"}
    assert client.post(url, data=data).status_code == 302
    assert client.post(url, data=data).status_code == 302  # a double tap
    [cert] = _certificates(database, day.ana.beneficiary_id)
    assert cert.status == "provisional" and cert.hc1.startswith("HC1:")
    assert decode_shc(cert.shc)["iss"] == "https://vacunas.example.gob"


def test_a_refused_recording_issues_nothing(client, database, day):
    token = client.get("/staff/today/queue.json").get_json()["csrf_token"]
    r = client.post("/staff/today/doses", headers={"X-CSRFToken": token}, json={
        "appointment_id": day.ana.appointment_id, "lot_id": day.lot, "site": "nowhere",
        "idempotency_key": str(uuid.uuid4())})
    assert r.status_code == 400
    assert _certificates(database, day.ana.beneficiary_id) == []


def test_without_a_signing_key_the_dose_is_still_recorded(client, database, day,
                                                          cowin_kit_instance, caplog):
    for key_file in (cowin_kit_instance / "signing").glob("dsc-*-key.pem"):
        key_file.unlink()
    with caplog.at_level(logging.ERROR, logger="cowin_kit.certificates.issuing"):
        assert _post(client, day, str(uuid.uuid4())).status_code == 201
    assert _certificates(database, day.ana.beneficiary_id) == []
    with database.Session() as s:
        assert s.scalar(select(func.count()).select_from(Dose).where(
            Dose.beneficiary_id == day.ana.beneficiary_id)) == 1
    assert "Certificates are not issued" in caplog.text and "40123456" not in caplog.text
