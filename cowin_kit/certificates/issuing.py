"""Issuing a person's certificate: a new version each time a dose is recorded or the
person's details are corrected.

``issue`` is called in the transaction that records the dose, so a dose never exists
without its certificate (and a rolled-back dose leaves none). It signs the payloads once
(HC1 where the EU DCC covers the programme, a SMART Health Card where the deployment has a
public address for its keys) and keeps them in the row; pages and PDFs are built from them.
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from cowin_kit.certificates import dcc, fhir, hc1, keys, revocation, shc
from cowin_kit.certificates.models import Certificate, CertificateStatus
from cowin_kit.certificates.uvci import new_uvci
from cowin_kit.db import utcnow

VALIDITY_DAYS = 365  # EU DCC vaccination certificates: a year, renewed by the next dose


@dataclass(frozen=True)
class IssuingContext:
    """Who issues, with which key: the profile's country and issuer, the signing keys, and
    the public address (PUBLIC_URL) where /.well-known/jwks.json is served (a SMART Health
    Card's ``iss``; without one no card is issued, since nobody could verify it)."""

    country: str
    issuer: str
    ring: keys.KeyRing
    public_url: str = ""
    validity_days: int = VALIDITY_DAYS


_rings: dict[str, tuple[float, keys.KeyRing]] = {}


def ring_for(settings) -> keys.KeyRing:
    """The instance's key ring, read again only when ``signing/`` changed (a rotation)."""
    folder = Path(settings.instance_path or ".") / keys.FOLDER
    try:
        stamp = os.stat(folder).st_mtime
    except OSError:
        stamp = 0.0
    cached = _rings.get(str(folder))
    if cached is None or cached[0] != stamp:
        cached = (stamp, keys.from_settings(settings))
        _rings[str(folder)] = cached
    return cached[1]


def context_for(settings, profile) -> IssuingContext:
    """The issuing context of a deployment (its settings and profile)."""
    return IssuingContext(country=profile.code, issuer=profile["certificate"]["issuer"],
                          ring=ring_for(settings),
                          public_url=(settings.get("PUBLIC_URL") or "").rstrip("/"))


def current(session: Session, beneficiary_id: int, programme_id: int) -> Certificate | None:
    """The newest version of the person's certificate for the programme."""
    return session.scalar(
        select(Certificate).where(Certificate.beneficiary_id == beneficiary_id,
                                  Certificate.programme_id == programme_id)
        .order_by(Certificate.version.desc()).limit(1))


def issue(session: Session, person, programme_id: int, ctx: IssuingContext, *,
          now: dt.datetime | None = None) -> Certificate | None:
    """Issue the next version of ``person``'s certificate for the programme, from every dose
    recorded (None when there is none). The previous version is superseded. Flushed; the
    caller commits."""
    from cowin_kit.programmes.eligibility import dose_history
    from cowin_kit.programmes.models import Programme

    doses = dose_history(session, person.id, programme_id)
    if not doses:
        return None
    now = now or utcnow()
    programme = session.get(Programme, programme_id)
    last = doses[-1]
    previous = current(session, person.id, programme_id)
    signer = ctx.ring.current
    expires = min(now + dt.timedelta(days=ctx.validity_days), signer.not_after)
    uvci = new_uvci(ctx.country)
    cert = Certificate(
        uvci=uvci, beneficiary_id=person.id, programme_id=programme_id,
        version=(previous.version + 1) if previous else 1,
        status=(CertificateStatus.FINAL if len(doses) >= doses[0].product.primary_doses
                else CertificateStatus.PROVISIONAL),
        doses=len(doses), last_dose_id=last.id, issued_at=now, expires_at=expires,
        kid=signer.kid_b64, language=person.language)
    if dcc.covers(programme, last.product):
        payload = dcc.certificate(person, doses, country=ctx.country, issuer=ctx.issuer,
                                  uvci=uvci)
        cert.hc1 = hc1.encode(payload, signer, country=ctx.country, issued_at=now,
                              expires_at=expires)
    if ctx.public_url:
        card = shc.credential(fhir.shc_bundle(person, doses), issuer_url=ctx.public_url,
                              issued_at=now, covid=dcc.covers(programme, last.product),
                              revocation_id=revocation.rid(uvci))
        cert.shc = shc.sign(card, signer)
    if previous is not None and previous.superseded_at is None:
        previous.superseded_at = now
    session.add(cert)
    session.flush()
    return cert
