"""The verify page in a real browser (Debian's Chromium) on a 360px phone.

- Offline: the page is loaded once, the network is cut, the page reloaded; certificates of
  this deployment are then checked on the phone alone: valid, tampered, revoked (revoked
  before the page was loaded: the revocation list it kept says so), a foreign one signed by a
  key this deployment does not trust, a SMART Health Card.
- The check itself (static/verify.js) on every EU DCC test vector (with the vector's signer
  and clock), on the vectors' QR pictures (jsQR), and on the SMART Health Cards examples with
  their issuer's keys.
- Uploads: a picture of the QR code, a .smart-health-card file.
- Screenshots in Spanish and Arabic (right to left) of a valid and a refused certificate go to
  $COWIN_KIT_SCREENSHOTS (look at them).
"""
import base64
import csv
import hashlib
import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from playwright.sync_api import expect

from helpers import (
    issue_certificate,
    member_id,
    revoke_certificate,
    shared_testdata,
    tampered_hc1,
    web_login,
)

PHONE = {"width": 360, "height": 740}
TESTDATA = shared_testdata()
EU_DCC = TESTDATA / "eu-dcc"
SHC = TESTDATA / "smart-health-cards"

# Each expectation of a vector, and the check of verify.js that answers it.
EXPECTATIONS = {
    "EXPECTEDUNPREFIX": "prefix", "EXPECTEDB45DECODE": "base45",
    "EXPECTEDCOMPRESSION": "zlib", "EXPECTEDDECODE": "cose", "EXPECTEDVERIFY": "signature",
    "EXPECTEDEXPIRATIONCHECK": "expiry", "EXPECTEDKEYUSAGE": "keyUsage",
    "EXPECTEDSCHEMAVALIDATION": "schema",
}
# known_issues.csv's test names, as the expectation they concern.
KNOWN_ISSUE_TESTS = {"test_verification_check": "EXPECTEDVERIFY",
                     "test_expiration_check": "EXPECTEDEXPIRATIONCHECK",
                     "test_expected_key_usage": "EXPECTEDKEYUSAGE",
                     "test_cose_schema": "EXPECTEDSCHEMAVALIDATION"}


@pytest.fixture
def cowin_kit_config():
    return {"OTP_RESEND_SECONDS": 0, "LANGUAGES": ["es", "ar", "en"]}


def _trust_entry(der_b64: str) -> list[dict]:
    """A vector's signer as a trust list entry (what /certificates/trust-list.json holds)."""
    from cowin_kit.certificates import keys

    try:
        der = base64.b64decode(der_b64)
        cert = x509.load_der_x509_certificate(der)
        spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                              serialization.PublicFormat.SubjectPublicKeyInfo)
    except (ValueError, TypeError):
        return []
    try:
        usages = keys.key_usages(cert)
    except ValueError:  # an empty extended key usage (cryptography refuses to parse it)
        usages = []
    return [{"kid": base64.b64encode(hashlib.sha256(der).digest()[:8]).decode(),
             "country": "XX", "publicKey": base64.b64encode(spki).decode(),
             "keyUsage": usages,
             "notBefore": cert.not_valid_before_utc.isoformat(),
             "notAfter": cert.not_valid_after_utc.isoformat()}]


def _known_issues() -> set[tuple[str, str, str]]:
    with open(EU_DCC / "known_issues.csv", newline="") as f:
        return {(row["country"], row["test_set"], KNOWN_ISSUE_TESTS.get(row["test_name"], ""))
                for row in csv.DictReader(f)}


