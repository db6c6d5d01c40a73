"""ID document types, and beneficiaries with their ID numbers.

Accounts, family limits and booking arrive with the citizen-journey issue; what is here
is the ID part every registration path (web, API, call centre, walk-in) goes through."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cowin_kit.profiles import Profile
from cowin_kit.registration.models import IdDocumentType


def load_profile_id_documents(session: Session, profile: Profile) -> int:
    """Create the profile's ID document types that are missing; returns how many."""
    have = {t.code for t in session.scalars(select(IdDocumentType))}
    created = 0
    for order, spec in enumerate(profile["id_documents"]):
        if spec["code"] in have:
            continue
        session.add(IdDocumentType(code=spec["code"], provider=spec["provider"],
                                   name=spec["name"], names=spec["names"], sort_order=order))
        created += 1
    session.flush()
    return created


# --- beneficiaries and their ID numbers ------------------------------------------------

import datetime as dt  # noqa: E402
import logging  # noqa: E402
import math  # noqa: E402
import secrets as _secrets  # noqa: E402
from dataclasses import dataclass  # noqa: E402

from sqlalchemy.exc import IntegrityError  # noqa: E402

from cowin_kit.db import utcnow  # noqa: E402
from cowin_kit.errors import UserError  # noqa: E402
from cowin_kit.plugins.interfaces import N_, IdClaims, IdProvider  # noqa: E402
from cowin_kit.registration import choices, ids  # noqa: E402
from cowin_kit.registration.models import Beneficiary, IdVerificationStatus  # noqa: E402

GENDERS = tuple(code for _id, code, _label in choices.GENDERS)  # the stored codes
# Also the portal form's own checks (portal.forms), so both say the same.
MSG_NAME = N_("Enter the name as on the ID document.")
MSG_GENDER = N_("Choose a gender from the list.")
MSG_UNKNOWN_GROUP = N_("This priority group is not one of the deployment's.")
# Refusing a number that is already registered tells whoever typed it that it is: a national
# system cannot keep "one person, one record" without that bit. So the answer says no more
# than the bit, as Co-WIN's did (not whose it is, not where: no name, reference, masked number
# or mobile; the same words whichever account holds it), and the tries are few
# (MEMBER_TRIES_*), logged and audited. The owner of the record is told plainly.
MSG_DUPLICATE = N_("This ID number cannot be registered online. Check the number; if it is "
                   "right, take the document to a vaccination centre, where staff can help.")
MSG_ALREADY_MEMBER = N_("This person is already one of the members of this account.")
MSG_THROTTLED = N_("Too many people were added from this account or this network in a short "
                   "time; try again in %(minutes)s minutes.")

# One rule for every way a citizen adds a member (portal and API), counted in the shared
# limit store so that it holds across workers and machines. Every try counts, whatever its
# outcome. An address may be a whole carrier's NAT, hence its larger allowance.
MEMBER_TRIES_PER_ACCOUNT = "20 per hour;50 per day"
MEMBER_TRIES_PER_ADDRESS = "60 per hour;300 per day"
# A third refusal for a number registered elsewhere within the hour is audited as a probe.
DUPLICATES_BEFORE_AUDIT = "2 per hour"

log = logging.getLogger("cowin_kit.security")


class RegistrationError(UserError):
    """A registration is refused (cowin_kit.errors: message id, field, params; 400)."""


class DuplicateId(RegistrationError):
    status = 409


class TooManyBeneficiaries(RegistrationError):
    status = 409


class RegistrationThrottled(RegistrationError):
    """Too many tries from the account or the address; ``retry_after`` in seconds."""

    status = 429

    def __init__(self, retry_after: int):
        super().__init__(MSG_THROTTLED, "beneficiaries", retry_after=retry_after,
                         minutes=max(1, math.ceil(retry_after / 60)))


@dataclass
class IdContext:
    """What ID handling needs from the deployment: providers and keys, no Flask."""

    providers: dict[str, IdProvider]  # ID document code -> provider
    hash_key: str
    encryption_key: str
    verify_timeout: float = 5
    verify_retries: int = 1

    @classmethod
    def from_settings(cls, providers, settings) -> IdContext:
        return cls(providers, settings["ID_HASH_KEY"], settings["ID_ENCRYPTION_KEY"],
                   settings["ID_VERIFY_TIMEOUT"], settings["ID_VERIFY_RETRIES"])


