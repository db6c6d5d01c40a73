"""Issue 5 items 6–7: the appointment slip, as PDF (Co-WIN's download) and as HTML."""
import io
import shutil
import subprocess

import pytest

from cowin_kit.scheduling import slip
from cowin_kit.scheduling.models import Appointment

from helpers import api_register, api_session

URL = "/api/v2/appointment/appointmentslip/download"
SCRIPTS = ["ar", "hi", "ta", "te", "es", "uk", "vi", "ckb", "bn"]


@pytest.fixture
def many_languages(client, monkeypatch):
    """The demo deployment offers its country's languages; offer others' too."""
    dep = client.application.extensions["cowin_kit"]
    monkeypatch.setattr(dep, "languages", [*dep.languages, *SCRIPTS])


@pytest.fixture
def booked(client, ana, dni_type, database):
    ref = api_register(client, ana, dni_type, "40123456").get_json()["beneficiary_reference_id"]
    session_id, slot = api_session(database)
    r = client.post("/api/v2/appointment/schedule", headers=ana, json={
        "dose": 1, "session_id": session_id, "slot": slot, "beneficiaries": [ref]})
    assert r.status_code == 200, r.get_json()
    appointment_id = r.get_json()["appointment_confirmation_no"]
    with database.session() as s:
        data = slip.slip_data(s, s.get(Appointment, appointment_id))
    return appointment_id, data


def _text(pdf: bytes) -> str:
    from pypdf import PdfReader
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 1
    return "\n".join(page.extract_text() for page in reader.pages)


def test_pdf_slip(client, ana, booked):
    appointment_id, data = booked
    r = client.get(f"{URL}?appointment_id={appointment_id}", headers=ana)
    assert r.status_code == 200
    assert r.mimetype == "application/pdf"
    assert r.headers["Content-Disposition"].startswith("attachment;")
    assert r.data.startswith(b"%PDF")
    text = _text(r.data)
    flat = " ".join(text.split())
    assert data["secret_code"] in flat and data["centre_name"] in flat, text
    assert data["date_text"] in text and "Appointment slip" in text
    assert b"/Subtype /Image" in r.data  # the QR code
    # Served from the in-process cache the second time, the same bytes.
    assert client.get(f"{URL}?appointment_id={appointment_id}", headers=ana).data == r.data


def test_slip_of_another_account_or_nothing(client, ana, other, booked):
    appointment_id, _data = booked
    theirs = client.get(f"{URL}?appointment_id={appointment_id}", headers=other)
    assert theirs.status_code == 404
    missing = client.get(f"{URL}?appointment_id=00000000-0000-4000-8000-000000000000",
                         headers=ana)
    assert missing.status_code == 404 and missing.get_json() == theirs.get_json()
    for bad in ("not-a-uuid", ""):
        r = client.get(f"{URL}?appointment_id={bad}", headers=ana)
        assert r.status_code == 400 and set(r.get_json()) == {"errorCode", "error"}
    assert client.get(f"{URL}?appointment_id={appointment_id}").status_code == 401


def test_html_slip(client, ana, booked, many_languages):
    appointment_id, data = booked
    r = client.get(f"{URL}?appointment_id={appointment_id}",
                   headers={**ana, "Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert r.status_code == 200 and r.mimetype == "text/html"
    page = r.get_data(as_text=True)
    for part in (data["secret_code"], data["date_text"], data["slot"], data["centre_name"]):
        assert part in page
    assert "<svg" in page and 'dir="ltr"' in page
    ar = client.get(f"{URL}?appointment_id={appointment_id}&format=html",
                    headers={**ana, "Accept-Language": "ar"}).get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in ar and data["secret_code"] in ar
    hi = client.get(f"{URL}?appointment_id={appointment_id}&format=html",
                    headers={**ana, "Accept-Language": "hi"}).get_data(as_text=True)
    assert '<html lang="hi" dir="ltr">' in hi and data["secret_code"] in hi
    # ?format=pdf wins over a browser's Accept.
    r = client.get(f"{URL}?appointment_id={appointment_id}&format=pdf",
                   headers={**ana, "Accept": "text/html"})
    assert r.mimetype == "application/pdf"


@pytest.mark.parametrize("lang", SCRIPTS)
def test_pdf_in_other_scripts(client, ana, booked, many_languages, lang, shots):
    appointment_id, data = booked
    r = client.get(f"{URL}?appointment_id={appointment_id}",
                   headers={**ana, "Accept-Language": lang})
    assert r.status_code == 200 and r.data.startswith(b"%PDF")
    assert data["secret_code"] in _text(r.data)
    if lang in ("ar", "hi"):
        out = shots  # $COWIN_KIT_SCREENSHOTS (look at them), else this test's own folder
        (out / f"slip-{lang}.pdf").write_bytes(r.data)
        if shutil.which("pdftoppm"):
            subprocess.run(["pdftoppm", "-png", "-r", "60", str(out / f"slip-{lang}.pdf"),
                            str(out / f"slip-{lang}")], check=True)


def test_cache_key_follows_the_appointment(booked):
    _id, data = booked
    cancelled = {**data, "status": "cancelled"}
    moved = {**data, "session_id": "other"}
    keys = {slip.cache_key(d, "en") for d in (data, cancelled, moved)}
    assert len(keys) == 3 and slip.cache_key(data, "en") != slip.cache_key(data, "ar")


def test_a_slip_is_built_once(booked, monkeypatch):
    import gettext
    _id, data = booked
    first = slip.cached_pdf(data, "en", gettext.NullTranslations())

    def built_again(*_args):
        raise AssertionError("the slip was built again")
    monkeypatch.setattr(slip, "render_pdf", built_again)
    assert slip.cached_pdf(data, "en", gettext.NullTranslations()) == first
