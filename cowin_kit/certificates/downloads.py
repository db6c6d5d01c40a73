"""Which certificate a citizen may download, and a family's certificates, as plain values.

Only the account that registered a person gets their certificate: a reference ID of another
account's person answers exactly like one that does not exist. A download is served from a
stored file, so finding the certificate is the whole cost of a request: ``by_token`` finds
the Bearer token, the person and their current certificate in one indexed query.
No Flask here.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from sqlalchemy import and_, bindparam, select
from sqlalchemy.orm import Session

from cowin_kit.accounts import otp
from cowin_kit.accounts.models import ApiToken
from cowin_kit.certificates.models import Certificate, CertificateStatus
from cowin_kit.db import utcnow
from cowin_kit.errors import UserError
from cowin_kit.plugins.interfaces import N_
from cowin_kit.programmes.models import Programme
from cowin_kit.registration.choices import local_name
from cowin_kit.registration.models import Beneficiary
from cowin_kit.registration.service import MSG_NOT_FOUND

MSG_BAD_REFERENCE = N_("A beneficiary reference ID has 14 digits.")
MSG_NO_CERTIFICATE = N_("No certificate has been issued to this person yet: it is issued "
                        "when a dose is recorded.")
MSG_REVOKED = N_("This person's certificate was revoked; no valid certificate can be "
                 "downloaded.")
REFERENCE_ID = re.compile(r"[0-9]{14}")


class CertificateError(UserError):
    """No certificate to give (cowin_kit.errors: message id, field, params)."""

    status = 404


class BadReference(CertificateError):
    status = 400


class PersonNotFound(CertificateError):
    """Unknown, or another account's person: the same answer, so nobody can probe."""


class NoCertificate(CertificateError):
    code = "CERTIFICATE_NOT_ISSUED"


class RevokedCertificate(CertificateError):
    code = "CERTIFICATE_REVOKED"


@dataclass(frozen=True)
class Current:
    """A person's current certificate, as much of it as a stored PDF's key needs."""

    certificate_id: int
    reference_id: str
    uvci: str
    version: int
    language: str | None
    status: str


def check_reference(reference_id) -> str:
    """``reference_id`` when it has the form of one, else BadReference (400)."""
    if not isinstance(reference_id, str) or not REFERENCE_ID.fullmatch(reference_id):
        raise BadReference(MSG_BAD_REFERENCE, "beneficiary_reference_id")
    return reference_id


_CERTIFICATE_COLUMNS = (
    Beneficiary.id.label("person_id"), Certificate.id.label("certificate_id"),
    Certificate.uvci, Certificate.version, Certificate.language, Certificate.status,
    Certificate.revoked_at.label("certificate_revoked_at"))
# The current version of each programme's certificate: the one no newer version superseded
# (issuing.issue marks the previous one); the profile's first programme first.
_CURRENT = and_(Certificate.beneficiary_id == Beneficiary.id,
                Certificate.superseded_at.is_(None))
_ORDER = (Certificate.programme_id, Certificate.version.desc())

# Built once; every API download runs it: the token (unique index on its hash), the person
# (unique reference ID, and the token's account), their certificate (by person).
_BY_TOKEN = (
    select(ApiToken.revoked_at, ApiToken.expires_at, *_CERTIFICATE_COLUMNS)
    .select_from(ApiToken)
    .outerjoin(Beneficiary, and_(Beneficiary.account_id == ApiToken.account_id,
                                 Beneficiary.reference_id == bindparam("ref")))
    .outerjoin(Certificate, _CURRENT)
    .where(ApiToken.token_hash == bindparam("token_hash"))
    .order_by(*_ORDER).limit(1))


def _by_account(one_programme: bool):
    current = and_(_CURRENT, Certificate.programme_id == bindparam("programme_id")) \
        if one_programme else _CURRENT
    return (select(*_CERTIFICATE_COLUMNS).select_from(Beneficiary)
            .outerjoin(Certificate, current)
            .where(Beneficiary.account_id == bindparam("account_id"),
                   Beneficiary.reference_id == bindparam("ref"))
            .order_by(*_ORDER).limit(1))


