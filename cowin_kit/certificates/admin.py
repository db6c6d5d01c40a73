"""What administrators do about a wrong certificate: find a person's certificates, revoke a
version with a reason, correct a vaccinated person's details (which reissues the
certificate and revokes the versions it replaces), and reissue. No Flask: the staff pages
and the CLI call these.

Who may: a role with Can.CERTIFICATES (national, state and district administrators), for
people vaccinated in their area, that is whose latest dose given at a centre was given at a
centre in the area (a person vaccinated in two districts is the latest one's); a person
without any dose at a centre is the national administrators' only. The CLI acts as the
operator (a ``cli:<OS user>`` actor string), with every right.

Audit entries name the certificate or the person by id and say which fields changed, never
a name, a date of birth or an ID number.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from cowin_kit.accounts.models import StaffUser
from cowin_kit.accounts.roles import Can, can
from cowin_kit.accounts.service import actor as staff_actor, area_division_ids, audit, in_area
from cowin_kit.certificates import issuing
from cowin_kit.certificates.models import Certificate
from cowin_kit.certificates.uvci import PREFIX as UVCI_PREFIX
from cowin_kit.db import begin_write, utcnow
from cowin_kit.errors import UserError
from cowin_kit.notifications import texts
from cowin_kit.plugins.interfaces import N_
from cowin_kit.registration.models import Beneficiary

MIN_REASON, MAX_REASON = 10, 500
CORRECTED = "details corrected"  # the reason of the versions a correction replaces

MSG_QUERY = N_("Enter a 14-digit reference ID or a certificate identifier (URN:UVCI:…).")
MSG_NOT_FOUND = N_("No person or certificate has this reference ID or certificate "
                   "identifier.")
MSG_OUTSIDE = N_("This person was not vaccinated in your area.")
MSG_NOT_ALLOWED = N_("Your role cannot revoke or correct certificates.")
MSG_REASON_SHORT = N_("Give the reason in at least %(min)s characters.")
MSG_REASON_LONG = N_("Give the reason in at most %(max)s characters.")
MSG_ALREADY_REVOKED = N_("This certificate was already revoked on %(date)s.")
MSG_NO_DOSE = N_("This person has no recorded dose, so no certificate: the family can "
                 "correct the details on the portal.")
MSG_NO_KEY = N_("Certificates cannot be signed now: the signing key is missing. Ask the "
                "operator to run `cowin-kit keys show`.")
MSG_UNCHANGED = N_("These are the details already recorded: change what is wrong.")


class CertificateError(UserError):
    """A refused revocation or correction (cowin_kit.errors: message id, field, params)."""


class CertificateNotFound(CertificateError):
    status = 404


class NotInArea(CertificateError):
    """The person is outside the user's area, or the role may not do this (403)."""

    status = 403


class AlreadyRevoked(CertificateError):
    status = 409


class CannotSign(CertificateError):
    status = 503


Actor = StaffUser | str  # a staff user, or the CLI's operator ("cli:<OS user>")


def _actor(user: Actor) -> tuple[str, int | None]:
    """(the audit log's actor, the staff user id to record as revoked_by)."""
    if isinstance(user, str):
        return user, None
    return staff_actor(user), user.id


# --- where a person belongs ----------------------------------------------------------------

def person_division(session: Session, beneficiary_id: int) -> int | None:
    """The division of the centre where the person's latest dose given at a centre was
    given; None when no dose was given at a centre."""
    from cowin_kit.scheduling.models import Facility
    from cowin_kit.vaccination.models import Dose

    return session.scalar(
        select(Facility.division_id).join(Dose, Dose.facility_id == Facility.id)
        .where(Dose.beneficiary_id == beneficiary_id)
        .order_by(Dose.given_on.desc(), Dose.id.desc()).limit(1))


def check_allowed(session: Session, user: Actor, beneficiary_id: int) -> int | None:
    """The person's division (see person_division), once the user may act on the person:
    NotInArea when the role lacks Can.CERTIFICATES or the person is outside its area."""
    division = person_division(session, beneficiary_id)
    if isinstance(user, str):
        return division
    if not can(user, Can.CERTIFICATES):
        raise NotInArea(MSG_NOT_ALLOWED, None)
    if not in_area(area_division_ids(session, user), division):
        raise NotInArea(MSG_OUTSIDE, None)
    return division


