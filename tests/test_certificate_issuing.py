"""Issuing: recording a dose (re)issues the person's certificate, signed with the
instance's document signing key, in the formats other countries verify."""
import base64
import datetime as dt
import json
import zlib

import base45
import cbor2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from sqlalchemy import select

from helpers import TODAY, add_member, web_login


def _der(raw: bytes) -> bytes:
    return encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))


@pytest.fixture
def person(app, database, client, cowin_kit_instance):
    web_login(client, cowin_kit_instance)
    add_member(client, "45678912", name="Mária Quispe-Ñahui", year="1980")
    from cowin_kit.registration.models import Beneficiary
    with database.Session() as s:
        return s.scalar(select(Beneficiary.id).order_by(Beneficiary.id.desc()))


def _record(app, database, person_id, number, days_ago):
    from cowin_kit.certificates import issuing
    from cowin_kit.programmes.models import Product
    from cowin_kit.vaccination.service import record_dose

    dep = app.extensions["cowin_kit"]
    with database.Session() as s:
        ctx = issuing.context_for(dep.settings, dep.profile)
        ctx = issuing.IssuingContext(ctx.country, ctx.issuer, ctx.ring,
                                     public_url="https://vacunas.example.gob")
        product = s.scalar(select(Product).where(Product.code == "comirnaty"))
        record_dose(s, beneficiary_id=person_id, product=product, dose_number=number,
                    given_on=TODAY - dt.timedelta(days=days_ago), certificates=ctx)
        s.commit()
        return ctx.ring


def _certificates(database, person_id):
    from cowin_kit.certificates.models import Certificate
    with database.Session() as s:
        rows = s.scalars(select(Certificate).where(Certificate.beneficiary_id == person_id)
                         .order_by(Certificate.version)).all()
        s.expunge_all()
        return rows


def test_each_dose_issues_a_new_version_provisional_then_final(app, database, person):
    _record(app, database, person, 1, 40)
    [first] = _certificates(database, person)
    assert (first.version, first.status, first.doses) == (1, "provisional", 1)
    assert first.uvci.startswith("URN:UVCI:01:PE:") and first.superseded_at is None
    _record(app, database, person, 2, 10)
    first, second = _certificates(database, person)
    assert (second.version, second.status, second.doses) == (2, "final", 2)
    assert second.uvci != first.uvci
    assert first.superseded_at is not None and first.revoked_at is None


def test_hc1_is_a_signed_eu_dcc_the_trust_list_verifies(app, database, person):
    ring = _record(app, database, person, 1, 40)
    [cert] = _certificates(database, person)
    assert cert.hc1.startswith("HC1:")
    cose = cbor2.loads(zlib.decompress(base45.b45decode(cert.hc1[4:])))
    assert cose.tag == 18
    protected, _, payload, signature = cose.value
    header = cbor2.loads(protected)
    assert header[1] == -7 and base64.b64encode(header[4]).decode() == cert.kid
    signer = ring.by_kid(header[4])
    to_sign = cbor2.dumps(["Signature1", protected, b"", payload])
    signer.certificate.public_key().verify(_der(signature), to_sign, ec.ECDSA(hashes.SHA256()))
    claims = cbor2.loads(payload)
    assert claims[1] == "PE" and claims[4] > claims[6]
    dcc = claims[-260][1]
    assert dcc["nam"]["fnt"] == "MARIA<QUISPE<NAHUI"
    assert dcc["v"][0]["mp"] == "EU/1/20/1528" and dcc["v"][0]["ci"] == cert.uvci
    assert (dcc["v"][0]["dn"], dcc["v"][0]["sd"]) == (1, 2)
    usage = signer.certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert "1.3.6.1.4.1.1847.2021.1.2" in [oid.dotted_string for oid in usage]


def test_smart_health_card_is_an_es256_jws_over_a_fhir_bundle(app, database, person):
    from cowin_kit.certificates import keys
    ring = _record(app, database, person, 1, 40)
    [cert] = _certificates(database, person)
    head, body, sig = cert.shc.split(".")
    pad = lambda t: t + "=" * (-len(t) % 4)  # noqa: E731
    header = json.loads(base64.urlsafe_b64decode(pad(head)))
    assert header == {"alg": "ES256", "zip": "DEF", "kid": keys.jwk(ring.current)["kid"]}
    ring.current.certificate.public_key().verify(
        _der(base64.urlsafe_b64decode(pad(sig))), f"{head}.{body}".encode(),
        ec.ECDSA(hashes.SHA256()))
    payload = json.loads(zlib.decompress(base64.urlsafe_b64decode(pad(body)), -15))
    assert payload["iss"] == "https://vacunas.example.gob"
    bundle = payload["vc"]["credentialSubject"]["fhirBundle"]
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds == ["Patient", "Immunization"]


def test_the_instance_keeps_its_keys_private(cowin_kit_instance):
    folder = cowin_kit_instance / "signing"
    keys = list(folder.glob("dsc-*-key.pem"))
    assert keys and all(k.stat().st_mode & 0o077 == 0 for k in keys)
    assert b"PRIVATE" not in (folder / "csca.pem").read_bytes()
    csca = x509.load_pem_x509_certificate((folder / "csca.pem").read_bytes())
    assert csca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert isinstance(serialization.load_pem_private_key(keys[0].read_bytes(), None),
                      ec.EllipticCurvePrivateKey)
