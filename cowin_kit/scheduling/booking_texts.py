"""The texts a booking change sends: queued in the outbox in the booking's own transaction
(cowin_kit.notifications.texts), so a refused or rolled-back change sends nothing and a
committed one is sent by the worker, in the person's language.

Called by cowin_kit.scheduling.booking (schedule, reschedule, cancel), which every entry
path uses: the portal, the API and the staff pages that book for a citizen.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from cowin_kit.accounts.models import CitizenAccount
from cowin_kit.notifications import outbox, texts
from cowin_kit.registration.models import Beneficiary
from cowin_kit.scheduling.models import Appointment, Facility, Slot, VaccinationSession

BOOKING_CONFIRMED = "booking.confirmed"
BOOKING_RESCHEDULED = "booking.rescheduled"
BOOKING_CANCELLED = "booking.cancelled"


def _language(session: Session, person: Beneficiary) -> str | None:
    """The language the person reads (theirs, else their account's), as notify_person
    chooses it; None: the deployment's default."""
    if person.language:
        return person.language
    account = session.get(CitizenAccount, person.account_id) if person.account_id else None
    return account.language if account is not None else None


def _centre(facility: Facility, lang: str | None) -> str:
    # The facility's name in the reader's language where the centre list gives one.
    return ((facility.names or {}).get(lang) if lang else None) or facility.name


def _params(session: Session, person: Beneficiary, appt: Appointment,
            vs: VaccinationSession, slot: Slot) -> dict:
    facility = session.get(Facility, vs.facility_id)
    return {"name": person.name, "dose": appt.dose_number,
            "centre": _centre(facility, _language(session, person)),
            "date": vs.date.strftime("%d-%m-%Y"),
            "slot": f"{slot.starts:%H:%M}-{slot.ends:%H:%M}",
            # The appointment's 4-digit code: the person shows it at the centre (not a
            # login code, so it may travel by SMS).
            "code": appt.secret_code}


def booked(session: Session, person: Beneficiary, appt: Appointment,
           vs: VaccinationSession, slot: Slot) -> None:
    texts.notify_person(session, person, kind=BOOKING_CONFIRMED,
                        msgid=texts.BOOKING_CONFIRMED,
                        params=_params(session, person, appt, vs, slot))


def booked_row(session: Session, person: Beneficiary, appt: dict, vs: VaccinationSession,
               slot: Slot, facility: Facility, now, account=None) -> dict | None:
    """The outbox row of ``booked``'s text, for the booking path that inserts its rows
    itself (cowin_kit.scheduling.taking); None for a person without a mobile number.
    ``appt`` is the appointment's row (dose_number, secret_code); ``account``: the
    person's account (its id, mobile and language) when the caller has it."""
    if account is None or account.id != person.account_id:
        account = (session.get(CitizenAccount, person.account_id) if person.account_id
                   else None)
    if account is None:  # the same rule as texts.notify_person
        return None
    language = person.language or account.language
    params = {"name": person.name, "dose": appt["dose_number"],
              "centre": _centre(facility, language), "date": vs.date.strftime("%d-%m-%Y"),
              "slot": f"{slot.starts:%H:%M}-{slot.ends:%H:%M}", "code": appt["secret_code"]}
    return outbox.message_row(kind=BOOKING_CONFIRMED, mobile=account.mobile,
                              language=language, msgid=texts.BOOKING_CONFIRMED,
                              params=params, beneficiary_id=person.id, now=now)


def rescheduled(session: Session, appt: Appointment) -> None:
    person = session.get(Beneficiary, appt.beneficiary_id)
    vs = session.get(VaccinationSession, appt.session_id)
    slot = session.get(Slot, appt.slot_id)
    texts.notify_person(session, person, kind=BOOKING_RESCHEDULED,
                        msgid=texts.BOOKING_RESCHEDULED,
                        params=_params(session, person, appt, vs, slot))


def cancelled(session: Session, appt: Appointment) -> None:
    person = session.get(Beneficiary, appt.beneficiary_id)
    vs = session.get(VaccinationSession, appt.session_id)
    params = _params(session, person, appt, vs, session.get(Slot, appt.slot_id))
    texts.notify_person(session, person, kind=BOOKING_CANCELLED,
                        msgid=texts.BOOKING_CANCELLED,
                        params={k: params[k] for k in ("name", "centre", "date")})