def _new_reference_id(session: Session) -> str:
    while True:
        ref = "".join(_secrets.choice("0123456789") for _ in range(14))
        if ref[0] != "0" and session.scalar(
                select(Beneficiary.id).where(Beneficiary.reference_id == ref)) is None:
            return ref


MSG_TOO_MANY = N_("This mobile number already has %(max)s people registered, the most "
                  "allowed.")


def register_beneficiary(session: Session, ctx: IdContext, *, document_code: str,
                         id_number: str, name: str, birth_year: int, gender: str,
                         current_year: int | None = None, account_id: int | None = None,
                         max_per_account: int | None = None,
                         language: str | None = None,
                         priority_groups: list[str] | None = None,
                         known_groups: set[str] | None = None,
                         limits=None, address: str | None = None,
                         actor: str | None = None,
                         birth_date: dt.date | None = None,
                         today: dt.date | None = None) -> Beneficiary:
    """Check the ID with its provider, refuse a number already registered, store it as a
    keyed hash plus encrypted and masked forms, and ask the registry when the provider
    can: a registry that does not answer leaves the person ``unavailable`` (to reverify),
    never refused.

    ``limits`` (the deployment's cowin_kit.ratelimits.RateLimits) counts the tries of the
    account and of ``address`` (the client's) against MEMBER_TRIES_*: citizen callers pass
    both; RegistrationThrottled (429) when one is spent. The registration is audited as
    ``actor`` (default ``citizen:<account_id>``). ``birth_date`` is asked for where a
    programme counts age from it (a child's routine schedule); it must fall in
    ``birth_year`` and, given ``today`` (the caller's local date), not after it."""
    from sqlalchemy import func

    from cowin_kit.accounts.service import audit

    _count_try(limits, account_id, address)
    if account_id is not None and max_per_account is not None:
        _lock_account(session, account_id)  # count and insert as one, whatever the concurrency
        registered = session.scalar(select(func.count()).select_from(Beneficiary)
                                    .where(Beneficiary.account_id == account_id)) or 0
        if registered >= max_per_account:
            raise TooManyBeneficiaries(MSG_TOO_MANY, "beneficiaries", max=max_per_account)
    doc, provider = _document(session, ctx, document_code)
    name, groups = _check_details(name, birth_year, gender, priority_groups, known_groups,
                                  current_year)
    _check_birth_date(birth_date, birth_year, today)
    number, digest = _checked_number(ctx, doc, provider, id_number)
    holder = session.execute(select(Beneficiary.account_id).where(
        Beneficiary.id_number_hash == digest)).first()
    if holder is not None:
        raise _duplicate(session, limits, account_id, holder.account_id, doc.code)
    person = Beneficiary(reference_id=_new_reference_id(session), name=name,
                         account_id=account_id, language=language, priority_groups=groups,
                         birth_year=birth_year, birth_date=birth_date, gender=gender,
                         id_document_type=doc,
                         id_number_hash=digest,
                         id_number_encrypted=ids.encrypt_number(ctx.encryption_key, number),
                         id_number_masked=provider.mask(number))
    if getattr(provider, "can_verify", False):
        _record(person, ids.verify_online(provider, number, IdClaims(name, birth_year),
                                          timeout=ctx.verify_timeout,
                                          retries=ctx.verify_retries))
    session.add(person)
    try:
        session.flush()
    except IntegrityError:  # the same number registered concurrently
        session.rollback()
        raise DuplicateId(MSG_DUPLICATE, "id_number") from None
    audit(session, actor or _citizen(account_id), "beneficiary.registered",
          f"beneficiary:{person.id}", document=doc.code)
    return person


def _document(session: Session, ctx: IdContext, document_code) -> tuple[IdDocumentType,
                                                                         IdProvider]:
    doc = session.scalar(select(IdDocumentType).where(IdDocumentType.code == document_code,
                                                      IdDocumentType.is_active.is_(True)))
    provider = ctx.providers.get(document_code)
    if doc is None or provider is None:
        raise RegistrationError(N_("This ID document type is not accepted here."), "id_type")
    return doc, provider