def _vectors() -> list[dict]:
    known = _known_issues()
    vectors = []
    for path in sorted(EU_DCC.glob("*/2DCode/raw/*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        country, name = path.parts[-4], path.stem
        expected = {k: v for k, v in (data.get("EXPECTEDRESULTS") or {}).items()
                    if k in EXPECTATIONS and (country, name, k) not in known
                    and (country, "", k) not in known}
        ctx = data.get("TESTCTX") or {}
        vectors.append({"name": f"{country}/{name}", "text": data.get("PREFIX") or "",
                        "trust": _trust_entry(ctx.get("CERTIFICATE") or ""),
                        "clock": ctx.get("VALIDATIONCLOCK") or "2021-06-01T00:00:00Z",
                        "expected": expected, "picture": data.get("2DCODE") or "",
                        "pictureExpected": data.get("EXPECTEDRESULTS", {}).get(
                            "EXPECTEDPICTUREDECODE")})
    return vectors


@pytest.fixture
def phone(browser):
    contexts = []

    def open_page(locale="en", **options):
        context = browser.new_context(viewport=PHONE, locale=locale, **options)
        contexts.append(context)
        return context, context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def _verdict(page):
    page.wait_for_function(
        "() => document.getElementById('verdict').getAttribute('data-state') === 'done'")
    return page.locator("#verdict .verdict").first


def _text(locator) -> str:
    """What the reader sees, without the direction isolates around filled-in values."""
    return locator.inner_text().replace("\u2068", "").replace("\u2069", "")


def _check(page, text):
    page.evaluate("() => document.getElementById('verdict').removeAttribute('data-state')")
    page.locator("#text").fill(text)
    page.locator("#check-button").click()
    return _verdict(page)


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


# --- offline, with this deployment's certificates ---------------------------------------------

@pytest.fixture
def certificates(app, client, cowin_kit_instance, live_url):
    """Three people's certificates (a SMART Health Card too, for this server's address); the
    third revoked."""
    web_login(client, cowin_kit_instance)
    valid = issue_certificate(app, member_id(client, "45678912", name="Mária Quispe-Ñahui"),
                              public_url=live_url)
    other = issue_certificate(app, member_id(client, "10117410", name="Luis Quispe"),
                              public_url=live_url)
    revoked = issue_certificate(app, member_id(client, "20304050", name="Rosa Mamani"),
                                public_url=live_url)
    revoke_certificate(app, revoked.id)
    return valid, other, revoked


def _load_for_offline(page, url):
    page.goto(url)
    page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    # The page, and the three lists, are kept.
    page.wait_for_function("""() => caches.open('cowin-kit-verify-v1').then(c => Promise.all(
        ['/verify', '/certificates/trust-list.json', '/certificates/revocation-list.json',
         '/.well-known/jwks.json'].map(u => c.match(u, {ignoreVary: true}))))
        .then(hits => hits.every(Boolean))""")
    page.evaluate("() => window.CowinVerify.ready")


def test_offline_the_phone_checks_valid_tampered_revoked_and_foreign_certificates(
        app, phone, live_url, shots, certificates):
    valid, other, revoked = certificates
    context, page = phone("en")
    _load_for_offline(page, f"{live_url}/verify?lang=en")
    expect(page.locator("#trust-status")).to_contain_text("Trust list from")

    context.set_offline(True)
    page.reload()
    page.evaluate("() => window.CowinVerify.ready")
    assert page.evaluate("navigator.onLine") is False
    expect(page.locator("#trust-status")).to_contain_text(
        "No connection: using the trust list saved on this device")

    verdict = _check(page, valid.hc1)
    expect(verdict).to_have_class("verdict verdict-valid")
    text = _text(verdict)
    assert "Valid" in text and "Mária Quispe-Ñahui" in text and "Dose 1 of 2" in text
    assert "Comirnaty" in text and "Peru" in text and valid.uvci in text
    assert _fits(page)

    verdict = _check(page, tampered_hc1(valid.hc1))
    expect(verdict).to_have_class("verdict verdict-invalid")
    assert "The signature does not match" in _text(verdict)
    assert "Someone" not in _text(verdict)

    verdict = _check(page, revoked.hc1)
    expect(verdict).to_have_class("verdict verdict-invalid")
    assert "The issuer has revoked this certificate" in _text(verdict)

    foreign = json.loads((EU_DCC / "AT/2DCode/raw/1.json").read_text())["PREFIX"]
    verdict = _check(page, foreign)
    assert "is not on this verifier's trust list" in _text(verdict)
    assert "country" not in _text(verdict.locator(".verdict-reason"))

    from cowin_kit.certificates import shc
    verdict = _check(page, shc.numeric(other.shc))
    expect(verdict).to_have_class("verdict verdict-valid")
    assert "Luis Quispe" in _text(verdict)
    verdict = _check(page, shc.numeric(revoked.shc))
    assert "The issuer has revoked this certificate" in _text(verdict)

    for bad, reason in [("", "Nothing to check"), ("hello", "This is not a vaccination"),
                        (valid.hc1[:60], "damaged or incomplete"),
                        ("HC1:" + "A" * 7, "damaged or incomplete"),
                        ("shc:/" + "99" * 40, "damaged or incomplete"),
                        ("shc:/1/2/5676", "part 1 of 2")]:
        verdict = _check(page, bad)
        expect(verdict).to_have_class("verdict verdict-invalid")
        assert reason in _text(verdict), (bad, _text(verdict))


def test_screenshots_in_spanish_and_arabic(app, phone, live_url, shots, certificates):
    valid, other, revoked = certificates
    for lang in ("es", "ar"):
        context, page = phone(lang)
        _load_for_offline(page, f"{live_url}/verify?lang={lang}")
        context.set_offline(True)
        page.reload()
        page.evaluate("() => window.CowinVerify.ready")
        verdict = _check(page, valid.hc1)
        expect(verdict).to_have_class("verdict verdict-valid")
        assert page.evaluate("document.documentElement.dir") == ("rtl" if lang == "ar" else "ltr")
        assert _fits(page)
        page.screenshot(path=str(shots / f"verify-{lang}-valid.png"), full_page=True)
        verdict = _check(page, revoked.hc1)
        expect(verdict).to_have_class("verdict verdict-invalid")
        assert _fits(page)
        page.screenshot(path=str(shots / f"verify-{lang}-revoked.png"), full_page=True)


def test_a_picture_of_the_qr_code_and_a_card_file_are_checked(app, phone, live_url, tmp_path,
                                                              certificates):
    import segno

    from cowin_kit.certificates import shc

    valid, other, revoked = certificates
    context, page = phone("en")
    page.goto(f"{live_url}/verify")
    page.evaluate("() => window.CowinVerify.ready")
    picture = tmp_path / "certificate.png"
    segno.make(valid.hc1, error="q").save(str(picture), scale=4, border=4)
    page.evaluate("() => document.getElementById('verdict').removeAttribute('data-state')")
    page.locator("#file").set_input_files(str(picture))
    verdict = _verdict(page)
    expect(verdict).to_have_class("verdict verdict-valid")
    assert "Mária Quispe-Ñahui" in _text(verdict)

    card = tmp_path / "card.smart-health-card"
    card.write_bytes(shc.file_content(other.shc, revoked.shc))
    page.evaluate("() => document.getElementById('verdict').removeAttribute('data-state')")
    page.locator("#file").set_input_files(str(card))
    _verdict(page)
    results = page.locator("#verdict .verdict")
    expect(results).to_have_count(2)
    expect(results.nth(0)).to_have_class("verdict verdict-valid")
    assert "The issuer has revoked" in _text(results.nth(1))

    blank = tmp_path / "blank.png"
    blank.write_bytes(base64.b64decode(  # a 1x1 white PNG: no code in it
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGP4DwABAQEAWk1v8QAAAABJRU5ErkJggg=="))
    page.evaluate("() => document.getElementById('verdict').removeAttribute('data-state')")
    page.locator("#file").set_input_files(str(blank))
    assert "No QR code was found in the picture" in _text(_verdict(page))


def _camera_file(path: Path, text: str) -> Path:
    """A Y4M video (what Chromium's fake camera plays) of the QR code of ``text``."""
    import segno

    matrix = segno.make(text, error="q").matrix
    scale, border = 4, 4
    size = (len(matrix) + 2 * border) * scale
    size += size % 2
    luma = bytearray(b"\xff" * size * size)
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                for dy in range(scale):
                    start = ((y + border) * scale + dy) * size + (x + border) * scale
                    luma[start:start + scale] = b"\x00" * scale
    chroma = b"\x80" * ((size // 2) * (size // 2) * 2)
    frame = b"FRAME\n" + bytes(luma) + chroma
    path.write_bytes(f"YUV4MPEG2 W{size} H{size} F5:1 Ip A1:1 C420jpeg\n".encode() + frame * 5)
    return path


def test_scanning_with_the_camera(browser, live_url, tmp_path, certificates):
    """Chromium's fake camera shows a certificate's QR code; the page reads it and checks."""
    import shutil

    valid, other, revoked = certificates
    video = _camera_file(tmp_path / "camera.y4m", valid.hc1)
    with_camera = browser.browser_type.launch(
        executable_path=shutil.which("chromium") or "/usr/bin/chromium", args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}"])
    try:
        context = with_camera.new_context(viewport=PHONE, locale="en", permissions=["camera"])
        page = context.new_page()
        page.goto(f"{live_url}/verify")
        page.evaluate("() => window.CowinVerify.ready")
        button = page.get_by_role("button", name="Scan with the camera")
        expect(button).to_be_visible()
        button.click()
        verdict = _verdict(page)
        expect(verdict).to_have_class("verdict verdict-valid")
        assert "Mária Quispe-Ñahui" in _text(verdict)
        expect(page.locator("#camera-view")).to_be_hidden()  # the camera is off again
        assert page.locator("#text").input_value() == valid.hc1
    finally:
        with_camera.close()


# --- the check itself, on public test data -----------------------------------------------------

def test_every_eu_dcc_vector_gets_its_expected_result_in_the_browser(phone, live_url):
    vectors = _vectors()
    assert len(vectors) > 100
    context, page = phone("en")
    page.goto(f"{live_url}/verify")
    results = page.evaluate("""async (vectors) => {
        const out = [];
        for (const v of vectors) {
            const r = await window.CowinVerify.verify(v.text, {dsc: v.trust, revocation: {}},
                                                      {now: new Date(v.clock), skew: 0});
            out.push({name: v.name, valid: r.valid, reason: r.reason, checks: r.checks || {}});
        }
        return out;
    }""", [{k: v for k, v in vector.items() if k != "picture"} for vector in vectors])
    wrong, asserted = [], 0
    for vector, result in zip(vectors, results, strict=True):
        for key, expected in vector["expected"].items():
            asserted += 1
            got = result["checks"].get(EXPECTATIONS[key])
            ok = got is True if expected else (got is not True and not result["valid"])
            if not ok:
                wrong.append((vector["name"], key, expected, result))
    assert not wrong, wrong
    assert asserted > 300
    valid = [r for r in results if r["valid"]]
    assert {"common/CO1", "common/CO3", "common/CO28", "AT/1"} <= {r["name"] for r in valid}


def test_the_vectors_qr_pictures_are_read_in_the_browser(phone, live_url):
    vectors = [v for v in _vectors() if v["picture"] and v["pictureExpected"] is not None]
    assert len(vectors) > 50
    context, page = phone("en")
    page.goto(f"{live_url}/verify")
    decoded = page.evaluate("""async (vectors) => {
        const out = [];
        for (const v of vectors) {
            const bytes = Uint8Array.from(atob(v.picture), c => c.charCodeAt(0));
            out.push(await window.CowinVerify.decodeImage(new Blob([bytes], {type: 'image/png'})));
        }
        return out;
    }""", [{"picture": v["picture"]} for v in vectors])
    wrong = [(v["name"], v["pictureExpected"], text) for v, text in zip(vectors, decoded,
                                                                           strict=True)
             if (text == v["text"]) != v["pictureExpected"]]
    assert not wrong, wrong


def test_the_smart_health_card_examples_verify_with_their_issuers_keys(phone, live_url):
    jwks = json.loads((SHC / "issuer/.well-known/jwks.json").read_text())
    issuer = "https://spec.smarthealth.cards/examples/issuer"
    texts = []
    for n in ("00", "01"):
        texts.append((SHC / f"example-{n}-f-qr-code-numeric-value-0.txt").read_text().strip())
        texts.append((SHC / f"example-{n}-d-jws.txt").read_text().strip())
    context, page = phone("en")
    page.goto(f"{live_url}/verify")
    results = page.evaluate("""async ([texts, issuer, jwks]) => {
        const trusted = {dsc: [], issuers: {[issuer]: {keys: jwks.keys, rids: []}}};
        const out = [];
        for (const t of texts) {
            const r = await window.CowinVerify.verify(t, trusted, {});
            const u = await window.CowinVerify.verify(t, {dsc: [], issuers: {}}, {});
            const bent = t.startsWith('shc:/') ? t
                : t.slice(0, -3) + (t.endsWith('A') ? 'BBB' : 'AAA');
            const b = await window.CowinVerify.verify(bent, trusted, {});
            out.push([r.valid, r.summary && r.summary.name, u.reason, b.valid]);
        }
        return out;
    }""", [texts, issuer, jwks])
    for valid, name, untrusted_reason, _bent in results:
        assert valid and name == "Anyperson, John B." and untrusted_reason == "untrusted"
    assert [bent for *_, bent in results][1::2] == [False, False]
    # A card in two QR codes (the older chunked form): both parts, in any order, verify.
    digits = texts[0].removeprefix("shc:/")
    half = len(digits) // 4 * 2
    parts = [f"shc:/2/2/{digits[half:]}", f"shc:/1/2/{digits[:half]}"]
    chunked = page.evaluate("""async ([parts, issuer, jwks]) => {
        const trusted = {dsc: [], issuers: {[issuer]: {keys: jwks.keys, rids: []}}};
        const both = await window.CowinVerify.verify(parts.join('\\n'), trusted, {});
        const one = await window.CowinVerify.verify(parts[1], trusted, {});
        return [both.valid, one.reason, one.params];
    }""", [parts, issuer, jwks])
    assert chunked == [True, "part", {"part": "1", "total": 2}]


def test_without_javascript_the_server_checks(app, phone, live_url, certificates):
    pytest.importorskip("cowin_kit.certificates.verify")
    valid, other, revoked = certificates
    context, page = phone("en", java_script_enabled=False)
    page.goto(f"{live_url}/verify")
    page.locator("#text").fill(valid.hc1)
    page.locator("#check-button").click()
    expect(page.locator(".verdict")).to_have_class("verdict verdict-valid")
    assert "Mária Quispe-Ñahui" in _text(page.locator(".verdict"))
    page.locator("#text").fill(revoked.hc1)
    page.locator("#check-button").click()
    expect(page.locator(".verdict")).to_have_class("verdict verdict-invalid")
