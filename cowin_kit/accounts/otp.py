"""Citizen login by mobile OTP, and the Bearer tokens it gives (Co-WIN's generateOTP and
confirmOTP). No Flask: the API, the web portal and the benchmarks call the same functions.

Co-WIN clients send the SHA-256 hex digest of the code, never the code itself, so what we keep
is HMAC-SHA256(SECRET_KEY, sha256hex(code)): the comparison works on what clients send, and a
copy of the table reveals nothing (a plain hash of a 6-digit code is reversed in a blink).
Neither the code nor the full number is ever logged.

Tokens are JWTs (HS256), as Co-WIN's were, so that clients can read ``exp``; the key is derived
from SECRET_KEY (token_key), never SECRET_KEY itself. Their claims hold nothing personal: an
opaque per-account id, the user type, the OTP's txnId, iat, exp and a jti. The server keeps
the SHA-256 of the whole token (ApiToken.token_hash) and finds it by that hash on every call,
so logout, revocation and expiry end a token whatever its signature says, and any change to
the string (its signature, header or claims) makes it unknown.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import math
import re
import secrets
import uuid
from datetime import datetime, timedelta
from typing import NamedTuple

import jwt
import phonenumbers
from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.orm import Session

from cowin_kit.accounts.models import ApiToken, CitizenAccount, OtpTransaction
from cowin_kit.db import utcnow
from cowin_kit.errors import UserError
from cowin_kit.metrics import note
from cowin_kit.notifications.service import OTP_TEXT
from cowin_kit.plugins.builtin.ids.base import ascii_digits
from cowin_kit.plugins.interfaces import N_

log = logging.getLogger("cowin_kit.security")  # OTPs sent and refused, logins: LOG_FILE

# "web": Co-WIN's web-app login (auth/generateMobileOTP, auth/validateMobileOtp); its token
# works for every logged-in call, like the public and partner ones.
WEB = "web"
# "assisted": a code a call-centre operator asks the citizen to read out, as consent to
# register and book for them (cowin_kit.registration.assisted); it logs nobody in.
CONSENT = "assisted"
PURPOSES = ("public", "partner", WEB, CONSENT)
CODE_DIGITS = 6
DAY = timedelta(hours=24)
_MOBILE_CHARS = re.compile(r"^[0-9 +().\-]{1,30}$")  # no letters: no vanity numbers
# Invisible direction marks that a number copied from right-to-left text carries along.
_BIDI_MARKS = re.compile("[\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_MOBILE_TYPES = (phonenumbers.PhoneNumberType.MOBILE,
                 phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


# --- errors ------------------------------------------------------------------------------

class LoginError(UserError):
    """A login step is refused (cowin_kit.errors: message id, field, params). Each kind has
    its own HTTP status and API ``code``; ``retry_after`` (seconds) comes with a 429."""

    code = "LOGIN"


class InvalidMobile(LoginError):
    status, code = 400, "INVALID_MOBILE"


class OtpThrottled(LoginError):
    status, code = 429, "OTP_THROTTLED"


class OtpNotSent(LoginError):
    status, code = 503, "OTP_NOT_SENT"


class InvalidTransaction(LoginError):
    status, code = 400, "INVALID_TXN"


class InvalidOtpFormat(LoginError):
    status, code = 400, "INVALID_OTP_FORMAT"


class OtpExpired(LoginError):
    status, code = 401, "OTP_EXPIRED"


class OtpAlreadyUsed(LoginError):
    status, code = 401, "OTP_USED"


class WrongOtp(LoginError):
    status, code = 401, "WRONG_OTP"


class TooManyTries(LoginError):
    status, code = 429, "OTP_TOO_MANY_TRIES"


class NotAuthenticated(LoginError):
    status, code = 401, "NOT_AUTHENTICATED"


MSG_MOBILE_INVALID = N_("Enter a valid mobile number.")
MSG_MOBILE_CHARS = N_("Enter a valid mobile number, using only digits (spaces, +, -, ( and ) "
                      "may separate them).")
MSG_MOBILE_INTERNATIONAL = N_("Enter the mobile number in international format, starting "
                              "with + and the country code.")
MSG_MOBILE_OTHER_COUNTRY = N_("Enter a mobile number of this country (%(region)s).")
MSG_MOBILE_NOT_MOBILE = N_("This is not a mobile number; enter a number that can receive "
                           "text messages.")
# Shown where a mobile number is entered in countries whose numbering plan gives landlines
# and mobiles the same ranges (mobile_type_uncertain): the check above cannot refuse a
# landline there, and an OTP sent to one never arrives.
MSG_SMS_MOBILE_HINT = N_("Give a mobile number that receives SMS: in this country a landline "
                         "number looks the same as a mobile one, and a code sent to a "
                         "landline never arrives.")
MSG_RESEND_WAIT = N_("An OTP was just sent to this number; wait %(seconds)s seconds before "
                     "asking for another.")
MSG_DAILY_CAP = N_("This number has received too many OTPs today; try again later.")
MSG_NOT_SENT = N_("The OTP could not be sent; try again in a moment.")
MSG_TXN_INVALID = N_("Unknown or malformed txnId; request a new OTP.")
MSG_OTP_FORMAT = N_("The OTP must be the SHA-256 hex digest of the code.")
MSG_EXPIRED = N_("OTP expired, request a new one.")
MSG_USED = N_("This OTP has already been used; request a new one.")
MSG_WRONG = N_("Incorrect OTP.")
MSG_TOO_MANY = N_("Too many tries, request a new OTP.")
MSG_NOT_AUTHENTICATED = N_("Not logged in, or the login has expired or ended; log in again.")


# --- mobile numbers ------------------------------------------------------------------------

def normalize_mobile(raw: str, region: str | None) -> str:
    """The E.164 form of a mobile number of ``region`` (the profile's phone_region).

    An empty region accepts only international numbers (``+`` and a country code) of any
    country. Digits of any script are read as 0-9: people in AE and IQ type Arabic-Indic
    ones, on Persian, Urdu and Kurdish keyboards Eastern Arabic-Indic ones, in India
    Devanagari ones. Raises InvalidMobile (field ``mobile``).

    >>> normalize_mobile("987 654 321", "PE")
    '+51987654321'
    >>> normalize_mobile("٠٥٠ ١٢٣ ٤٥٦٧", "AE")
    '+971501234567'
    """
    region = (region or "").upper() or None
    if not isinstance(raw, str) or len(raw) > 100:  # (never read a megabyte digit by digit)
        raise InvalidMobile(MSG_MOBILE_INVALID, "mobile")
    value = _BIDI_MARKS.sub("", ascii_digits(raw)).strip()
    if value and not _MOBILE_CHARS.match(value[:30]):  # letters, symbols, invisible ones
        raise InvalidMobile(MSG_MOBILE_CHARS, "mobile")
    if not _MOBILE_CHARS.match(value) or sum(c.isdigit() for c in value) < 3:
        raise InvalidMobile(MSG_MOBILE_INVALID, "mobile")
    if region is None and "+" not in value:
        raise InvalidMobile(MSG_MOBILE_INTERNATIONAL, "mobile")
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        raise InvalidMobile(MSG_MOBILE_INVALID, "mobile") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidMobile(MSG_MOBILE_INVALID, "mobile")
    if region is not None and not phonenumbers.is_valid_number_for_region(number, region):
        raise InvalidMobile(MSG_MOBILE_OTHER_COUNTRY, "mobile", region=region)
    if phonenumbers.number_type(number) not in _MOBILE_TYPES:
        raise InvalidMobile(MSG_MOBILE_NOT_MOBILE, "mobile")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mobile_type_uncertain(region: str | None) -> bool:
    """Whether libphonenumber cannot tell this region's mobiles from its landlines: the
    North American plan (CA, DO, US…) and Mexico share ranges between both, and some of
    India's ranges are listed as "fixed line or mobile", so a landline passes the check of
    ``normalize_mobile`` there. Forms then ask for "a mobile that receives SMS".

    >>> [mobile_type_uncertain(r) for r in ("CA", "MX", "DO", "IN", "PE", "UG", None)]
    [True, True, True, True, False, False, False]
    """
    if not region:
        return False
    either = phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE
    examples = (phonenumbers.example_number_for_type(region, kind) for kind in (
        phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE))
    return any(n is not None and phonenumbers.number_type(n) == either for n in examples)


def mask_mobile(e164: str) -> str:
    """``+51*******21``: enough to tell numbers apart in logs, not to call them."""
    if len(e164) <= 6:
        return "*" * len(e164)
    return e164[:3] + "*" * (len(e164) - 5) + e164[-2:]


# --- hashing -------------------------------------------------------------------------------

def otp_digest(code: str) -> str:
    """What a Co-WIN client sends for ``code``: its SHA-256 hex digest."""
    return hashlib.sha256(code.encode("ascii")).hexdigest()


def _keyed(settings, otp_sha256: str) -> str:
    return hmac.new(str(settings["SECRET_KEY"]).encode("utf-8"), otp_sha256.encode("ascii"),
                    hashlib.sha256).hexdigest()


def _token_hash(token: str) -> str:
    # A token carries a 128-bit random jti and a 256-bit signature: its plain hash needs
    # no key, it cannot be reversed.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds()))


# --- generateOTP ---------------------------------------------------------------------------

def _lock_number(session: Session, mobile: str) -> None:
    """Serialise OTP requests for one number until the transaction ends, so concurrent
    requests (an SMS-bombing script) cannot all pass the throttles before any is stored."""
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(b"otp:" + mobile.encode()).digest()[:8], "big",
                             signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    else:
        # SQLite has one writer at a time: an UPDATE that changes nothing still takes the
        # write lock (waiting up to the busy timeout), so the checks below read fresh data.
        session.execute(text("UPDATE otp_transaction SET attempts = attempts WHERE id = ''"))


def generate_otp(session: Session, *, mobile_raw: str, region: str | None, purpose: str,
                 messenger, settings, lang: str | None, service: str,
                 now: datetime | None = None) -> str:
    """Send a new OTP to a mobile number; returns the txnId (a UUID string).

    ``service`` names the deployment in the SMS (e.g. the country's name). Raises
    InvalidMobile (400), OtpThrottled (429, with retry_after) or OtpNotSent (503). The row is
    flushed, not committed: the caller commits.
    """
    if purpose not in PURPOSES:
        raise ValueError(f"purpose must be one of {PURPOSES}, not {purpose!r}")
    now = now or utcnow()
    mobile = normalize_mobile(mobile_raw, region)
    _lock_number(session, mobile)

    recent = session.execute(
        select(func.count(), func.min(OtpTransaction.created_at),
               func.max(OtpTransaction.created_at))
        .where(OtpTransaction.mobile == mobile, OtpTransaction.created_at > now - DAY)).one()
    count, oldest, latest = recent
    resend = timedelta(seconds=settings["OTP_RESEND_SECONDS"])
    if latest is not None and latest + resend > now:
        wait = _seconds_until(latest + resend, now)
        log.info("OTP refused for %s: resend throttle (%ss)", mask_mobile(mobile), wait)
        raise OtpThrottled(MSG_RESEND_WAIT, "mobile", retry_after=wait, seconds=wait)
    if count >= settings["OTP_MAX_PER_NUMBER_PER_DAY"]:
        # The oldest OTP of the window leaves it first; then one more may be sent.
        wait = _seconds_until(oldest + DAY, now)
        log.info("OTP refused for %s: daily cap", mask_mobile(mobile))
        raise OtpThrottled(MSG_DAILY_CAP, "mobile", retry_after=wait)

    code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
    ttl = settings["OTP_TTL_SECONDS"]
    txn = OtpTransaction(id=str(uuid.uuid4()), mobile=mobile, purpose=purpose,
                         code_hash=_keyed(settings, otp_digest(code)), created_at=now,
                         expires_at=now + timedelta(seconds=ttl), attempts=0)
    session.add(txn)
    session.flush()  # a database failure stops us before anything is sent
    ref = messenger.send(mobile, lang, OTP_TEXT, code=code, service=service,
                         minutes=max(1, ttl // 60))
    if ref is None:  # the gateway failed (Messenger logged it): the number may ask again
        session.delete(txn)
        session.flush()
        raise OtpNotSent(MSG_NOT_SENT)
    log.info("OTP %s sent to %s (%s)", txn.id, mask_mobile(mobile), purpose)
    note(session, "otp", purpose)  # counted when the caller commits
    return txn.id


# --- confirmOTP ----------------------------------------------------------------------------

def _refusal(txn: OtpTransaction, settings, now: datetime) -> LoginError | None:
    if txn.used_at is not None:
        return OtpAlreadyUsed(MSG_USED, "txnId")
    if txn.attempts >= settings["OTP_MAX_TRIES"]:
        return TooManyTries(MSG_TOO_MANY, "otp")
    if txn.expires_at <= now:
        return OtpExpired(MSG_EXPIRED, "otp")
    return None


def use_otp(session: Session, *, txn_id: str, otp_sha256: str, settings,
            now: datetime | None = None, purpose: str | None = None) -> OtpTransaction:
    """Check the OTP of a transaction and mark it used; returns the transaction (its
    ``mobile`` is the number proven). The checks and refusals of confirm_otp, which logs in
    with it; an operator's consent code (purpose "assisted") stops here."""
    now = now or utcnow()
    try:
        txn_key = str(uuid.UUID(str(txn_id).strip()))
    except (ValueError, AttributeError, TypeError):
        raise InvalidTransaction(MSG_TXN_INVALID, "txnId") from None
    txn = session.get(OtpTransaction, txn_key)
    if txn is None or (txn.purpose != purpose if purpose is not None
                       else txn.purpose == CONSENT):
        # A public txnId is not confirmed at the partner endpoint, nor the reverse; a
        # consent code is confirmed only as one.
        raise InvalidTransaction(MSG_TXN_INVALID, "txnId")
    digest = otp_sha256.strip().lower() if isinstance(otp_sha256, str) else ""
    if not _HEX64.match(digest):
        raise InvalidOtpFormat(MSG_OTP_FORMAT, "otp")
    refusal = _refusal(txn, settings, now)
    if refusal is not None:
        raise refusal

    # Take one try with a conditional UPDATE (it also locks the row until commit).
    taken = session.execute(
        update(OtpTransaction)
        .where(OtpTransaction.id == txn.id, OtpTransaction.used_at.is_(None),
               OtpTransaction.attempts < settings["OTP_MAX_TRIES"])
        .values(attempts=OtpTransaction.attempts + 1)
        .execution_options(synchronize_session=False)).rowcount
    session.refresh(txn)
    if taken != 1:  # a concurrent request used or voided it meanwhile
        raise _refusal(txn, settings, now) or OtpAlreadyUsed(MSG_USED, "txnId")

    if not hmac.compare_digest(_keyed(settings, digest), txn.code_hash):
        attempts, mobile = txn.attempts, txn.mobile
        session.commit()
        log.info("wrong OTP for %s (try %s of %s)", mask_mobile(mobile), attempts,
                 settings["OTP_MAX_TRIES"])
        raise WrongOtp(MSG_WRONG, "otp")

    txn.used_at = now
    session.flush()
    return txn


def confirm_otp(session: Session, *, txn_id: str, otp_sha256: str, settings,
                now: datetime | None = None, lang: str | None = None,
                purpose: str | None = None) -> tuple[str, bool]:
    """Check the OTP of a transaction; returns (token, is_new_account).

    ``otp_sha256`` is the SHA-256 hex digest of the code (any case). Every try counts,
    atomically, before the comparison, so parallel guesses get no more than OTP_MAX_TRIES.
    A wrong code is committed here (the try must count although the request fails) and
    raises WrongOtp (401); other refusals: InvalidTransaction / InvalidOtpFormat (400),
    OtpExpired / OtpAlreadyUsed (401), TooManyTries (429). On success the account (created
    if new, with ``lang``) and the token are flushed; the caller commits.
    """
    if purpose == CONSENT:
        raise ValueError("a consent code logs nobody in")
    now = now or utcnow()
    txn = use_otp(session, txn_id=txn_id, otp_sha256=otp_sha256, settings=settings, now=now,
                  purpose=purpose)
    account = session.scalar(select(CitizenAccount).where(CitizenAccount.mobile == txn.mobile))
    is_new = account is None
    if is_new:
        account = CitizenAccount(mobile=txn.mobile, language=lang, created_at=now)
        session.add(account)
    account.last_login_at = now
    session.flush()
    token = _issue_token(session, account, settings, now, txn.id)
    log.info("citizen login %s for %s (%s account)", txn.id, mask_mobile(txn.mobile),
             "new" if is_new else "existing")
    return token, is_new


# --- tokens --------------------------------------------------------------------------------

TOKEN_ALGORITHM = "HS256"
USER_TYPE = "BENEFICIARY"  # Co-WIN's user_type of a citizen's token


def _derived_key(settings, purpose: bytes) -> bytes:
    return hmac.new(str(settings["SECRET_KEY"]).encode("utf-8"), purpose,
                    hashlib.sha256).digest()


def token_key(settings) -> bytes:
    """The key that signs API tokens: derived from SECRET_KEY, so a token never helps to
    guess SECRET_KEY nor to forge what it signs (cookies, CSRF tokens)."""
    return _derived_key(settings, b"cowin-kit api token")


def account_public_id(settings, account_id: int) -> str:
    """The opaque, stable id of an account in its tokens (``user_name``/``user_id``): a UUID
    made from a keyed hash of the database id, which would tell how many accounts exist."""
    digest = hmac.new(_derived_key(settings, b"cowin-kit account id"),
                      str(account_id).encode("ascii"), hashlib.sha256).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def _issue_token(session: Session, account: CitizenAccount, settings, now: datetime,
                 txn_id: str) -> str:
    issued = int(now.timestamp())
    expires = issued + settings["TOKEN_TTL_MINUTES"] * 60
    public_id = account_public_id(settings, account.id)
    token = jwt.encode({"user_name": public_id, "user_type": USER_TYPE, "user_id": public_id,
                        "txnId": txn_id, "iat": issued, "exp": expires,
                        "jti": str(uuid.uuid4())},
                       token_key(settings), algorithm=TOKEN_ALGORITHM)
    # The row's expiry is the token's exp, to the second.
    session.add(ApiToken(token_hash=_token_hash(token), account_id=account.id, created_at=now,
                         expires_at=datetime.fromtimestamp(expires, now.tzinfo)))
    session.flush()
    return token


def check_signature(token: str | None, settings) -> None:
    """NotAuthenticated (401) unless ``token`` is a JWT this deployment signed: its third
    part must be the HMAC-SHA256, under token_key, of its first two. The deployment signs
    with HS256 only, so a token naming "none" or another algorithm cannot match.

    Checked by hand rather than with ``jwt.decode``: this runs before every logged-in call,
    and PyJWT's decode (which also parses and validates the claims) cost about 100 µs against
    3 µs for the comparison itself (benchmarks/api_tokens.py). The claims need no reading
    here: the server's row says whether the token is in force (expiry, logout, revocation)."""
    parts = str(token or "").strip().split(".")
    if len(parts) == 3:
        try:
            signature = base64.urlsafe_b64decode(parts[2] + "=" * (-len(parts[2]) % 4))
        except ValueError:  # not base64url (binascii.Error), or not ASCII
            signature = b""
        signed = f"{parts[0]}.{parts[1]}".encode("utf-8", "replace")
        if hmac.compare_digest(signature, hmac.new(token_key(settings), signed,
                                                   hashlib.sha256).digest()):
            return
    raise NotAuthenticated(MSG_NOT_AUTHENTICATED)


def _active_token(session: Session, token: str | None, now: datetime) -> ApiToken:
    if not isinstance(token, str) or not token.strip():
        raise NotAuthenticated(MSG_NOT_AUTHENTICATED)
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(token.strip())))
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        raise NotAuthenticated(MSG_NOT_AUTHENTICATED)
    return row