def _checked_number(ctx: IdContext, doc: IdDocumentType, provider: IdProvider,
                    id_number) -> tuple[str, str]:
    """(the canonical number, its look-up hash), the number checked by its provider."""
    from cowin_kit.plugins.interfaces import InvalidIdNumber

    try:
        number = ids.check_id(provider, id_number)
    except InvalidIdNumber as exc:
        raise RegistrationError(exc.msgid, "id_number", **exc.params) from None
    return number, ids.lookup_hash(ctx.hash_key, doc.code, number)


def find_by_id_number(session: Session, ctx: IdContext, *, document_code: str,
                      id_number: str) -> Beneficiary | None:
    """The person registered with this ID number (checked by its provider first), or None:
    how staff at a centre or a call centre find someone already registered (by their
    family, online) instead of registering them twice. Never for citizens: to them a
    registered number is only ever refused (MSG_DUPLICATE)."""
    doc, provider = _document(session, ctx, document_code)
    _number, digest = _checked_number(ctx, doc, provider, id_number)
    return session.scalar(select(Beneficiary).where(Beneficiary.id_number_hash == digest))


def _citizen(account_id: int | None) -> str:
    return f"citizen:{account_id}" if account_id is not None else "system"


def _count_try(limits, account_id: int | None, address: str | None) -> None:
    if limits is None:
        return
    rules = getattr(limits, "rules", {})
    for scope, key, rule in (
            ("member-tries-account", account_id,
             rules.get("MEMBER_TRIES_PER_ACCOUNT", MEMBER_TRIES_PER_ACCOUNT)),
            ("member-tries-address", address,
             rules.get("MEMBER_TRIES_PER_ADDRESS", MEMBER_TRIES_PER_ADDRESS))):
        if key is None:
            continue
        wait = limits.hit(scope, str(key), rule)
        if wait is not None:
            log.warning("member registration refused: too many tries (%s, account %s)",
                        scope.rsplit("-", 1)[1], account_id)
            raise RegistrationThrottled(wait)


def _duplicate(session: Session, limits, account_id: int | None, holder: int | None,
               document: str) -> DuplicateId:
    """The refusal of a number already registered, logged (never the number) and, when an
    account keeps trying numbers registered elsewhere, audited as a probe. The audit entry
    is committed here: the refused request's rollback must not erase it."""
    from cowin_kit.accounts.service import audit

    if account_id is not None and holder == account_id:
        return DuplicateId(MSG_ALREADY_MEMBER, "id_number")
    probe = account_id is not None and limits is not None and limits.hit(
        "member-duplicates", str(account_id), DUPLICATES_BEFORE_AUDIT) is not None
    log.warning("member registration refused: a %s number registered elsewhere (account "
                "%s%s)", document, account_id, "; audited as a probe" if probe else "")
    if probe:
        session.rollback()  # nothing of this registration was written; keep only the audit
        audit(session, _citizen(account_id), "registration.duplicate_probe",
              f"citizen_account:{account_id}", document=document)
        session.commit()
    return DuplicateId(MSG_DUPLICATE, "id_number")


def _check_birth_date(birth_date, birth_year, today: dt.date | None = None) -> None:
    if birth_date is None:
        return
    # The year of birth is checked against the current year already.
    if not isinstance(birth_date, dt.date) or birth_date.year != birth_year:
        raise RegistrationError(N_("Enter a date of birth in the year of birth."),
                                "birth_date")
    if today is not None and birth_date > today:
        raise RegistrationError(N_("Enter a date of birth that is not in the future."),
                                "birth_date")


# update_beneficiary's birth_date when the caller does not set it: the stored one is kept.
KEEP = object()


def _check_details(name: str, birth_year, gender: str, priority_groups, known_groups,
                   current_year: int | None) -> tuple[str, list[str]]:
    """The checks shared by registering and editing; returns the tidied name and groups."""
    name = " ".join((name or "").split())
    if not name or len(name) > 200 or not name.isprintable():  # no NULs or control codes
        raise RegistrationError(MSG_NAME, "name")
    year = current_year or utcnow().year
    if not isinstance(birth_year, int) or not year - 120 <= birth_year <= year:
        raise RegistrationError(N_("Enter a year of birth between %(low)s and %(high)s."),
                                "birth_year", low=year - 120, high=year)
    if gender not in GENDERS:
        raise RegistrationError(MSG_GENDER, "gender")
    groups = sorted(set(priority_groups or []))
    if known_groups is not None and not set(groups) <= known_groups:
        raise RegistrationError(MSG_UNKNOWN_GROUP, "priority_groups")
    return name, groups