# --- finding --------------------------------------------------------------------------------

def normalise_query(query: str) -> tuple[str, str]:
    """("reference", the 14 digits) or ("uvci", the identifier with its URN:UVCI: prefix,
    in capitals; given without it, it is added). CertificateError for anything else."""
    text = "".join((query or "").split())
    if text.isascii() and text.isdigit() and len(text) == 14:
        return "reference", text
    upper = text.upper()
    if upper.startswith("01:"):
        upper = UVCI_PREFIX + upper
    if (upper.startswith(UVCI_PREFIX) and len(upper) <= 80 and upper.isascii()
            and upper.isprintable()):
        return "uvci", upper
    raise CertificateError(MSG_QUERY, "query")


@dataclass(frozen=True)
class Found:
    person: Beneficiary
    certificate_id: int | None  # the version the UVCI named, None when found by reference


def find(session: Session, query: str) -> Found:
    """The person of a reference ID or of a certificate's UVCI (any version's)."""
    kind, value = normalise_query(query)
    if kind == "reference":
        person = session.scalar(select(Beneficiary).where(Beneficiary.reference_id == value))
        if person is not None:
            return Found(person, None)
    else:
        cert = session.scalar(select(Certificate).where(Certificate.uvci == value))
        if cert is not None:
            return Found(cert.beneficiary, cert.id)
    raise CertificateNotFound(MSG_NOT_FOUND, "query")


def look_up(session: Session, user: Actor, query: str) -> Found:
    """``find`` for a staff user: only people of their area, and audited (staff looked at
    someone's record) as ``certificate.looked_up``. Flushed; the caller commits."""
    found = find(session, query)
    division = check_allowed(session, user, found.person.id)
    kind, _ = normalise_query(query)
    audit(session, _actor(user)[0], "certificate.looked_up", f"beneficiary:{found.person.id}",
          division_id=division, by=kind)
    session.flush()
    return found


# --- the versions ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Version:
    id: int
    version: int
    uvci: str
    status: str  # provisional / final
    doses: int
    issued_at: dt.datetime
    expires_at: dt.datetime
    kid: str
    superseded_at: dt.datetime | None
    revoked_at: dt.datetime | None
    revocation_reason: str | None
    revoked_by: str | None  # the staff user's e-mail; None for the operator (CLI)

    @property
    def state(self) -> str:
        """revoked, superseded or current."""
        if self.revoked_at is not None:
            return "revoked"
        return "superseded" if self.superseded_at is not None else "current"


@dataclass(frozen=True)
class ProgrammeCertificates:
    programme_id: int
    programme: str
    versions: list[Version] = field(default_factory=list)  # newest first


def versions(session: Session, beneficiary_id: int) -> list[ProgrammeCertificates]:
    """Every version of the person's certificates, by programme, newest version first."""
    from cowin_kit.programmes.models import Programme

    rows = session.execute(
        select(Certificate, Programme.name, StaffUser.email)
        .join(Programme, Programme.id == Certificate.programme_id)
        .outerjoin(StaffUser, StaffUser.id == Certificate.revoked_by)
        .where(Certificate.beneficiary_id == beneficiary_id)
        .order_by(Programme.name, Certificate.programme_id, Certificate.version.desc())).all()
    out: dict[int, ProgrammeCertificates] = {}
    for cert, programme, email in rows:
        group = out.setdefault(cert.programme_id,
                               ProgrammeCertificates(cert.programme_id, programme))
        group.versions.append(Version(
            cert.id, cert.version, cert.uvci, cert.status, cert.doses, cert.issued_at,
            cert.expires_at, cert.kid, cert.superseded_at, cert.revoked_at,
            cert.revocation_reason, email))
    return list(out.values())


def has_doses(session: Session, beneficiary_id: int) -> bool:
    from cowin_kit.vaccination.models import Dose

    return session.scalar(select(Dose.id).where(Dose.beneficiary_id == beneficiary_id)
                          .limit(1)) is not None


# --- revoking ------------------------------------------------------------------------------

