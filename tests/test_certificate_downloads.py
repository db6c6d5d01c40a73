"""Issue 12, part 2: the printable certificate (PDF and HTML, in the person's language and
English) and its downloads: the Co-WIN API's two endpoints and the portal's family page.
A PDF is rendered once per certificate version and served from storage."""
import io
import json

import pytest
from pypdf import PdfReader

from helpers import MOBILE, api_login, certify, register_person, web_login

CITIZEN = "/api/v2/registration/certificate/download"
PUBLIC = "/api/v2/registration/certificate/public/download"
PERU = "+51" + MOBILE


def _spanish(msgid: str) -> str:
    """``msgid`` as the Spanish catalogue has it (English until it is translated)."""
    from cowin_kit.catalogues import load_translations
    from cowin_kit.paths import locales_dir
    return load_translations("es", [locales_dir()]).gettext(msgid)


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


@pytest.fixture
def counted(monkeypatch):
    """How many times a certificate PDF is built."""
    from cowin_kit.certificates import printable

    calls = []
    real = printable.render_pdf

    def counting(values):
        calls.append(values.uvci)
        return real(values)
    monkeypatch.setattr(printable, "render_pdf", counting)
    return calls


@pytest.fixture
def ana(app, database, client, cowin_kit_instance):
    """Ana, registered under the logged-in API citizen, Spanish reader, one dose given:
    (her reference, the API headers)."""
    headers = api_login(client, cowin_kit_instance)
    ref = register_person(app, database, PERU, name="Ana Quispe Ñahui", language="es")
    return ref, headers


# --- the API -------------------------------------------------------------------------------

@pytest.mark.parametrize("url", [CITIZEN, PUBLIC])
def test_api_download_is_the_pdf_in_spanish_and_english(app, database, client, ana, url,
                                                        counted):
    ref, headers = ana
    uvci = certify(app, database, ref)
    r = client.get(f"{url}?beneficiary_reference_id={ref}", headers=headers)
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.mimetype == "application/pdf" and r.data.startswith(b"%PDF")
    assert r.headers["Content-Disposition"].startswith("attachment;")
    assert ref in r.headers["Content-Disposition"]
    assert "private" in r.headers["Cache-Control"] and r.headers["ETag"]
    text = _text(r.data)
    for part in ("Ana Quispe Ñahui", "Vaccination certificate", _spanish("Vaccination certificate"),
                 "Nombre", "Name", "Año de nacimiento", "Year of birth", "Centro de vacunación",
                 uvci, "1980", "FA1234-1", "Provisional certificate", "http://localhost/verify",
                 "Ministerio de Salud del Perú (MINSA)", "Ministry of Health of Peru (MINSA)"):
        assert part in text, (part, text)
    assert b"/Subtype /Image" in r.data  # the QR code
    assert counted == [uvci]


