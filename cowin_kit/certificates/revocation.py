"""Revoked certificates, as verifiers see them.

A revoked certificate is published by a hash of its UVCI, never the UVCI itself: the EU DCC
revocation scheme's ``UCI`` hash (SHA-256 of the UVCI, the first 16 bytes, base64), and for
SMART Health Cards the card's ``rid`` (base64url of the first 16 bytes of the same digest,
22 characters: within the specification's 24), listed in the issuer's CRL.

>>> uvci_hash("URN:UVCI:01:AT:10807843F94AEE0EE5093FBC254BD813#B")
'TA/gJg6xoyUDqeElh0QmXA=='
>>> len(rid("URN:UVCI:01:AT:10807843F94AEE0EE5093FBC254BD813#B"))
22
"""
from __future__ import annotations

import base64
import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from cowin_kit.certificates.models import Certificate


def _digest(uvci: str) -> bytes:
    return hashlib.sha256(uvci.encode("utf-8")).digest()[:16]


def uvci_hash(uvci: str) -> str:
    """The EU DCC revocation list's UCI hash of ``uvci``."""
    return base64.b64encode(_digest(uvci)).decode("ascii")


def rid(uvci: str) -> str:
    """The SMART Health Card revocation identifier of the certificate ``uvci``."""
    return base64.urlsafe_b64encode(_digest(uvci)).rstrip(b"=").decode("ascii")


def revoked_uvcis(session: Session) -> list[str]:
    """Every revoked certificate's UVCI, oldest revocation first."""
    return list(session.scalars(select(Certificate.uvci).where(
        Certificate.revoked_at.is_not(None)).order_by(Certificate.revoked_at, Certificate.id)))


def revocation_list(session: Session) -> dict:
    """What verifiers download: the UCI hashes (HC1) and the rids (SMART Health Cards)."""
    uvcis = revoked_uvcis(session)
    return {"hashType": "UCI", "hashes": [uvci_hash(u) for u in uvcis],
            "rids": [rid(u) for u in uvcis]}


# --- SMART Health Cards: a revocation list (CRL) per key --------------------------------
#
# The specification's CRL is published per signing key at /.well-known/crl/<kid>.json, with a
# counter (``ctr``) that grows at each change, also published as the key's ``crlVersion`` in
# the JWK Set so verifiers download a CRL only when it changed. A revocation is never undone,
# so the counter is derived, not stored: 1 + the number of cards revoked under the key.

def _revoked_cards(session: Session, dsc_kid: str | None = None) -> list[tuple[str, str]]:
    """(DSC kid, UVCI) of every revoked certificate that has a SMART Health Card."""
    query = (select(Certificate.kid, Certificate.uvci)
             .where(Certificate.revoked_at.is_not(None), Certificate.shc.is_not(None))
             .order_by(Certificate.revoked_at, Certificate.id))
    if dsc_kid is not None:
        query = query.where(Certificate.kid == dsc_kid)
    return [(kid, uvci) for kid, uvci in session.execute(query)]


def crl(session: Session, ring, jwk_kid: str) -> dict | None:
    """The CRL of the key whose JWK ``kid`` (its RFC 7638 thumbprint) is ``jwk_kid``; None
    when no key of the ring has it."""
    from cowin_kit.certificates.keys import jwk

    signer = next((s for s in ring.signers if jwk(s)["kid"] == jwk_kid), None)
    if signer is None:
        return None
    rids = [rid(uvci) for _kid, uvci in _revoked_cards(session, signer.kid_b64)]
    return {"kid": jwk_kid, "method": "rid", "ctr": 1 + len(rids), "rids": rids}


def published_jwks(session: Session, ring) -> dict:
    """The JWK Set of /.well-known/jwks.json: each key with its CRL's ``crlVersion``."""
    from collections import Counter

    from cowin_kit.certificates.keys import jwk

    counts = Counter(kid for kid, _uvci in _revoked_cards(session))
    return {"keys": [{**jwk(s), "crlVersion": 1 + counts[s.kid_b64]} for s in ring.signers]}
