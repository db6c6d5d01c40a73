"""Issuing a person's certificate: a new version each time a dose is recorded or the
person's details are corrected.

``issue`` is called in the transaction that records the dose (every path that records one
passes a context: the vaccinator's form and the offline queue, through
vaccination.recording), so a dose never exists without its certificate (and a rolled-back
dose leaves none). It signs the payloads once (HC1 where the EU DCC covers the dose: a
COVID-19 product with EU value-set codes; a SMART Health Card where the deployment has a
public address for its keys, for every programme) and keeps them in the row; pages, PDFs
and the WHO DDCC:VS document (fhir.ddcc_bundle, unsigned) are built from the row. A routine
programme's certificate has no HC1: the EU DCC states COVID-19 only.

Lean on purpose (it runs in every dose transaction): three statements (the doses with their
products, lots and centres; the current version; the new row), value sets read once per
process, the key ring re-read only when ``signing/`` changes.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload

from cowin_kit.certificates import dcc, fhir, hc1, keys, revocation, shc
from cowin_kit.certificates.models import Certificate, CertificateStatus
from cowin_kit.certificates.uvci import new_uvci
from cowin_kit.db import utcnow
from cowin_kit.programmes import eligibility
from cowin_kit.programmes.models import Product
from cowin_kit.vaccination.models import Dose

log = logging.getLogger(__name__)
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
    # The deployment's first language: chooses ICAO's national Cyrillic variant (uk, be…).
    language: str = ""


_rings: dict[str, tuple[float, keys.KeyRing]] = {}


@cache
def _doses_query():
    """A person's doses of a programme with what the certificates state of them (product,
    lot, centre), in one query; built once, on first use (the mappers are configured by
    then)."""
    return (select(Dose)
            .where(Dose.beneficiary_id == bindparam("person"),
                   Dose.programme_id == bindparam("programme"))
            .options(joinedload(Dose.product).joinedload(Product.programme),
                     joinedload(Dose.lot), joinedload(Dose.facility))
            .order_by(Dose.dose_number))


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


def context_for(settings, profile, *, fallback_url: str = "") -> IssuingContext:
    """The issuing context of a deployment (its settings and profile).

    A SMART Health Card names as ``iss`` the address where /.well-known/jwks.json is
    served: the PUBLIC_URL setting. Without one, ``fallback_url`` is used: the views pass
    the address the request came to (``request.host_url``), which serves that file too; a
    deployment behind a proxy should set PUBLIC_URL, since cards keep the address they were
    issued with. With neither (the CLI, a worker) no card is issued, only the HC1."""
    public = (settings.get("PUBLIC_URL") or "").strip() or (fallback_url or "").strip()
    return IssuingContext(country=profile.code, issuer=profile["certificate"]["issuer"],
                          ring=ring_for(settings), public_url=public.rstrip("/"),
                          language=profile.default_language or "")


def context_or_none(settings, profile, *, fallback_url: str = "") -> IssuingContext | None:
    """``context_for``, or None when the instance's signing keys are unusable (missing
    files, no private key): the dose is then recorded without a certificate, and the error
    logged with its fix, rather than a vaccinator being unable to record doses."""
    try:
        ctx = context_for(settings, profile, fallback_url=fallback_url)
        ctx.ring.current  # noqa: B018 - raises when the signing key is missing
    except keys.KeyError_ as exc:
        log.error("Certificates are not issued: %s", exc)
        return None
    return ctx


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
    doses = session.scalars(_doses_query(),
                            {"person": person.id, "programme": programme_id}).unique().all()
    if not doses:
        return None
    now = now or utcnow()
    last = doses[-1]
    programme = last.product.programme
    previous = current(session, person.id, programme_id)
    signer = ctx.ring.current
    expires = min(now + dt.timedelta(days=ctx.validity_days), signer.not_after)
    uvci = new_uvci(ctx.country)
    cert = Certificate(
        uvci=uvci, beneficiary_id=person.id, programme_id=programme_id,
        version=(previous.version + 1) if previous else 1,
        status=(CertificateStatus.FINAL if eligibility.primary_complete(doses)
                else CertificateStatus.PROVISIONAL),
        doses=len(doses), last_dose_id=last.id, issued_at=now, expires_at=expires,
        kid=signer.kid_b64, language=person.language)
    if dcc.covers(programme, last.product):
        payload = dcc.certificate(person, doses, country=ctx.country, issuer=ctx.issuer,
                                  uvci=uvci, language=ctx.language)
        cert.hc1 = hc1.encode(payload, signer, country=ctx.country, issued_at=now,
                              expires_at=expires)
    if ctx.public_url:
        card = shc.credential(fhir.shc_bundle(person, doses, issuer=ctx.issuer),
                              issued_at=now, issuer_url=ctx.public_url,
                              covid=dcc.is_covid(programme),
                              revocation_id=revocation.rid(uvci))
        cert.shc = shc.sign(card, signer)
    if previous is not None and previous.superseded_at is None:
        previous.superseded_at = now
    session.add(cert)
    session.flush()
    return cert
