"""The texts the kit sends to people, and finding where to send one about a person.

Each text is an N_()-marked message id with %(name)s params, rendered in the reader's
language when the worker sends it (cowin_kit.notifications.worker). Kept short: one SMS
segment in most scripts. Params never hold an OTP or an ID number.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from cowin_kit.accounts.models import CitizenAccount
from cowin_kit.notifications.models import OutboxMessage
from cowin_kit.notifications.outbox import enqueue
from cowin_kit.plugins.interfaces import N_

BOOKING_CONFIRMED = N_("%(name)s: dose %(dose)s booked at %(centre)s on %(date)s, "
                       "%(slot)s. Secret code %(code)s: show it at the centre.")
BOOKING_RESCHEDULED = N_("%(name)s: dose %(dose)s moved to %(centre)s on %(date)s, "
                         "%(slot)s. Secret code %(code)s.")
BOOKING_CANCELLED = N_("%(name)s: your appointment at %(centre)s on %(date)s is cancelled. "
                       "You may book again.")
SESSION_CANCELLED = N_("%(name)s: the session at %(centre)s on %(date)s is cancelled "
                       "(%(reason)s). Your appointment is cancelled; please book again.")
DOSE_RECORDED = N_("%(name)s: dose %(dose)s of %(vaccine)s recorded on %(date)s at "
                   "%(centre)s. Get your certificate at %(url)s")
CERTIFICATE_CORRECTED = N_("%(name)s: your details were corrected and a new vaccination "
                           "certificate issued; the earlier one is no longer valid. Get the "
                           "new one at %(url)s")
REMINDER_DUE = N_("%(name)s: dose %(dose)s of %(vaccine)s is due from %(date)s. Book at "
                  "%(url)s or walk in to a centre.")
REMINDER_OVERDUE = N_("%(name)s: dose %(dose)s of %(vaccine)s is overdue since %(date)s. "
                      "Please get it soon: book at %(url)s or walk in to a centre.")


def notify_person(session: Session, person, *, kind: str, msgid: str, params: dict,
                  dedupe_key: str | None = None) -> OutboxMessage | None:
    """Queue a text about ``person`` (a Beneficiary) to the mobile number of the account
    that registered them, in the person's language (else the account's). A person without
    a mobile number (a walk-in registered without one) gets nothing: None."""
    if person.account_id is None:
        return None
    account = session.get(CitizenAccount, person.account_id)
    if account is None:
        return None
    return enqueue(session, kind=kind, mobile=account.mobile,
                   language=person.language or account.language, msgid=msgid,
                   params=params, beneficiary_id=person.id, dedupe_key=dedupe_key)