def test_second_download_is_served_from_storage(app, database, client, ana, counted,
                                                cowin_kit_instance):
    ref, headers = ana
    certify(app, database, ref)
    first = client.get(f"{CITIZEN}?beneficiary_reference_id={ref}", headers=headers)
    second = client.get(f"{PUBLIC}?beneficiary_reference_id={ref}", headers=headers)
    assert first.data == second.data and len(counted) == 1
    stored = list((cowin_kit_instance / "documents" / "certificates").iterdir())
    assert [p.name for p in stored] == [first.headers["ETag"].strip('"')]
    assert oct(stored[0].stat().st_mode & 0o777) == "0o600"
    # A client that has it gets a 304, without the file.
    again = client.get(f"{CITIZEN}?beneficiary_reference_id={ref}",
                       headers={**headers, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and not again.data and len(counted) == 1
    # The next dose issues a new version: a new file (and final, now).
    certify(app, database, ref, number=2, days_ago=5)
    third = client.get(f"{CITIZEN}?beneficiary_reference_id={ref}", headers=headers)
    assert third.headers["ETag"] != first.headers["ETag"] and len(counted) == 2
    assert "Final certificate" in _text(third.data)


def test_one_query_finds_token_person_and_certificate(app, database, client, ana):
    from sqlalchemy import event

    ref, headers = ana
    certify(app, database, ref)
    client.get(f"{CITIZEN}?beneficiary_reference_id={ref}", headers=headers)  # stored now
    statements = []
    engine = app.extensions["cowin_kit"].db.engine
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        r = client.get(f"{CITIZEN}?beneficiary_reference_id={ref}", headers=headers)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert r.status_code == 200
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 1, statements


@pytest.mark.parametrize("url", [CITIZEN, PUBLIC])
def test_api_bad_and_unknown_ids_and_other_accounts(app, database, client, ana, url,
                                                    cowin_kit_instance):
    ref, headers = ana
    certify(app, database, ref)
    other = api_login(client, cowin_kit_instance, "987000999")
    cases = [
        ({}, headers, 400), ({"beneficiary_reference_id": "12345"}, headers, 400),
        ({"beneficiary_reference_id": "1234567890123x"}, headers, 400),
        ({"beneficiary_reference_id": "١٢٣٤٥٦٧٨٩٠١٢٣٤"}, headers, 400),
        ({"beneficiary_reference_id": "99999999999999"}, headers, 404),
        ({"beneficiary_reference_id": ref}, other, 404),
        ({"beneficiary_reference_id": ref}, {}, 401),
        ({"beneficiary_reference_id": ref}, {"Authorization": "Bearer nope"}, 401),
    ]
    for query, auth, status in cases:
        r = client.get(url, query_string=query, headers={**auth, "Accept-Language": "en"})
        assert r.status_code == status, (query, r.get_json())
        body = r.get_json()
        assert set(body) == {"errorCode", "error"}, body
    unknown = client.get(url, query_string={"beneficiary_reference_id": "99999999999999"},
                         headers=headers).get_json()
    theirs = client.get(url, query_string={"beneficiary_reference_id": ref},
                        headers={**other, "Accept-Language": "en"}).get_json()
    assert unknown == theirs  # another's person: the same answer as nobody


def test_no_certificate_yet_and_revoked(app, database, client, ana):
    from cowin_kit.certificates.models import Certificate
    from cowin_kit.db import utcnow

    ref, headers = ana
    r = client.get(CITIZEN, query_string={"beneficiary_reference_id": ref}, headers=headers)
    assert r.status_code == 404 and r.get_json()["errorCode"] == "CERTIFICATE_NOT_ISSUED"
    assert "recorded" in r.get_json()["error"]
    uvci = certify(app, database, ref)
    with database.Session() as s:
        s.query(Certificate).filter_by(uvci=uvci).one().revoked_at = utcnow()
        s.commit()
    r = client.get(PUBLIC, query_string={"beneficiary_reference_id": ref}, headers=headers)
    assert r.status_code == 404 and r.get_json()["errorCode"] == "CERTIFICATE_REVOKED"


# --- the portal ----------------------------------------------------------------------------

@pytest.fixture
def family(app, database, client, cowin_kit_instance):
    """A portal login whose family has Ana (Spanish, two doses: final) and Luis (no dose):
    their references."""
    web_login(client, cowin_kit_instance)
    ana = register_person(app, database, PERU, name="Ana Quispe", language="es")
    luis = register_person(app, database, PERU, name="Luis Quispe", year=2001,
                           passport="K7654321")
    certify(app, database, ana)
    certify(app, database, ana, number=2, days_ago=5)
    return ana, luis


@pytest.fixture
def ddcc(monkeypatch):
    """cowin_kit.certificates.fhir.ddcc_bundle, as another part of the issue writes it."""
    from cowin_kit.certificates import fhir

    seen = []

    def bundle(person, doses, certificate, *, issuer, country):
        seen.append((person.reference_id, [d.dose_number for d in doses], certificate.uvci,
                     issuer, country))
        return {"resourceType": "Bundle", "type": "document"}
    monkeypatch.setattr(fhir, "ddcc_bundle", bundle, raising=False)
    return seen


def test_family_page_offers_each_format(client, family, english):
    ana, luis = family
    page = client.get("/portal/").get_data(as_text=True)
    for fmt in ("pdf", "html", "qr", "shc", "ddcc"):
        assert f"/portal/certificates/{ana}/{fmt}" in page, fmt
        assert f"/portal/certificates/{luis}/{fmt}" not in page
    assert "Final certificate: the vaccination schedule is complete." in page
    assert "Earlier versions" in page and "Version 1, issued on" in page and "replaced on" in page


def _masked(database, reference) -> str:
    from sqlalchemy import select

    from cowin_kit.registration.models import Beneficiary
    with database.Session() as s:
        return s.scalar(select(Beneficiary.id_number_masked).where(
            Beneficiary.reference_id == reference))


def test_portal_formats(client, database, family, ddcc, counted):
    ana, _ = family
    base = f"/portal/certificates/{ana}"
    pdf = client.get(f"{base}/pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert client.get(f"{base}/pdf").data == pdf.data and len(counted) == 1
    html = client.get(f"{base}/html").get_data(as_text=True)
    assert "<svg" in html and 'lang="es"' in html
    for part in ("Ana Quispe", "Nombre", "Name", "Año de nacimiento", "Year of birth",
                 "URN:UVCI:01:PE:", "FA1234-1", "FA1234-2", _masked(database, ana)):
        assert part in html, part
    assert "K1234567" not in html  # the ID number only masked
    qr_page = client.get(f"{base}/qr").get_data(as_text=True)
    assert "<svg" in qr_page and "EU DCC" in qr_page
    card = client.get(f"{base}/shc")
    assert card.mimetype == "application/smart-health-card"
    assert card.headers["Content-Disposition"].endswith('.smart-health-card"')
    assert list(json.loads(card.data)) == ["verifiableCredential"]
    record = client.get(f"{base}/ddcc")
    assert record.mimetype == "application/fhir+json"
    assert json.loads(record.data) == {"resourceType": "Bundle", "type": "document"}
    assert ddcc == [(ana, [1, 2], ddcc[0][2], "Ministerio de Salud del Perú (MINSA)", "PE")]


def test_portal_refuses_other_accounts_unknown_and_bad(app, database, client, family,
                                                       cowin_kit_instance):
    ana, luis = family
    stranger = register_person(app, database, "+51987000999", name="Rosa Ramos",
                               passport="K5555555")
    certify(app, database, stranger)
    for url in (f"/portal/certificates/{stranger}/pdf", f"/portal/certificates/{luis}/pdf",
                "/portal/certificates/99999999999999/html", "/portal/certificates/x/pdf",
                f"/portal/certificates/{ana}/docx", f"/portal/certificates/{ana}/pdf?programme=x",
                f"/portal/certificates/{ana}/pdf?programme=999999",
                "/portal/certificates/../../etc/pdf"):
        assert client.get(url).status_code == 404, url
    client.post("/portal/logout", data={})  # the CSRF check keeps the login: a new client
    anonymous = app.test_client()
    r = anonymous.get(f"/portal/certificates/{ana}/pdf")
    assert r.status_code == 302 and "/portal/login" in r.headers["Location"]


def test_revoked_certificate_is_shown_without_downloads(app, database, client, family,
                                                        english):
    from cowin_kit.certificates.models import Certificate
    from cowin_kit.db import utcnow

    ana, _ = family
    with database.Session() as s:
        for cert in s.query(Certificate).all():
            cert.revoked_at = utcnow()
        s.commit()
    page = client.get("/portal/").get_data(as_text=True)
    assert "Revoked on" in page and f"/portal/certificates/{ana}/pdf" not in page
    assert "revoked on" in page  # the earlier version too
    assert client.get(f"/portal/certificates/{ana}/pdf").status_code == 404


def test_a_programme_without_eu_dcc_uses_the_smart_health_card_or_no_qr(
        app, database, client, family, english):
    from sqlalchemy import select

    from cowin_kit.programmes.models import Programme

    ana, luis = family
    certify(app, database, ana, product_code="spr", days_ago=3)  # no EU DCC: SHC only
    certify(app, database, luis, product_code="spr", days_ago=3, public_url="")  # no QR
    with database.Session() as s:
        spr = s.scalar(select(Programme.id).where(Programme.code == "spr"))
    page = client.get("/portal/").get_data(as_text=True)
    assert f"/portal/certificates/{ana}/qr?programme={spr}" in page
    # Luis's only certificate: its links need no programme.
    assert f'/portal/certificates/{luis}/pdf"' in page
    assert f"/portal/certificates/{luis}/qr" not in page
    assert f"/portal/certificates/{luis}/shc" not in page
    qr_page = client.get(f"/portal/certificates/{ana}/qr?programme={spr}")
    assert "SMART Health Card" in qr_page.get_data(as_text=True)
    assert "EU DCC" not in qr_page.get_data(as_text=True)
    with_card = client.get(f"/portal/certificates/{ana}/pdf?programme={spr}")
    assert "SMART Health Card QR code" in _text(with_card.data)
    assert b"/Subtype /Image" in with_card.data
    without = client.get(f"/portal/certificates/{luis}/pdf?programme={spr}")
    assert without.status_code == 200 and b"/Subtype /Image" not in without.data
    assert "To check this certificate, go to" in _text(without.data)
    assert client.get(f"/portal/certificates/{luis}/qr?programme={spr}").status_code == 404
    assert client.get(f"/portal/certificates/{luis}/shc?programme={spr}").status_code == 404
    # Without ?programme=, the first programme the person has a certificate of.
    assert client.get(f"/portal/certificates/{luis}/pdf").data == without.data
    assert "Final certificate" in _text(client.get(f"/portal/certificates/{ana}/pdf").data)


def test_an_english_reader_gets_english_only(app, database, client, cowin_kit_instance):
    headers = api_login(client, cowin_kit_instance)
    ref = register_person(app, database, PERU, name="John Smith", language="en")
    certify(app, database, ref)
    text = _text(client.get(CITIZEN, query_string={"beneficiary_reference_id": ref},
                            headers=headers).data)
    assert "Vaccination certificate" in text and "Name" in text and "Nombre" not in text
    assert text.count("Year of birth") == 1


def test_a_store_that_cannot_be_written_still_answers(app, database, client, ana,
                                                       cowin_kit_instance):
    ref, headers = ana
    certify(app, database, ref)
    (cowin_kit_instance / "documents").write_text("not a folder")  # mkdir will fail
    r = client.get(CITIZEN, query_string={"beneficiary_reference_id": ref}, headers=headers)
    assert r.status_code == 200 and r.data.startswith(b"%PDF") and r.headers["ETag"]
