"""Registering and booking for someone else: staff at a centre (walk-ins) and call-centre or
service-centre operators (assisted registration).

The rules are registration.service's (the ID checked by its provider, one person one record
by the keyed hash of the number, the most members per mobile) and booking's; what is here
is what differs when staff act: a person already registered is found, not refused; a mobile
number's account is made when it has none yet; the citizen's consent is an OTP they read
out (purpose "assisted", which logs nobody in) or the operator's attestation; and every
step is audited as the staff user, in the area it concerns. Flask-free; the caller commits.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cowin_kit.accounts import otp
from cowin_kit.accounts.models import CitizenAccount
from cowin_kit.accounts.service import actor as staff_actor, audit, in_area
from cowin_kit.plugins.interfaces import N_
from cowin_kit.registration import service as registration
from cowin_kit.registration.models import Beneficiary
from cowin_kit.scheduling import booking, walk_in
from cowin_kit.scheduling.models import Appointment, AppointmentSource, VaccinationSession

# A person found by their ID number who is not of the mobile's family: the operator may
# not see them (nor book for them) through this call.
MSG_OTHER_FAMILY = N_("This ID number is registered already, and the person is not one you "
                      "may see in this call.")
CONSENT_OTP = "otp"
CONSENT_ATTESTED = "attested"


@dataclass
class Registered:
    person: Beneficiary
    found: bool  # already registered (by their family, online, at another centre)


def account_for_mobile(session: Session, mobile: str, language: str | None) -> CitizenAccount:
    """The citizen account of an E.164 mobile number, made when the number has none (the
    citizen logs in with it later by OTP, as anyone else)."""
    account = session.scalar(select(CitizenAccount).where(CitizenAccount.mobile == mobile))
    if account is not None:
        return account
    try:
        with session.begin_nested():
            account = CitizenAccount(mobile=mobile, language=language)
            session.add(account)
            session.flush()
    except IntegrityError:  # made meanwhile by the citizen's own login
        account = session.scalar(select(CitizenAccount).where(CitizenAccount.mobile == mobile))
    return account


def find_person(session: Session, ctx: registration.IdContext, *, user,
                division_id: int | None, activity: str, document_code: str,
                id_number: str) -> Beneficiary | None:
    """The person registered with this ID number (checked by its provider), or None; a
    person found is audited as ``<activity>.found`` (staff looked at their record)."""
    found = registration.find_by_id_number(session, ctx, document_code=document_code,
                                           id_number=id_number)
    if found is not None:
        audit(session, staff_actor(user), f"{activity}.found", f"beneficiary:{found.id}",
              division_id=division_id)
    return found


def find_or_register(session: Session, ctx: registration.IdContext, *, user,
                     division_id: int | None, activity: str, document_code: str,
                     id_number: str, name: str, birth_year: int, gender: str,
                     mobile: str | None, language: str | None, max_per_mobile: int,
                     current_year: int, today: dt.date,
                     birth_date: dt.date | None = None) -> Registered:
    """The person with this ID number if registered already, else registered now (attached
    to ``mobile``'s account, or to none without a mobile), audited as ``<activity>.found``
    or ``<activity>.registered`` (activity "walk_in", "assist") in ``division_id``."""
    found = find_person(session, ctx, user=user, division_id=division_id, activity=activity,
                        document_code=document_code, id_number=id_number)
    if found is not None:
        return Registered(found, found=True)
    account_id = None
    if mobile is not None:
        account_id = account_for_mobile(session, mobile, language).id
    person = registration.register_beneficiary(
        session, ctx, document_code=document_code, id_number=id_number, name=name,
        birth_year=birth_year, gender=gender, current_year=current_year,
        account_id=account_id, max_per_account=max_per_mobile, language=language,
        actor=staff_actor(user), birth_date=birth_date, today=today)
    audit(session, staff_actor(user), f"{activity}.registered", f"beneficiary:{person.id}",
          division_id=division_id, mobile=mobile is not None)
    return Registered(person, found=False)


# --- consent -----------------------------------------------------------------------------

def send_consent_code(session: Session, *, mobile_raw: str, region: str | None, messenger,
                      settings, lang: str | None, service: str) -> tuple[str, str]:
    """Send the citizen a code to read out to the operator: (txnId, the E.164 number). The
    OTP's own limits apply (resend wait, daily cap per number)."""
    mobile = otp.normalize_mobile(mobile_raw, region)
    txn = otp.generate_otp(session, mobile_raw=mobile, region=region, purpose=otp.CONSENT,
                           messenger=messenger, settings=settings, lang=lang, service=service)
    return txn, mobile


def confirm_consent(session: Session, *, user, txn_id: str, code: str, settings) -> str:
    """Check the code the citizen read out; returns the mobile number it proves. Refusals
    are otp's (a wrong code counts as a try, and is committed)."""
    txn = otp.use_otp(session, txn_id=txn_id, otp_sha256=otp.otp_digest(code.strip()),
                      settings=settings, purpose=otp.CONSENT)
    audit(session, staff_actor(user), "assist.consent", f"otp:{txn.id}",
          division_id=user.division_id, consent=CONSENT_OTP)
    return txn.mobile


def attest_consent(session: Session, *, user) -> None:
    """The operator attests the citizen's consent (no code could be received)."""
    audit(session, staff_actor(user), "assist.consent", None, division_id=user.division_id,
          consent=CONSENT_ATTESTED)


def visible_people(session: Session, *, mobile: str, consent: str,
                   registered_ids: list[int]) -> list[Beneficiary]:
    """Whom the operator may see of a mobile's account: everyone after an OTP; after an
    attestation, only the people they registered in this call."""
    account = session.scalar(select(CitizenAccount).where(CitizenAccount.mobile == mobile))
    if account is None:
        return []
    query = select(Beneficiary).where(Beneficiary.account_id == account.id)
    if consent != CONSENT_OTP:
        query = query.where(Beneficiary.id.in_(registered_ids or [-1]))
    return list(session.scalars(query.order_by(Beneficiary.id)))


def book_for(session: Session, *, user, area: list[int] | None, person: Beneficiary,
             session_id, slot, consent: str, today: dt.date,
             now: dt.time | None, zone_of=None) -> Appointment:
    """Book a session for a person of a verified mobile, through the booking service
    (source assisted, booked by the operator). A session outside the operator's area is
    OutsideArea (403)."""
    vs = None
    if isinstance(session_id, str) and len(session_id) <= 40:
        vs = session.get(VaccinationSession, session_id)
    if vs is None:
        raise booking.NotFound(booking.MSG_NO_SESSION, "session_id")
    division_id = vs.facility.division_id
    if not in_area(area, division_id):
        raise walk_in.OutsideArea(walk_in.MSG_OUTSIDE, "session_id")
    if vs.cancelled_at is not None:  # the booking's own refusal, before next_dose
        raise booking.Conflict(booking.MSG_SESSION_CANCELLED, "session_id")
    from cowin_kit.programmes.models import Product

    dose = walk_in.next_dose(session, person, session.get(Product, vs.product_id))
    appointment, = booking.schedule(
        session, account_id=person.account_id, beneficiary_ids=[person.id],
        session_id=vs.id, slot=slot, dose=dose, today=today, now=now,
        source=AppointmentSource.ASSISTED, booked_by=user.id, actor=staff_actor(user),
        zone_of=zone_of)
    audit(session, staff_actor(user), "assist.booked", f"appointment:{appointment.id}",
          division_id=division_id, consent=consent, session_id=vs.id, dose=dose)
    return appointment