def check_reason(reason: str | None) -> str:
    """The reason, tidied: 10 to 500 characters, without control characters."""
    text = " ".join((reason or "").split())
    text = "".join(ch for ch in text if ch.isprintable())
    if len(text) < MIN_REASON:
        raise CertificateError(MSG_REASON_SHORT, "reason", min=MIN_REASON)
    if len(text) > MAX_REASON:
        raise CertificateError(MSG_REASON_LONG, "reason", max=MAX_REASON)
    return text


def _locked_certificate(session: Session, uvci_or_id) -> Certificate:
    """The certificate by row id (an int, or its digits) or UVCI, its row locked."""
    begin_write(session)
    query = select(Certificate)
    if isinstance(uvci_or_id, int) or (isinstance(uvci_or_id, str) and uvci_or_id.isascii()
                                       and uvci_or_id.isdigit() and len(uvci_or_id) < 10):
        query = query.where(Certificate.id == int(uvci_or_id))
    else:
        kind, value = normalise_query(str(uvci_or_id))
        if kind != "uvci":
            raise CertificateError(MSG_QUERY, "uvci")
        query = query.where(Certificate.uvci == value)
    if session.get_bind().dialect.name != "sqlite":  # SQLite: begin_write holds the lock
        query = query.with_for_update()
    cert = session.scalar(query.execution_options(populate_existing=True))
    if cert is None:
        raise CertificateNotFound(MSG_NOT_FOUND, "uvci")
    return cert


def _revoke(session: Session, cert: Certificate, reason: str, who: str, staff_id: int | None,
            division: int | None, now: dt.datetime) -> None:
    # The reason is on the row (staff pages show it); the audit entry says only whether
    # a correction replaced the version.
    cert.revoked_at, cert.revocation_reason, cert.revoked_by = now, reason, staff_id
    audit(session, who, "certificate.revoked", f"certificate:{cert.id}", division_id=division,
          beneficiary=cert.beneficiary_id, programme=cert.programme_id, version=cert.version,
          corrected=reason == CORRECTED)


def revoke(session: Session, uvci_or_id, *, reason: str, user: Actor,
           now: dt.datetime | None = None) -> Certificate:
    """Revoke one certificate version (by row id or UVCI) with a reason of 10 to 500
    characters: from now on verifiers that consult the revocation list refuse it. Audited
    as ``certificate.revoked``. Flushed; the caller commits."""
    cert = _locked_certificate(session, uvci_or_id)
    division = check_allowed(session, user, cert.beneficiary_id)
    if cert.revoked_at is not None:
        raise AlreadyRevoked(MSG_ALREADY_REVOKED, "uvci",
                             date=cert.revoked_at.date().isoformat())
    reason = check_reason(reason)
    who, staff_id = _actor(user)
    _revoke(session, cert, reason, who, staff_id, division, now or utcnow())
    session.flush()
    return cert


# --- reissuing and correcting --------------------------------------------------------------

def _programmes_with_doses(session: Session, beneficiary_id: int) -> list[int]:
    from cowin_kit.vaccination.models import Dose

    return sorted(set(session.scalars(select(Dose.programme_id).where(
        Dose.beneficiary_id == beneficiary_id))))


def _issue(session: Session, person: Beneficiary, programme_id: int,
           ctx: issuing.IssuingContext, now: dt.datetime | None) -> Certificate:
    from cowin_kit.certificates.keys import KeyError_

    try:
        return issuing.issue(session, person, programme_id, ctx, now=now)
    except KeyError_:
        raise CannotSign(MSG_NO_KEY, None) from None


def issuing_context(settings, profile, *, fallback_url: str = "") -> issuing.IssuingContext:
    """The deployment's issuing context (``fallback_url``: see issuing.context_for);
    CannotSign when its keys cannot be read."""
    from cowin_kit.certificates.keys import KeyError_

    try:
        return issuing.context_for(settings, profile, fallback_url=fallback_url)
    except KeyError_:
        raise CannotSign(MSG_NO_KEY, None) from None


def _lock_person(session: Session, person_id: int) -> Beneficiary:
    """The person's row, locked (one correction or reissue at a time), read afresh."""
    begin_write(session)
    query = select(Beneficiary).where(Beneficiary.id == person_id)
    if session.get_bind().dialect.name != "sqlite":
        query = query.with_for_update()
    person = session.scalar(query.execution_options(populate_existing=True))
    if person is None:
        raise CertificateNotFound(MSG_NOT_FOUND, "beneficiary")
    return person