MSG_NOT_FOUND = N_("This beneficiary does not exist.")
MSG_HAS_DOSE = N_("A person with a recorded dose cannot be deleted.")
MSG_EDIT_HAS_DOSE = N_("A person with a recorded dose cannot be changed here; ask at a "
                       "vaccination centre to correct the record.")


class BeneficiaryNotFound(RegistrationError):
    """Unknown, or another account's (the same answer, so nobody can probe)."""

    status = 404


class HasDoses(RegistrationError):
    status = 409


def account_beneficiary(session: Session, account_id: int, reference_id) -> Beneficiary:
    """One of the account's beneficiaries by its 14-digit reference id."""
    person = None
    if (isinstance(reference_id, str) and reference_id.isascii() and reference_id.isdigit()
            and len(reference_id) <= 20):
        person = session.scalar(select(Beneficiary).where(
            Beneficiary.reference_id == reference_id, Beneficiary.account_id == account_id))
    if person is None:
        raise BeneficiaryNotFound(MSG_NOT_FOUND, "beneficiary")
    return person


def _has_doses(session: Session, person: Beneficiary) -> bool:
    from cowin_kit.vaccination.models import Dose

    return session.scalar(select(Dose.id).where(Dose.beneficiary_id == person.id)
                          .limit(1)) is not None


MSG_EDIT_BREAKS_APPOINTMENT = N_("With these details %(name)s could not keep the booked "
                                 "appointment: %(reason)s Cancel it first, then save.")


def update_beneficiary(session: Session, *, account_id: int, reference_id: str, name: str,
                       birth_year: int, gender: str, priority_groups: list[str] | None = None,
                       known_groups: set[str] | None = None,
                       current_year: int | None = None,
                       ctx: IdContext | None = None, birth_date=KEEP,
                       today: dt.date | None = None) -> Beneficiary:
    """Correct a member's name, year or date of birth, gender or priority groups. Refused once
    a dose is recorded (the vaccination record must match what was given), and when the new
    details would make the booked appointment one the person is not eligible for. The ID
    document is not edited: it is what makes the person unique; remove the member and add
    them again to change it. A registry check was made against the old name and year, so
    when they change it is made again (``ctx``), or left to `ids reverify`. ``birth_date``:
    a date (checked as register_beneficiary checks it), None to forget it, or KEEP (the
    default) to keep the stored one, dropped if it no longer falls in the year of birth.
    Flushed; the caller commits."""
    from cowin_kit.scheduling import booking
    from cowin_kit.scheduling.models import Appointment, AppointmentStatus

    person = account_beneficiary(session, account_id, reference_id)
    if _has_doses(session, person):
        raise HasDoses(MSG_EDIT_HAS_DOSE, "beneficiary")
    new_name, groups = _check_details(name, birth_year, gender, priority_groups, known_groups,
                                      current_year)
    if birth_date is not KEEP:
        _check_birth_date(birth_date, birth_year, today)
    elif person.birth_date is not None and person.birth_date.year != birth_year:
        birth_date = None  # it no longer agrees: asked for again where needed
    else:
        birth_date = person.birth_date
    claims_changed = (new_name, birth_year) != (person.name, person.birth_year)
    changed = [field for field, old, new in (
        ("name", person.name, new_name), ("birth_year", person.birth_year, birth_year),
        ("birth_date", person.birth_date, birth_date),
        ("gender", person.gender, gender),
        ("priority_groups", sorted(person.priority_groups or []), groups)) if old != new]
    person.name, person.priority_groups = new_name, groups
    person.birth_year, person.birth_date, person.gender = birth_year, birth_date, gender
    active = session.scalar(select(Appointment).where(
        Appointment.beneficiary_id == person.id, Appointment.status == AppointmentStatus.BOOKED))
    if active is not None:
        try:
            booking.check_eligible(session, person, active.session, active.dose_number)
        except booking.BookingError as exc:
            # The booking's reason is rendered with this message, in the reader's language.
            field = {"beneficiaries": "birth_year", "birth_date": "birth_date"}.get(exc.field,
                                                                                    "name")
            raise RegistrationError(MSG_EDIT_BREAKS_APPOINTMENT, field, name=new_name,
                                    reason=exc) from None
    if claims_changed and person.id_verification_status != IdVerificationStatus.UNVERIFIED:
        provider = ctx.providers.get(person.id_document_type.code) if ctx else None
        if provider is not None and getattr(provider, "can_verify", False):
            number = ids.decrypt_number(ctx.encryption_key, person.id_number_encrypted)
            _record(person, ids.verify_online(provider, number, IdClaims(new_name, birth_year),
                                              timeout=ctx.verify_timeout,
                                              retries=ctx.verify_retries))
        else:  # nobody can ask the registry now: ask again later (`cowin-kit ids reverify`)
            person.id_verification_status = IdVerificationStatus.UNVERIFIED
    if changed:  # which fields, never their values
        from cowin_kit.accounts.service import audit

        audit(session, _citizen(account_id), "beneficiary.updated", f"beneficiary:{person.id}",
              fields=changed)
    session.flush()
    return person