# Built once: it runs before every logged-in call.
_TOKEN_AND_ACCOUNT = (select(ApiToken, CitizenAccount)
                      .outerjoin(CitizenAccount, CitizenAccount.id == ApiToken.account_id)
                      .where(ApiToken.token_hash == bindparam("token_hash")))


def token_digest(token: str | None) -> str:
    """How a Bearer token is stored (``ApiToken.token_hash``), for a query that looks it up
    together with what it asks for; NotAuthenticated (401) when there is no token."""
    if not isinstance(token, str) or not token.strip():
        raise NotAuthenticated(MSG_NOT_AUTHENTICATED)
    return _token_hash(token.strip())


def require_active(token: ApiToken | None, now: datetime) -> None:
    """NotAuthenticated (401) unless ``token`` (the row found by its digest) is in force."""
    if token is None or token.revoked_at is not None or token.expires_at <= now:
        raise NotAuthenticated(MSG_NOT_AUTHENTICATED)


def authenticate(session: Session, token: str | None, now: datetime | None = None, *,
                 settings=None) -> CitizenAccount:
    """The account of a Bearer token; NotAuthenticated (401) when unknown, expired or revoked.
    With ``settings``, the signature is checked first (no database round trip for a forged
    or mangled token); without, the look-up by hash alone refuses any token not issued."""
    digest = token_digest(token)
    if settings is not None:
        check_signature(token, settings)
    now = now or utcnow()
    # The token and its account in one round trip (this runs before every logged-in call).
    found = session.execute(_TOKEN_AND_ACCOUNT, {"token_hash": digest}).first()
    require_active(found[0] if found is not None else None, now)
    return found[1]


