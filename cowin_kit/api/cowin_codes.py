"""Co-WIN's error codes: the one table of which refusal answers with which Co-WIN
``errorCode`` (and, where Co-WIN's differed, which HTTP status), applied by
:func:`cowin_kit.api.errors.answer`.

Clients written for Co-WIN branch on its codes (a booking bot retries on ``APPOIN0040``, a
search page shows "Invalid Pincode" on ``APPOIN0018``), so a refusal that has a Co-WIN
equivalent answers with Co-WIN's code. A refusal is identified by its message id (the most
precise identity: ``booking.MSG_FULL`` is exactly "the session is full") or, for a family
of refusals that all mean the same to a client, by its error class. A refusal with no entry
keeps the kit's own code (its class's ``code``, else the status's: ``CONFLICT``,
``BAD_REQUEST``...), so a new refusal never borrows a code by accident.

Only codes seen in public Co-WIN client code are used; ``docs/api.md`` ("Errors and
limits") lists each with where it was seen. The domain modules do not know these codes:
they stay Flask-free and API-free; the portal and the CLI never see them.
"""
from __future__ import annotations

from dataclasses import dataclass

from cowin_kit.accounts import otp
from cowin_kit.errors import UserError
from cowin_kit.scheduling import booking


@dataclass(frozen=True)
class CowinCode:
    """What the API answers for a refusal: Co-WIN's ``code`` (or the kit's, when only the
    status changes), and the HTTP ``status`` when Co-WIN's was not the kit's (None: the
    error's own)."""

    code: str
    status: int | None = None


# The message ids below that have no constant in their module are written out; a test
# (tests/test_api_error_codes.py) checks that each is still a message id of the code.
MSG_PINCODE = "pincode must be a postal code of this country, e.g. %(example)s."  # api.public
MSG_HAS_APPOINTMENT = "%(name)s already has an appointment; reschedule or cancel it first."
MSG_HAS_APPOINTMENT_RACE = ("A beneficiary already has an appointment; reschedule or cancel "
                            "it first.")

SESSION_FULL = CowinCode("APPOIN0040", 409)
INVALID_PINCODE = CowinCode("APPOIN0018", 400)
EXISTING_APPOINTMENT = CowinCode("APPOIN0022", 409)
INVALID_OTP = CowinCode("USRAUT0014", 400)
INVALID_MOBILE = CowinCode("USRAUT0010", 400)
# Co-WIN answered login throttling with 403 (clients read a 403 as "too many requests");
# the kit's codes stay, and so does Retry-After.
THROTTLED = CowinCode(otp.OtpThrottled.code, 403)
TOO_MANY_TRIES = CowinCode(otp.TooManyTries.code, 403)

# A refusal's message id -> its answer. Checked before the classes.
BY_MSGID: dict[str, CowinCode] = {
    booking.MSG_FULL: SESSION_FULL,
    MSG_PINCODE: INVALID_PINCODE,
    MSG_HAS_APPOINTMENT: EXISTING_APPOINTMENT,
    MSG_HAS_APPOINTMENT_RACE: EXISTING_APPOINTMENT,
}

# An error class (and its subclasses) -> its answer, whatever its message.
BY_CLASS: dict[type[UserError], CowinCode] = {
    otp.WrongOtp: INVALID_OTP,
    otp.InvalidMobile: INVALID_MOBILE,
    otp.OtpThrottled: THROTTLED,
    otp.TooManyTries: TOO_MANY_TRIES,
}

# Co-WIN codes that a view raises itself (``ApiError(..., code=...)``) rather than through
# this table: listed so that the documentation covers them too.
CAPTCHA_WRONG = "APPOIN0044"  # appointment/schedule with a wrong captcha (api.citizen)
RAISED_BY_VIEWS: dict[str, str] = {CAPTCHA_WRONG: "appointment/schedule: wrong captcha"}


def lookup(exc: UserError) -> CowinCode | None:
    """The table's answer for ``exc``: by its message id, else by the nearest of its classes
    that has one; None when it has no Co-WIN equivalent."""
    found = BY_MSGID.get(exc.msgid)
    if found is not None:
        return found
    for cls in type(exc).__mro__:
        if cls in BY_CLASS:
            return BY_CLASS[cls]
    return None


def all_codes() -> set[str]:
    """Every errorCode the table gives, and the ones views raise themselves."""
    return ({entry.code for entry in (*BY_MSGID.values(), *BY_CLASS.values())}
            | set(RAISED_BY_VIEWS))