def delete_beneficiary(session: Session, *, account_id: int, reference_id: str) -> None:
    """Remove a member who has no recorded dose; an active appointment is cancelled first,
    so its place goes back to the session. Flushed; the caller commits."""
    from cowin_kit.accounts.service import audit
    from cowin_kit.db import begin_write
    from cowin_kit.metrics import note
    from cowin_kit.notifications.outbox import forget_person
    from cowin_kit.scheduling import places
    from cowin_kit.scheduling.models import Appointment

    begin_write(session)
    person = account_beneficiary(session, account_id, reference_id)
    # The lock order of every place-moving operation: the person, then the appointments.
    if person.id not in places.lock_people(session, [person.id]):  # removed meanwhile
        raise BeneficiaryNotFound(MSG_NOT_FOUND, "beneficiary")
    if _has_doses(session, person):
        raise HasDoses(MSG_HAS_DOSE, "beneficiary")
    appointments = places.lock_appointments(session, session.scalars(
        select(Appointment.id).where(Appointment.beneficiary_id == person.id)).all())
    # Every appointment that holds a place (booked, or missed in a past session) gives
    # it back before its row goes, so places taken = appointments holding one.
    released = places.release(session, appointments)
    note(session, "booking", "cancelled", len(released))  # counted when the deletion commits
    for appointment in appointments:
        session.delete(appointment)
    session.flush()
    forget_person(session, person.id)  # their texts waiting in the outbox
    session.delete(person)
    session.flush()
    audit(session, f"citizen:{account_id}", "beneficiary.deleted", f"beneficiary:{person.id}",
          appointments_released=len(released))


def _lock_account(session: Session, account_id: int) -> None:
    """Serialise registrations of one account: a row lock on PostgreSQL, the database write
    lock on SQLite (taken before reading, as booking does)."""
    from cowin_kit.accounts.models import CitizenAccount
    from cowin_kit.db import begin_write

    begin_write(session)
    if session.get_bind().dialect.name == "sqlite":
        return
    session.execute(select(CitizenAccount.id).where(CitizenAccount.id == account_id)
                    .with_for_update())


def _record(person: Beneficiary, result) -> None:
    person.id_verification_status = IdVerificationStatus(result.status)
    person.id_verified_at = result.checked_at
    person.id_verification_reference = (result.reference or result.reason or "")[:120]


def reverify_pending(session: Session, ctx: IdContext, limit: int | None = None) -> dict[str, int]:
    """Ask the registries again about people they could not answer for; returns counts
    by outcome. Those whose provider cannot verify are left as they are."""
    verifiable = [code for code, p in ctx.providers.items() if getattr(p, "can_verify", False)]
    counts: dict[str, int] = {}
    if not verifiable:
        return counts
    query = (select(Beneficiary).join(Beneficiary.id_document_type)
             .where(Beneficiary.id_verification_status.in_((IdVerificationStatus.UNVERIFIED,
                                                             IdVerificationStatus.UNAVAILABLE)),
                    IdDocumentType.code.in_(verifiable))
             .order_by(Beneficiary.id))
    if limit:
        query = query.limit(limit)
    for person in session.scalars(query):
        provider = ctx.providers[person.id_document_type.code]
        number = ids.decrypt_number(ctx.encryption_key, person.id_number_encrypted)
        result = ids.verify_online(provider, number, IdClaims(person.name, person.birth_year),
                                   timeout=ctx.verify_timeout, retries=ctx.verify_retries)
        _record(person, result)
        counts[result.status] = counts.get(result.status, 0) + 1
    session.flush()
    return counts