def reissue(session: Session, person_id: int, *, user: Actor, ctx: issuing.IssuingContext,
            now: dt.datetime | None = None) -> list[Certificate]:
    """Issue a new version of each of the person's certificates (every programme with a
    dose), signed with the current key: after a key rotation, or when a version was revoked
    by mistake. The versions before are superseded, not revoked. Audited as
    ``certificate.reissued``. Flushed; the caller commits."""
    person = _lock_person(session, person_id)
    division = check_allowed(session, user, person.id)
    programmes = _programmes_with_doses(session, person.id)
    if not programmes:
        raise CertificateError(MSG_NO_DOSE, "beneficiary")
    who, _ = _actor(user)
    issued = []
    for programme_id in programmes:
        cert = _issue(session, person, programme_id, ctx, now)
        issued.append(cert)
        audit(session, who, "certificate.reissued", f"certificate:{cert.id}",
              division_id=division, beneficiary=person.id, programme=programme_id,
              version=cert.version)
    session.flush()
    return issued


@dataclass(frozen=True)
class Correction:
    person: Beneficiary
    changed: list[str]  # the fields, never their values
    issued: list[Certificate]
    revoked: list[Certificate]


def correct_details(session: Session, person, *, name: str, birth_year: int,
                    birth_date: dt.date | None, gender: str, reason: str, user: Actor,
                    ctx: issuing.IssuingContext, id_ctx=None, current_year: int | None = None,
                    today: dt.date | None = None, now: dt.datetime | None = None,
                    certificate_url: str = "") -> Correction:
    """Correct a vaccinated person's name, year or date of birth, or gender (citizens
    cannot once a dose is recorded), checked by registration's own rules; then reissue the
    certificate of each programme with doses and revoke, with the reason "details
    corrected", every earlier version of it not revoked yet (they state the wrong details).
    ``person`` is a Beneficiary or its id. When the name or year of birth changes, the ID
    registry is asked again where the provider can (``id_ctx``), else the person is left to
    `cowin-kit ids reverify`. Audited as ``beneficiary.corrected`` with the fields changed
    and the reason, never the values. The family is told by SMS where to get the new
    certificate (``certificate_url``). Flushed; the caller commits."""
    from cowin_kit.registration import service as registration

    now = now or utcnow()
    person = _lock_person(session, person if isinstance(person, int) else person.id)
    division = check_allowed(session, user, person.id)
    programmes = _programmes_with_doses(session, person.id)
    if not programmes:
        raise CertificateError(MSG_NO_DOSE, "beneficiary")
    # The same checks as registering and the family's own edits.
    new_name, _groups = registration._check_details(name, birth_year, gender, [], None,
                                                    current_year)
    registration._check_birth_date(birth_date, birth_year, today)
    reason = check_reason(reason)
    changed = [f for f, old, new in (
        ("name", person.name, new_name), ("birth_year", person.birth_year, birth_year),
        ("birth_date", person.birth_date, birth_date), ("gender", person.gender, gender))
        if old != new]
    if not changed:
        raise CertificateError(MSG_UNCHANGED, "name")
    claims_changed = bool({"name", "birth_year"} & set(changed))
    if {"birth_year", "gender"} & set(changed):
        # The reports count doses by age band and gender: count this person's again.
        from cowin_kit.reporting import rollups

        rollups.unfold_people(session, [person.id])
    person.name, person.birth_year, person.birth_date, person.gender = (
        new_name, birth_year, birth_date, gender)
    _check_appointment(session, person, new_name)
    if claims_changed:
        _reverify(person, id_ctx)
    who, staff_id = _actor(user)
    issued, revoked = [], []
    for programme_id in programmes:
        cert = _issue(session, person, programme_id, ctx, now)
        issued.append(cert)
        for old in session.scalars(select(Certificate).where(
                Certificate.beneficiary_id == person.id,
                Certificate.programme_id == programme_id,
                Certificate.version < cert.version, Certificate.revoked_at.is_(None))
                .order_by(Certificate.version)):
            _revoke(session, old, CORRECTED, who, staff_id, division, now)
            revoked.append(old)
    audit(session, who, "beneficiary.corrected", f"beneficiary:{person.id}",
          division_id=division, fields=changed, reason=reason,
          certificates=[c.id for c in issued])
    texts.notify_person(session, person, kind="certificate.corrected",
                        msgid=texts.CERTIFICATE_CORRECTED,
                        params={"name": person.name, "url": certificate_url},
                        dedupe_key=f"certificate.corrected:{issued[0].id}")
    session.flush()
    return Correction(person, changed, issued, revoked)


