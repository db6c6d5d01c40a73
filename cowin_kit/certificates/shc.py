"""SMART Health Cards: a FHIR R4 bundle in a verifiable credential, signed as a compact JWS
(ES256, the payload raw-DEFLATE-compressed, ``zip: DEF``), shown as a numeric ``shc:/`` QR
code and downloaded as a ``.smart-health-card`` file. This module writes them; ``verify``
reads them.

>>> numeric("eyJ")
'shc:/567629'
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import zlib

PREFIX = "shc:/"
FILE_SUFFIX = ".smart-health-card"
MEDIA_TYPE = "application/smart-health-card"
TYPES = ["https://smarthealth.cards#health-card", "https://smarthealth.cards#immunization"]
COVID_TYPE = "https://smarthealth.cards#covid19"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def deflate_raw(data: bytes) -> bytes:
    """DEFLATE with no zlib header or checksum, as the specification asks."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def credential(bundle: dict, *, issuer_url: str, issued_at: dt.datetime,
               covid: bool, revocation_id: str | None = None) -> dict:
    """The JWS payload: the bundle as a health card credential from ``issuer_url`` (where
    /.well-known/jwks.json holds the keys). ``revocation_id`` is the card's ``rid``."""
    subject = {"fhirVersion": "4.0.1", "fhirBundle": bundle}
    vc = {"type": TYPES + ([COVID_TYPE] if covid else []), "credentialSubject": subject}
    if revocation_id:
        vc["rid"] = revocation_id
    return {"iss": issuer_url.rstrip("/"), "nbf": int(issued_at.timestamp()), "vc": vc}


def sign(payload: dict, signer) -> str:
    """The compact JWS of ``payload`` signed by ``signer`` (a keys.Signer), ``kid`` its JWK
    thumbprint."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    from cowin_kit.certificates import keys
    from cowin_kit.certificates.hc1 import raw_signature

    header = {"alg": "ES256", "zip": "DEF", "kid": keys.jwk(signer)["kid"]}
    body = deflate_raw(json.dumps(payload, separators=(",", ":"),
                                  ensure_ascii=False).encode("utf-8"))
    signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "."
                     + b64url(body))
    der = signer.private_key.sign(signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256()))
    return signing_input + "." + b64url(raw_signature(der))


def numeric(jws: str) -> str:
    """The ``shc:/`` text of a single-chunk QR code: each character as two digits (its
    code minus 45)."""
    return PREFIX + "".join(f"{ord(ch) - 45:02d}" for ch in jws)


def file_content(*jws: str) -> bytes:
    """A ``.smart-health-card`` file holding the cards."""
    return json.dumps({"verifiableCredential": list(jws)}).encode("utf-8")
