"""The EU Digital COVID Certificate's wire format (HC1), which WHO's Global Digital Health
Certification Network adopted: the certificate (``-260``/``1``) in a CWT, signed as a
COSE_Sign1 with ES256 and the signer's ``kid``, zlib-compressed, Base45-encoded, prefixed
``HC1:``. This module writes it; ``verify`` reads it.

>>> import datetime as dt
>>> text = encode({"ver": "1.3.0"}, _test_signer(), country="PE",
...               issued_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
...               expires_at=dt.datetime(2027, 1, 1, tzinfo=dt.UTC))
>>> text.startswith("HC1:") and set(text[4:]) <= set(BASE45)
True
"""
from __future__ import annotations

import datetime as dt
import zlib

PREFIX = "HC1:"
BASE45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
# COSE and CWT labels.
ALG, KID = 1, 4
ES256 = -7
ISS, EXP, IAT, HCERT = 1, 4, 6, -260
COSE_SIGN1_TAG = 18


def raw_signature(der: bytes) -> bytes:
    """A DER ECDSA signature as COSE and JOSE want it: r and s, 32 bytes each."""
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
    r, s = decode_dss_signature(der)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def sign1(payload: bytes, signer) -> bytes:
    """``payload`` as a tagged COSE_Sign1 signed with ES256; ``kid`` in the protected
    header."""
    import cbor2
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    protected = cbor2.dumps({ALG: ES256, KID: signer.kid})
    to_sign = cbor2.dumps(["Signature1", protected, b"", payload])
    signature = raw_signature(signer.private_key.sign(to_sign, ec.ECDSA(hashes.SHA256())))
    return cbor2.dumps(cbor2.CBORTag(COSE_SIGN1_TAG, [protected, {}, payload, signature]))


def encode(certificate: dict, signer, *, country: str, issued_at: dt.datetime,
           expires_at: dt.datetime) -> str:
    """The ``HC1:`` text of ``certificate`` (the EU DCC JSON: ``ver``, ``nam``, ``dob``,
    ``v``), issued by ``country`` and signed by ``signer`` (a keys.Signer)."""
    import base45
    import cbor2

    claims = {ISS: country.upper(), IAT: int(issued_at.timestamp()),
              EXP: int(expires_at.timestamp()), HCERT: {1: certificate}}
    cose = sign1(cbor2.dumps(claims), signer)
    return PREFIX + base45.b45encode(zlib.compress(cose, 9)).decode("ascii")


def _test_signer():
    """A throwaway signer for examples."""
    from types import SimpleNamespace

    from cryptography.hazmat.primitives.asymmetric import ec
    return SimpleNamespace(kid=b"\x00" * 8, private_key=ec.generate_private_key(ec.SECP256R1()))