def _check_appointment(session: Session, person: Beneficiary, name: str) -> None:
    """A booked next dose must stay one the person may have with the new details (the
    family's own edit refuses the same way)."""
    from cowin_kit.registration.service import MSG_EDIT_BREAKS_APPOINTMENT, RegistrationError
    from cowin_kit.scheduling import booking
    from cowin_kit.scheduling.models import Appointment, AppointmentStatus

    active = session.scalar(select(Appointment).where(
        Appointment.beneficiary_id == person.id,
        Appointment.status == AppointmentStatus.BOOKED))
    if active is None:
        return
    try:
        booking.check_eligible(session, person, active.session, active.dose_number)
    except booking.BookingError as exc:
        field_name = {"beneficiaries": "birth_year",
                      "birth_date": "birth_date"}.get(exc.field, "name")
        raise RegistrationError(MSG_EDIT_BREAKS_APPOINTMENT, field_name, name=name,
                                reason=exc) from None


def _reverify(person: Beneficiary, id_ctx) -> None:
    """The ID registry checked the old name and year: ask it again, or mark it to ask."""
    from cowin_kit.registration import ids
    from cowin_kit.registration.models import IdVerificationStatus
    from cowin_kit.registration.service import _record

    if person.id_verification_status == IdVerificationStatus.UNVERIFIED:
        return
    provider = id_ctx.providers.get(person.id_document_type.code) if id_ctx else None
    if provider is None or not getattr(provider, "can_verify", False):
        person.id_verification_status = IdVerificationStatus.UNVERIFIED
        return
    from cowin_kit.plugins.interfaces import IdClaims

    number = ids.decrypt_number(id_ctx.encryption_key, person.id_number_encrypted)
    _record(person, ids.verify_online(provider, number, IdClaims(person.name, person.birth_year),
                                      timeout=id_ctx.verify_timeout,
                                      retries=id_ctx.verify_retries))


def missing(session: Session, limit: int | None = None) -> list[tuple[int, int]]:
    """(person, programme) pairs whose doses no certificate states: doses recorded before
    certificates were issued, or while the signing keys could not be read. A pair whose
    newest doses a revoked certificate states is left alone (the revocation stands)."""
    from sqlalchemy import func

    from cowin_kit.vaccination.models import Dose

    given = (select(Dose.beneficiary_id, Dose.programme_id, func.count().label("n"))
             .group_by(Dose.beneficiary_id, Dose.programme_id).subquery())
    stated = (select(Certificate.beneficiary_id, Certificate.programme_id,
                     func.max(Certificate.doses).label("n"))
              .group_by(Certificate.beneficiary_id, Certificate.programme_id).subquery())
    query = (select(given.c.beneficiary_id, given.c.programme_id)
             .outerjoin(stated, (stated.c.beneficiary_id == given.c.beneficiary_id)
                        & (stated.c.programme_id == given.c.programme_id))
             .where(func.coalesce(stated.c.n, 0) < given.c.n)
             .order_by(given.c.beneficiary_id, given.c.programme_id))
    if limit is not None:
        query = query.limit(limit)
    return [(person, programme) for person, programme in session.execute(query)]


def issue_missing(session: Session, ctx: issuing.IssuingContext, *, who: str,
                  batch: int = 500) -> int:
    """Issue the certificates ``missing`` finds, committing every ``batch`` people (a
    national backlog is not one transaction); audited once per batch as
    ``certificate.issued_missing`` with the count. Returns how many were issued."""
    done = 0
    while pairs := missing(session, batch):
        for person_id, programme_id in pairs:
            person = _lock_person(session, person_id)
            _issue(session, person, programme_id, ctx, None)
        audit(session, who, "certificate.issued_missing", "certificates", count=len(pairs))
        session.commit()
        done += len(pairs)
    return done
