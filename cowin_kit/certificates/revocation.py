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