_BY_ACCOUNT = {False: _by_account(False), True: _by_account(True)}


def _current(row, reference_id: str) -> Current:
    if row is None or row.person_id is None:
        raise PersonNotFound(MSG_NOT_FOUND, "beneficiary_reference_id")
    if row.certificate_id is None:
        raise NoCertificate(MSG_NO_CERTIFICATE, "beneficiary_reference_id")
    if row.certificate_revoked_at is not None:
        raise RevokedCertificate(MSG_REVOKED, "beneficiary_reference_id")
    return Current(row.certificate_id, reference_id, row.uvci, row.version, row.language,
                   row.status)


def by_token(session: Session, token: str | None, reference_id,
             now: dt.datetime | None = None) -> Current:
    """The current certificate of ``reference_id`` for the holder of a Bearer token: 401
    (cowin_kit.accounts.otp.NotAuthenticated) for a token not in force, 400 for a malformed
    reference, 404 when the person is not the account's or has no valid certificate."""
    digest = otp.token_digest(token)
    reference_id = check_reference(reference_id)
    row = session.execute(_BY_TOKEN, {"token_hash": digest, "ref": reference_id}).first()
    otp.require_active(row, now or utcnow())
    return _current(row, reference_id)


def by_account(session: Session, account_id: int, reference_id,
               programme_id: int | None = None) -> Current:
    """The current certificate of the account's person ``reference_id`` (of one programme,
    else the first programme's); errors as ``by_token``'s."""
    reference_id = check_reference(reference_id)
    row = session.execute(_BY_ACCOUNT[programme_id is not None], {
        "account_id": account_id, "ref": reference_id, "programme_id": programme_id}).first()
    return _current(row, reference_id)


# --- a family's certificates ---------------------------------------------------------------

@dataclass(frozen=True)
class Version:
    """One issued version, as the family page lists it."""

    uvci: str
    version: int
    status: str
    doses: int
    issued_at: dt.datetime
    expires_at: dt.datetime
    superseded_at: dt.datetime | None
    revoked_at: dt.datetime | None
    has_hc1: bool
    has_shc: bool

    @property
    def final(self) -> bool:
        return self.status == CertificateStatus.FINAL

    @property
    def state(self) -> str:
        """"revoked", "replaced" (by a newer version) or "current"."""
        if self.revoked_at is not None:
            return "revoked"
        return "replaced" if self.superseded_at is not None else "current"


@dataclass
class ProgrammeCertificate:
    """A person's certificate of one programme: its newest version and the earlier ones."""

    programme_id: int
    programme: str  # in the reader's language
    newest: Version
    earlier: list[Version] = field(default_factory=list)

    @property
    def downloadable(self) -> bool:
        return self.newest.state == "current"


def family_certificates(session: Session, account_id: int, lang: str,
                        default_language: str | None) -> dict[str, list[ProgrammeCertificate]]:
    """Every certificate of the account's people, by reference ID: per programme, newest
    version first. One query."""
    rows = session.execute(
        select(Beneficiary.reference_id, Programme.id, Programme.name, Programme.names,
               Certificate.uvci, Certificate.version, Certificate.status, Certificate.doses,
               Certificate.issued_at, Certificate.expires_at, Certificate.superseded_at,
               Certificate.revoked_at, Certificate.hc1.is_not(None),
               Certificate.shc.is_not(None))
        .join(Certificate, Certificate.beneficiary_id == Beneficiary.id)
        .join(Programme, Programme.id == Certificate.programme_id)
        .where(Beneficiary.account_id == account_id)
        .order_by(Beneficiary.id, Programme.id, Certificate.version.desc()))
    out: dict[str, list[ProgrammeCertificate]] = {}
    for (ref, programme_id, name, names, *version) in rows:
        found = Version(*version[:8], has_hc1=bool(version[8]), has_shc=bool(version[9]))
        certificates = out.setdefault(ref, [])
        if certificates and certificates[-1].programme_id == programme_id:
            certificates[-1].earlier.append(found)
        else:
            certificates.append(ProgrammeCertificate(
                programme_id, local_name(name, names, lang, default_language), found))
    return out
