"""Verifying certificates (issue 12, part 3): our own certificates verify with the
instance's trust; truncated, corrupted, re-signed, expired, revoked, foreign and garbage
payloads are each refused with their reason, never an exception; trust lists load from every
form a verifier is given, and a bad trust file is refused naming the file."""
from __future__ import annotations

import base64
import datetime as dt
import json
import zlib
from types import SimpleNamespace

import base45
import cbor2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import select

from cowin_kit.certificates import hc1, keys, shc
from cowin_kit.certificates.revocation import revocation_list, rid, uvci_hash
from cowin_kit.certificates.trust import TrustError, TrustList
from cowin_kit.certificates.verify import MAX_INPUT, REASONS, RevocationList, verify

from helpers import CERTIFICATE_URL, issue_family_certificate, shared_testdata


@pytest.fixture
def issued(app, database, client, cowin_kit_instance):
    cert, ring = issue_family_certificate(app, database, client, cowin_kit_instance)
    return SimpleNamespace(cert=cert, ring=ring,
                           trust=TrustList.from_ring(ring, CERTIFICATE_URL))


def _claims(text: str) -> dict:
    cose = cbor2.loads(zlib.decompress(base45.b45decode(text[4:])))
    return cbor2.loads(cose.value[2])


def _stranger(kid: bytes | None = None):
    """Another key, with a certificate of its own: a signer the instance does not trust.
    ``kid``: the kid it claims (another's, to impersonate it)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "XX"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "Mallory DSC")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=400))
            .not_valid_after(now + dt.timedelta(days=400)).sign(key, hashes.SHA256()))
    return SimpleNamespace(kid=kid or keys.kid_of(cert), private_key=key, certificate=cert,
                           der=cert.public_bytes(serialization.Encoding.DER))


def _hc1(certificate: dict, signer, *, days=(0, 300)) -> str:
    now = dt.datetime.now(dt.UTC)
    return hc1.encode(certificate, signer, country="PE",
                      issued_at=now + dt.timedelta(days=days[0]),
                      expires_at=now + dt.timedelta(days=days[1]))


# --- our own certificates ------------------------------------------------------------------

def test_our_certificate_verifies_in_every_form(issued):
    cert = issued.cert
    result = verify(cert.hc1, issued.trust)
    assert result.valid, (result.reason, result.checks)
    assert (result.format, result.kid, result.issuer, result.reason) == ("hc1", cert.kid, "PE",
                                                                         None)
    assert all(result.checks.values()) and {"signature", "expiry", "key_usage",
                                            "schema"} <= set(result.checks)
    assert result.payload["v"][0]["ci"] == cert.uvci
    assert result.payload["nam"]["fnt"] == "MARIA<QUISPE<NAHUI"
    assert result.issued_at == cert.issued_at.replace(microsecond=0)
    assert result.expires_at == cert.expires_at.replace(microsecond=0)
    json.dumps(result.as_json())  # JSON-safe
    for text in (cert.shc, shc.numeric(cert.shc), shc.file_content(cert.shc).decode()):
        card = verify(text, issued.trust)
        assert card.valid, (card.reason, card.checks)
        assert (card.format, card.issuer) == ("shc", CERTIFICATE_URL)
        assert card.kid == keys.jwk(issued.ring.current)["kid"]
        assert card.payload["vc"]["rid"] == rid(cert.uvci)


def test_the_published_trust_list_verifies_our_certificates(issued, tmp_path):
    exported = tmp_path / "trust-list.json"
    exported.write_text(json.dumps(keys.trust_list(issued.ring)))
    result = verify(issued.cert.hc1, TrustList.load(exported))
    assert (result.valid, result.issuer) == (True, "PE")
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(keys.jwks(issued.ring)))
    assert verify(issued.cert.shc, TrustList.load(jwks, iss=CERTIFICATE_URL)).valid


def test_a_certificate_signed_before_a_key_rotation_still_verifies(issued, cowin_kit_instance):
    keys.rotate(cowin_kit_instance, country="PE", issuer="Minsa")
    ring = keys.load(cowin_kit_instance, country="PE")
    assert len(ring.signers) == 2 and ring.current.kid_b64 != issued.cert.kid
    trust = TrustList.from_ring(ring, CERTIFICATE_URL)
    assert verify(issued.cert.hc1, trust).valid
    assert verify(issued.cert.shc, trust).valid


# --- bad input: each refused with its reason ------------------------------------------------

def test_truncated(issued):
    text = issued.cert.hc1
    cut = 4 + (len(text) - 4) // 2 // 3 * 3  # whole Base45 groups: the compressed data ends
    assert verify(text[:cut], issued.trust).reason == "zlib"
    assert verify(text[:-1], issued.trust).reason in ("base45", "zlib")
    assert verify(issued.cert.shc[:-1], issued.trust).reason == "jws"
    assert verify(shc.numeric(issued.cert.shc)[:-2], issued.trust).reason == "jws"
    assert verify(shc.numeric(issued.cert.shc)[:-1], issued.trust).reason == "shc_numeric"


def test_corrupted(issued):
    cose = cbor2.loads(zlib.decompress(base45.b45decode(issued.cert.hc1[4:])))
    protected, unprotected, payload, signature = cose.value
    changed = payload.replace(b"QUISPE", b"QUISPA")  # the same length: still CBOR
    assert changed != payload
    tampered = cbor2.dumps(cbor2.CBORTag(18, [protected, unprotected, changed, signature]))
    text = "HC1:" + base45.b45encode(zlib.compress(tampered)).decode()
    result = verify(text, issued.trust)
    assert (result.valid, result.reason) == (False, "signature")
    assert result.payload["nam"]["fnt"] == "MARIA<QUISPA<NAHUI"  # shown, but not valid
    # One character of the QR text changed: damaged, whichever step notices.
    middle = len(issued.cert.hc1) // 2
    other = "A" if issued.cert.hc1[middle] != "A" else "B"
    damaged = issued.cert.hc1[:middle] + other + issued.cert.hc1[middle + 1:]
    assert verify(damaged, issued.trust).reason in ("base45", "zlib", "cbor", "signature")
    head, body, sig = issued.cert.shc.split(".")
    flipped = ("B" if sig[0] != "B" else "C") + sig[1:]
    assert verify(f"{head}.{body}.{flipped}", issued.trust).reason == "signature"


def test_re_signed_with_another_key(issued):
    dcc = _claims(issued.cert.hc1)[-260][1]
    kid = base64.b64decode(issued.cert.kid)
    # Another key claiming our kid: the signature does not match our key.
    assert verify(_hc1(dcc, _stranger(kid)), issued.trust).reason == "signature"
    # Another key under its own kid: not in the trust list.
    assert verify(_hc1(dcc, _stranger()), issued.trust).reason == "unknown_kid"
    # A SMART Health Card re-signed by another key, claiming our kid or its own.
    claims = json.loads(zlib.decompress(base64.urlsafe_b64decode(
        issued.cert.shc.split(".")[1] + "=="), -15))
    stranger = _stranger()
    forged = shc.sign(claims, stranger)
    assert verify(forged, issued.trust).reason == "unknown_kid"
    ours = keys.jwk(issued.ring.current)["kid"]
    header = base64.urlsafe_b64encode(json.dumps(
        {"alg": "ES256", "zip": "DEF", "kid": ours}).encode()).rstrip(b"=").decode()
    _, body, sig = forged.split(".")
    assert verify(f"{header}.{body}.{sig}", issued.trust).reason == "signature"


def test_expired_and_not_yet_valid(issued):
    cert = issued.cert
    assert verify(cert.hc1, issued.trust, at=cert.expires_at + dt.timedelta(days=1)).reason \
        == "expired"
    assert verify(cert.hc1, issued.trust, at=cert.issued_at - dt.timedelta(days=1)).reason \
        == "not_yet_valid"
    assert verify(cert.shc, issued.trust, at=cert.issued_at - dt.timedelta(days=1)).reason \
        == "not_yet_valid"
    # A certificate that outlives the key that signed it.
    dcc = _claims(cert.hc1)[-260][1]
    signer = issued.ring.current
    late = _hc1(dcc, signer, days=(0, 3000))
    assert verify(late, issued.trust).reason == "signer_validity"


def test_revoked(issued, database):
    cert = issued.cert
    assert verify(cert.hc1, issued.trust, revoked={uvci_hash(cert.uvci)}).reason == "revoked"
    assert verify(cert.shc, issued.trust, revoked={rid(cert.uvci)}).reason == "revoked"
    assert verify(cert.hc1, issued.trust, revoked={uvci_hash("URN:UVCI:01:PE:X")}).valid
    # As the deployment publishes it, once revoked in the database.
    from cowin_kit.certificates.models import Certificate
    from cowin_kit.db import utcnow

    with database.Session() as s:
        s.scalar(select(Certificate).where(Certificate.id == cert.id)).revoked_at = utcnow()
        s.commit()
        published = RevocationList.from_document(revocation_list(s))
    assert verify(cert.hc1, issued.trust, revoked=published).reason == "revoked"
    assert verify(cert.shc, issued.trust, revoked=published).reason == "revoked"


def test_foreign_and_untrusted(issued):
    testdata = shared_testdata()
    german = json.loads((testdata / "eu-dcc" / "DE" / "2DCode" / "raw" / "1.json").read_text())
    result = verify(german["PREFIX"], issued.trust)
    assert (result.valid, result.reason, result.format) == (False, "unknown_kid", "hc1")
    assert result.payload["nam"]["fn"]  # decoded all the same, for the verifier to see
    assert verify(issued.cert.hc1, TrustList()).reason == "unknown_kid"
    assert verify(issued.cert.shc, TrustList()).reason == "unknown_issuer"
    card = (testdata / "smart-health-cards" / "example-00-d-jws.txt").read_text()
    assert verify(card, issued.trust).reason == "unknown_issuer"


def test_wrong_content_signed_with_our_key(issued):
    """Signed by our key, but not a certificate our key may sign or the schema allows."""
    signer = issued.ring.current
    dcc = _claims(issued.cert.hc1)[-260][1]
    recovery = {**{k: v for k, v in dcc.items() if k != "v"}, "r": [{
        "tg": "840539006", "fr": "2026-01-01", "co": "PE", "is": "Minsa",
        "df": "2026-01-12", "du": "2026-06-30", "ci": "URN:UVCI:01:PE:R"}]}
    assert verify(_hc1(recovery, signer), issued.trust).reason == "key_usage"  # DSC: v only
    unknown_vaccine = {**dcc, "v": [{**dcc["v"][0], "mp": "NOT/A/PRODUCT"}]}
    assert verify(_hc1(unknown_vaccine, signer), issued.trust).reason == "value_set"
    no_birth = {k: v for k, v in dcc.items() if k != "dob"}
    assert verify(_hc1(no_birth, signer), issued.trust).reason == "schema"
    both = {**dcc, "t": [{"tg": "840539006"}]}
    assert verify(_hc1(both, signer), issued.trust).reason == "schema"


def test_a_file_of_cards_is_valid_only_when_every_card_is(issued):
    head, body, sig = issued.cert.shc.split(".")
    bad = f"{head}.{body}.{'B' if sig[0] != 'B' else 'C'}{sig[1:]}"
    assert verify(shc.file_content(issued.cert.shc, issued.cert.shc).decode(),
                  issued.trust).valid
    assert verify(shc.file_content(issued.cert.shc, bad).decode(), issued.trust).reason \
        == "signature"


GARBAGE = [
    ("", "empty"), ("   \n", "empty"), ("hello world", "unknown_format"),
    ("HC1:", "zlib"), ("HC1:%%%%", "base45"), ("HC1:GGW", "base45"), ("HC1:A", "base45"),
    ("HC2:6BFOXN%TS3DH", "hc1_prefix"), ("6BFOXN%TS3DH", "hc1_prefix"),
    ("shc:/", "shc_numeric"), ("shc:/9", "shc_numeric"), ("shc:/99", "shc_numeric"),
    ("shc:/1/2/567629", "shc_chunked"), ("{}", "unknown_format"), ("{", "unknown_format"),
    ('{"verifiableCredential": [1]}', "jws"), ('{"verifiableCredential": []}',
                                              "unknown_format"),
    ("eyJhbGciOiJub25lIn0.e30.", "unknown_format"), ("eyJ.eyJ.eyJ", "jws"),
    ("\x00\ud800", "unknown_format"), (b"\xff\xfe", "unknown_format"), (None, "unknown_format"),
    (12345, "unknown_format"), ("x" * (MAX_INPUT + 1), "too_large"),
    (b"x" * (MAX_INPUT + 1), "too_large"),
]


@pytest.mark.parametrize("text,reason", GARBAGE, ids=lambda v: repr(v)[:30])
def test_garbage_is_refused_with_its_reason(text, reason, issued):
    result = verify(text, issued.trust)
    assert (result.valid, result.reason) == (False, reason)
    assert result.message == REASONS[reason]


def test_hostile_payloads_never_crash():
    trust = TrustList()

    def hc1_of(cbor: bytes) -> str:
        return "HC1:" + base45.b45encode(zlib.compress(cbor, 9)).decode()

    cases = {
        "deep": hc1_of(b"\x81" * 200_000),  # an array in an array in an array …
        "bomb": hc1_of(b"\x00" * (20 * 1024 * 1024)),  # 20 MB of zeros in a few kB
        "huge length": hc1_of(b"\x5b\xff\xff\xff\xff\xff\xff\xff\xff"),  # a 2^64-byte string
        "not sign1": hc1_of(cbor2.dumps(cbor2.CBORTag(18, [1, 2, 3]))),
        "bad protected": hc1_of(cbor2.dumps(cbor2.CBORTag(18, [b"\xff", {}, b"", b""]))),
        "no hcert": hc1_of(cbor2.dumps(cbor2.CBORTag(18, [b"", {}, cbor2.dumps({1: "X"}),
                                                          b""]))),
        "odd hcert": hc1_of(cbor2.dumps([b"", {}, cbor2.dumps({-260: {1: {2: b"x"}}}), b""])),
        "card bomb": "eyJ6aXAiOiJERUYiLCJhbGciOiJFUzI1NiJ9." + base64.urlsafe_b64encode(
            shc.deflate_raw(b"[" * 2_000_000)).rstrip(b"=").decode() + ".AA",
    }
    for name, text in cases.items():
        result = verify(text, trust)
        assert not result.valid and result.reason in REASONS, name
        json.dumps(result.as_json())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(), st.binary(), st.text().map(lambda t: "HC1:" + t),
                 st.text("0123456789").map(lambda t: "shc:/" + t),
                 st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 $%*+-./:").map(
                     lambda t: "HC1:" + t)))
def test_any_input_gives_a_result_never_an_exception(text):
    result = verify(text, TrustList())
    assert result.valid is False and result.reason in REASONS


# --- trust lists -------------------------------------------------------------------------

@pytest.fixture
def ring(cowin_kit_instance):
    return keys.load(cowin_kit_instance, country="PE")


def test_trust_loads_pem_der_gateway_lists_and_jwks(ring, tmp_path, cowin_kit_instance):
    signer = ring.current
    pem = sorted((cowin_kit_instance / "signing").glob("dsc-*[0-9].pem"))[-1]
    der = tmp_path / "dsc.der"
    der.write_bytes(signer.der)
    listed = tmp_path / "list.json"
    listed.write_text(json.dumps([{"kid": signer.kid_b64, "country": "PE",
                                   "rawData": base64.b64encode(signer.der).decode()}]))
    wrapped = tmp_path / "wrapped.json"
    wrapped.write_text(json.dumps({"certificates": keys.trust_list(ring)}))
    for path in (pem, der, listed, wrapped):
        trust = TrustList.load(path)
        [found] = trust.signers_for(signer.kid)
        assert found.country == "PE" and keys.EKU_VACCINATION in found.key_usage, path
    named = tmp_path / "jwks.json"
    named.write_text(json.dumps({**keys.jwks(ring), "iss": CERTIFICATE_URL + "/"}))
    by_name = tmp_path / "https%3A%2F%2Fvacunas.example.gob.json"
    by_name.write_text(json.dumps(keys.jwks(ring)))
    kid = keys.jwk(signer)["kid"]
    for trust in (TrustList.load(named), TrustList.load(by_name),
                  TrustList.load(by_name, iss=CERTIFICATE_URL)):
        assert set(trust.issuer_keys(CERTIFICATE_URL)) == {kid}


def test_trust_loads_every_file_of_a_folder(ring, tmp_path):
    folder = tmp_path / "trust"
    folder.mkdir()
    (folder / "ours.json").write_text(json.dumps(keys.trust_list(ring)))
    (folder / "jwks.json").write_text(json.dumps({**keys.jwks(ring), "iss": CERTIFICATE_URL}))
    (folder / ".gitkeep").write_text("")  # hidden files are not read
    (folder / "sub").mkdir()  # nor sub-folders
    trust = TrustList.load(folder)
    assert trust.signers_for(ring.current.kid) and trust.issuer_keys(CERTIFICATE_URL)
    assert TrustList.from_ring(ring).signers_for(ring.current.kid)


BAD_TRUST = [
    (b"", "the file is empty"),
    (b"hello", "not valid JSON"),
    (b"\xff\xfe\x00garbage", "neither a certificate"),
    (b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "without a CERTIFICATE"),
    (b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "cannot be read"),
    (b"\x30\x03\x02\x01\x01", "not an X.509 certificate"),
    (b'{"a": 1}', "neither a trust list"),
    (b"[1]", "entry 1: not a JSON object"),
    (b'[{"kid": "AAAAAAAAAAA="}]', "entry 1: rawData"),
    (b'[{"rawData": "not base64!"}]', "rawData is not base64"),
    (b'[{"rawData": "AAAA"}]', "not an X.509 certificate"),
    (b'[{"rawData": "MAA=", "kid": 5}]', "kid is not base64"),
    (b'{"keys": []}', "without its issuer"),
    (b'{"keys": {}, "iss": "https://x.example"}', 'needs a "keys" list'),
    (b'{"keys": [], "iss": "ftp://x"}', "not an https:// URL"),
    (b'{"keys": [{"kty": "EC", "crv": "P-256", "x": "AA"}], "iss": "https://x.example"}',
     "keys[0].x is not a P-256"),
    (b'{"keys": [{"kty": "EC", "crv": "P-256", "x": "' + b"A" * 43 + b'", "y": "'
     + b"A" * 43 + b'"}], "iss": "https://x.example"}', "not on the P-256 curve"),
]


@pytest.mark.parametrize("content,fragment", BAD_TRUST, ids=lambda v: repr(v)[:25])
def test_a_bad_trust_file_is_refused_naming_it(content, fragment, tmp_path):
    path = tmp_path / "their-list.json"
    path.write_bytes(content)
    with pytest.raises(TrustError) as refused:
        TrustList.load(path)
    assert str(refused.value).startswith(str(path)), str(refused.value)
    assert fragment in str(refused.value)


def test_missing_trust_paths_are_refused(tmp_path):
    with pytest.raises(TrustError, match="cannot be read"):
        TrustList.load(tmp_path / "nowhere.json")
    (tmp_path / "empty").mkdir()
    with pytest.raises(TrustError, match="holds no trust file"):
        TrustList.load(tmp_path / "empty")


def test_a_card_whose_claims_are_not_plain_json_is_refused(issued):
    """NaN, infinities and numbers beyond a double are not JSON: refused, not passed on."""
    key = issued.ring.current
    for body in (b'{"iss": "x", "nbf": NaN}', b'{"iss": "x", "nbf": 1e400}'):
        signing_input = "eyJ6aXAiOiJERUYiLCJhbGciOiJFUzI1NiIsImtpZCI6IngifQ." + \
            base64.urlsafe_b64encode(shc.deflate_raw(body)).rstrip(b"=").decode()
        der = key.private_key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
        jws = signing_input + "." + base64.urlsafe_b64encode(
            hc1.raw_signature(der)).rstrip(b"=").decode()
        result = verify(jws, issued.trust)
        assert (result.valid, result.reason) == (False, "jws")
        json.dumps(result.as_json(), allow_nan=False)
