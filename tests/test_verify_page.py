"""The public verify page over HTTP: the lists verifiers download (trust list, revocation
list, SMART Health Cards keys), the page and its service worker, the form without JavaScript
(the server's verifier answers, or a reason when it cannot), and the certificate verifier's
menu. The checks in the browser are in test_verify_browser.py."""
import io
import json
import re
import sys
import types
from dataclasses import dataclass

import pytest

from helpers import (
    STAFF_PASSWORD,
    csrf,
    issue_certificate,
    make_user,
    member_id,
    revoke_certificate,
    staff_login,
    tampered_hc1,
    web_login,
)


@pytest.fixture
def cowin_kit_config():
    return {"OTP_RESEND_SECONDS": 0, "LANGUAGES": ["es", "ar", "en"]}


@pytest.fixture
def certificate(app, client, cowin_kit_instance):
    web_login(client, cowin_kit_instance)
    return issue_certificate(app, member_id(client, "45678912", name="Mária Quispe-Ñahui"),
                             public_url="https://vacunas.example.gob")


def _config(page: str) -> dict:
    import html

    raw = re.search(r'id="verify-app" data-config="([^"]*)"', page).group(1)
    return json.loads(html.unescape(raw))


# --- the lists ---------------------------------------------------------------------------------

def test_the_trust_list_names_each_signer_with_its_public_key(app, client):
    from cowin_kit.certificates import issuing

    r = client.get("/certificates/trust-list.json")
    assert r.status_code == 200 and r.mimetype == "application/json"
    ring = issuing.ring_for(app.extensions["cowin_kit"].settings)
    [entry] = r.get_json()
    assert entry["kid"] == ring.current.kid_b64 and entry["country"] == "PE"
    assert entry["publicKey"] and entry["rawData"]
    assert "1.3.6.1.4.1.1847.2021.1.2" in entry["keyUsage"]
    assert r.headers["Cache-Control"] == "public, max-age=300"
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    again = client.get("/certificates/trust-list.json",
                       headers={"If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304 and not again.data


def test_the_revocation_list_holds_hashes_of_revoked_certificates_only(app, client,
                                                                      certificate):
    from cowin_kit.certificates.revocation import rid, uvci_hash

    before = client.get("/certificates/revocation-list.json")
    assert before.get_json()["hashType"] == "UCI"
    assert (before.get_json()["hashes"], before.get_json()["rids"]) == ([], [])
    revoke_certificate(app, certificate.id)
    after = client.get("/certificates/revocation-list.json",
                       headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and after.headers["ETag"] != before.headers["ETag"]
    listed = after.get_json()
    assert listed["hashes"] == [uvci_hash(certificate.uvci)]
    assert listed["rids"] == [rid(certificate.uvci)]
    assert certificate.uvci.encode() not in after.data


def test_the_jwks_holds_the_smart_health_card_keys(app, client, certificate):
    from cowin_kit.certificates import keys

    r = client.get("/.well-known/jwks.json")
    assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == "*"
    [key] = r.get_json()["keys"]
    header = json.loads(__import__("base64").urlsafe_b64decode(
        certificate.shc.split(".")[0] + "=="))
    assert key["kid"] == header["kid"] and key["alg"] == "ES256" and "d" not in key
    ours = keys.jwks(keys.from_settings(app.extensions["cowin_kit"].settings))["keys"][0]
    assert (key["x"], key["y"], key["crv"]) == (ours["x"], ours["y"], "P-256")


def test_without_signing_keys_the_lists_say_so(app, client, cowin_kit_instance):
    import shutil

    from cowin_kit.certificates import issuing

    shutil.rmtree(cowin_kit_instance / "signing")
    issuing._rings.clear()
    try:
        r = client.get("/certificates/trust-list.json")
        assert r.status_code == 503 and r.get_json()["error"]
        assert client.get("/.well-known/jwks.json").status_code == 503
        assert client.get("/verify").status_code == 200
    finally:
        issuing._rings.clear()


# --- the page ----------------------------------------------------------------------------------

def test_the_page_carries_its_words_and_lists_and_runs_no_inline_code(client):
    r = client.get("/verify?lang=es")
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert "Content-Security-Policy" in r.headers
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    # Every script is a file of this site; no inline code, no inline handlers.
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page)
    assert not re.search(r"\son[a-z]+=", page)
    assert "/static/verify.js" in page and "/static/vendor/jsQR.min.js" in page
    config = _config(page)
    assert config["trustUrl"] == "/certificates/trust-list.json"
    assert config["revocationUrl"] == "/certificates/revocation-list.json"
    assert config["jwksUrl"] == "/.well-known/jwks.json"
    assert config["issuer"] == "http://localhost"  # no PUBLIC_URL: this host
    assert config["serviceWorker"] == "/verify/sw.js" and config["scope"] == "/verify"
    assert config["products"]["EU/1/20/1528"]
    messages = config["messages"]
    assert {"valid", "invalid", "revoked", "signature", "untrusted", "expired", "damaged",
            "no_trust", "trust_date"} <= set(messages)
    assert '<html lang="es" dir="ltr">' in page
    assert 'name="csrf_token"' in page and 'enctype="multipart/form-data"' in page


def test_the_page_in_arabic_is_right_to_left(client):
    page = client.get("/verify?lang=ar").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page


@pytest.mark.parametrize("cowin_kit_config", [{"PUBLIC_URL": "https://vacunas.example.gob",
                                               "LANGUAGES": ["es", "en"]}])
def test_smart_health_cards_are_checked_for_the_public_address(client):
    config = _config(client.get("/verify").get_data(as_text=True))
    assert config["issuer"] == "https://vacunas.example.gob"


def test_the_service_worker_may_keep_the_page(client):
    r = client.get("/verify/sw.js")
    assert r.status_code == 200 and r.mimetype == "text/javascript"
    assert r.headers["Service-Worker-Allowed"] == "/verify"
    body = r.get_data(as_text=True)
    for path in ("../certificates/trust-list.json", "../certificates/revocation-list.json",
                 "../.well-known/jwks.json", "verify.js", "vendor/jsQR.min.js"):
        assert path in body


def test_the_vendored_qr_reader_comes_with_its_licence(client):
    r = client.get("/static/vendor/jsQR.min.js")
    assert r.status_code == 200 and b"jsQR 1.4.0" in r.data[:200] and b"Apache-2.0" in r.data[:200]
    assert b"Apache License" in client.get("/static/vendor/jsQR-LICENSE.txt").data


# --- the form without JavaScript -------------------------------------------------------------

def _post(client, lang="en", **fields):
    page = client.get(f"/verify?lang={lang}").get_data(as_text=True)
    return client.post("/verify", data={"csrf_token": csrf(page), **fields},
                       content_type="multipart/form-data")


def test_nothing_to_check_says_so(client):
    r = _post(client, text="   ")
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert "verdict-invalid" in page and "Nothing to check" in page


def test_a_picture_needs_the_script(client):
    png = io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    r = _post(client, file=(png, "qr.png", "image/png"))
    assert "Pictures of QR codes are read by the page" in r.get_data(as_text=True)


def test_an_unreadable_file_is_refused_with_a_reason(client):
    r = _post(client, file=(io.BytesIO(b"\xff\xfe\x00bad"), "card.smart-health-card", ""))
    assert "The file could not be read" in r.get_data(as_text=True)
    r = _post(client, file=(io.BytesIO(b'{"verifiableCredential": 3}'), "x.smart-health-card",
                            "application/smart-health-card"))
    assert "The file could not be read" in r.get_data(as_text=True)


def test_a_stale_form_is_shown_again_with_the_reason(client):
    client.get("/verify?lang=en")
    r = client.post("/verify", data={"text": "HC1:ABC", "csrf_token": "stale"})
    assert r.status_code == 400
    page = r.get_data(as_text=True)
    assert "The form expired" in page and "HC1:ABC" in page


def test_without_the_server_verifier_the_page_says_to_use_the_script(client, monkeypatch,
                                                                     certificate):
    monkeypatch.setitem(sys.modules, "cowin_kit.certificates.verify", None)  # ImportError
    r = _post(client, text=certificate.hc1)
    assert r.status_code == 200
    assert "The server cannot check certificates at the moment" in r.get_data(as_text=True)


@dataclass
class _Result:
    """What cowin_kit.certificates.verify.verify returns (its fields the page reads)."""

    valid: bool
    format: str = "hc1"
    kid: str = ""
    issuer: str = "PE"
    reason: str = ""
    payload: object = None
    issued_at: object = None
    expires_at: object = None
    message: str = ""


@pytest.fixture
def fake_verifier(monkeypatch):
    """Stand-ins for cowin_kit.certificates.verify and .trust (the server's verifier, from
    another branch): the answer is the test's, and what it was given is recorded."""
    verify_module = types.ModuleType("cowin_kit.certificates.verify")
    trust_module = types.ModuleType("cowin_kit.certificates.trust")

    class TrustList:
        def __init__(self, ring=None, iss=""):
            self.ring, self.iss = ring, iss

        @classmethod
        def from_ring(cls, ring, public_url=""):
            return cls(ring, public_url)

    class RevocationList(frozenset):
        @classmethod
        def from_document(cls, document):
            return cls([*document["hashes"], *document["rids"]])

    def verify(text, trust, *, at=None, revoked=None):
        verify_module.calls.append((text, trust, revoked))
        return verify_module.answer

    verify_module.calls, verify_module.answer = [], None
    verify_module.verify, verify_module.RevocationList = verify, RevocationList
    trust_module.TrustList = TrustList
    monkeypatch.setitem(sys.modules, "cowin_kit.certificates.verify", verify_module)
    monkeypatch.setitem(sys.modules, "cowin_kit.certificates.trust", trust_module)
    return verify_module


def test_the_server_verifier_gets_the_text_the_keys_and_the_revocation_list(client, app,
                                                                           certificate,
                                                                           fake_verifier):
    import datetime as dt

    from cowin_kit.certificates import issuing
    from cowin_kit.certificates.revocation import uvci_hash

    dcc = {"ver": "1.3.0", "nam": {"fn": "Mária Quispe-Ñahui", "fnt": "MARIA<QUISPE<NAHUI"},
           "dob": "1980", "v": [{"dn": 1, "sd": 2, "mp": "EU/1/20/1528", "dt": "2026-01-05",
                                 "co": "PE", "is": "Ministerio de Salud", "ci": certificate.uvci}]}
    fake_verifier.answer = _Result(True, payload=dcc,
                                   expires_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    page = _post(client, text=certificate.hc1).get_data(as_text=True)
    text, trust, revoked = fake_verifier.calls[-1]
    assert text == certificate.hc1 and revoked == set()
    assert trust.ring is issuing.ring_for(app.extensions["cowin_kit"].settings)
    assert trust.iss == "http://localhost"  # the cards' iss: this host without PUBLIC_URL
    assert "verdict-valid" in page and "Mária Quispe-Ñahui" in page
    assert "Dose 1 of 2" in page and "Comirnaty" in page and "Peru" in page
    assert certificate.uvci in page and "January 5, 2026" in page
    assert "Valid until" in page and "January 1, 2030" in page
    revoke_certificate(app, certificate.id)
    _post(client, text=certificate.hc1)
    assert uvci_hash(certificate.uvci) in fake_verifier.calls[-1][2]


@pytest.mark.parametrize(("reason", "expected"), [
    ("revoked", "The issuer has revoked this certificate"),
    ("signature", "The signature does not match"),
    ("unknown_kid", "is not on this verifier"),
    ("unknown_issuer", "is not on this verifier"),
    ("expired", "The certificate expired on January 1, 2030"),
    ("base45", "The code is damaged or incomplete"),
    ("hc1_prefix", "This is not a vaccination certificate"),
    ("key_usage", "may not sign this kind of certificate"),
    ("signer_validity", "was not valid on the day it was signed"),
    ("schema", "holds no vaccination certificate in a form"),
])
def test_the_server_verifiers_reasons_in_the_pages_words(client, fake_verifier, reason,
                                                         expected):
    import datetime as dt

    fake_verifier.answer = _Result(False, reason=reason, message=reason,
                                   payload={"nam": {"fn": "Mária"}},
                                   expires_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    page = _post(client, text="HC1:XYZ").get_data(as_text=True)
    assert "verdict-invalid" in page and expected in page
    assert "Mária" not in page  # nothing of an invalid certificate is shown as fact


def test_an_unknown_reason_is_shown_as_the_verifier_says_it(client, fake_verifier):
    fake_verifier.answer = _Result(False, reason="weird", message="Something unusual.")
    page = _post(client, lang="es", text="HC1:XYZ").get_data(as_text=True)
    assert "verdict-invalid" in page and "Something unusual." in page


def test_a_verifier_failure_is_not_a_server_error(client, fake_verifier):
    def broken(*args, **kwargs):
        raise RuntimeError("bug")

    fake_verifier.verify = broken
    r = _post(client, text="HC1:XYZ")
    assert r.status_code == 200
    assert "The server cannot check certificates" in r.get_data(as_text=True)


def test_a_card_file_and_a_bare_jws_are_checked_as_their_qr_text(client, certificate,
                                                                 fake_verifier):
    from cowin_kit.certificates import shc

    fake_verifier.answer = _Result(False, format="shc", reason="revoked")
    _post(client, file=(io.BytesIO(shc.file_content(certificate.shc)), "c.smart-health-card",
                        "application/smart-health-card"))
    _post(client, text=certificate.shc)
    assert [c[0] for c in fake_verifier.calls] == [shc.numeric(certificate.shc)] * 2


def test_the_server_checks_for_real_when_its_verifier_is_installed(client, app, certificate):
    pytest.importorskip("cowin_kit.certificates.verify")
    page = _post(client, text=certificate.hc1).get_data(as_text=True)
    assert "verdict-valid" in page and "Mária Quispe-Ñahui" in page
    page = _post(client, text=tampered_hc1(certificate.hc1)).get_data(as_text=True)
    assert "verdict-invalid" in page
    revoke_certificate(app, certificate.id)
    page = _post(client, text=certificate.hc1).get_data(as_text=True)
    assert "verdict-invalid" in page and "revoked" in page


# --- the verifier's menu -----------------------------------------------------------------------

def test_a_certificate_verifier_lands_on_the_verify_page(client, database):
    make_user(database, "checker@example.org", "verifier")
    assert staff_login(client, "checker@example.org", STAFF_PASSWORD).status_code == 302
    r = client.get("/staff/")
    assert r.status_code == 302 and r.headers["Location"].endswith("/verify")
    page = client.get("/staff/password?lang=en").get_data(as_text=True)
    assert 'href="/verify"' in page and "Check certificates" in page


def test_other_staff_have_no_verify_link(admin):
    page = admin.get("/staff/password").get_data(as_text=True)
    assert 'href="/verify"' not in page