class Caller(NamedTuple):
    """The account of a Bearer token as the API's views use it (``g.account``): plain values
    read in the login's one round trip, not an ORM object (building and tracking one cost a
    fifth of a booking's CPU). A view that changes the account loads it (session.get)."""

    id: int
    mobile: str
    language: str | None


# The token's state and its account's fields, as Core rows (no ORM entity): built once.
_TOKEN_AND_CALLER = (select(ApiToken.revoked_at, ApiToken.expires_at, CitizenAccount.id,
                            CitizenAccount.mobile, CitizenAccount.language)
                     .join(CitizenAccount, CitizenAccount.id == ApiToken.account_id)
                     .where(ApiToken.token_hash == bindparam("token_hash")))


def authenticate_caller(session: Session, token: str | None, now: datetime | None = None, *,
                        settings) -> Caller:
    """authenticate's checks (signature, then the token's row: unknown, expired or revoked
    answer NotAuthenticated, 401), returning the account as a Caller. Run on the session's
    connection, without the ORM's execution."""
    digest = token_digest(token)
    check_signature(token, settings)
    now = now or utcnow()
    found = session.connection().execute(_TOKEN_AND_CALLER, {"token_hash": digest}).first()
    return caller_from_row(found, now)


def caller_from_row(found, now: datetime) -> Caller:
    """The Caller of a row (revoked_at, expires_at, account id, mobile, language) read by
    the token's digest (None: no such token), once require_active's checks pass; here
    and on the booking path served before Flask, which reads it with the people."""
    require_active(_TokenState(*found[:2]) if found is not None else None, now)
    return Caller(found[2], found[3], found[4])


class _TokenState(NamedTuple):
    revoked_at: datetime | None
    expires_at: datetime


def revoke(session: Session, token: str | None, now: datetime | None = None) -> None:
    """Log out: the token stops working. A token that already does not work raises
    NotAuthenticated (401), as any other call with it would. Flushed; the caller commits."""
    now = now or utcnow()
    row = _active_token(session, token, now)
    row.revoked_at = now
    session.flush()
