"""Staff login, without Flask (cowin_kit.staff only shows it): passwords with a lock-out,
logins kept on the server, TOTP.

Lock-out: every password (or TOTP code) check first takes a try on the account's row with one
conditional UPDATE, committed before the slow hash is computed, so guesses from any number of
workers, machines and addresses all count and none waits on a lock. From the LOCK_AFTER-th
wrong try in a row the account is locked, for LOCK_FIRST, doubling with each further wrong
try up to LOCK_MAX; a good login clears it. While locked nothing is checked, even the right
password is refused, with the same message and after the same hash work as a wrong password
or an unknown e-mail, so the answers reveal neither which e-mails exist nor the lock.

Logins: the cookie holds only a random token; the staff_login row (keyed by its SHA-256)
says whose login it is and whether it has ended. Logout ends that row, a password change
ends the user's other rows, and a disabled user's rows end when next used; so a copied
cookie stops working at once. (A per-user counter in the cookie would do the same for a
password change, but logging out one browser would then log out all of them, and a login
waiting for its TOTP code would have to live in the cookie.)

TOTP (RFC 6238, 30-second steps, 6 digits, one step of clock drift either way): the secret
is Fernet-encrypted with the instance's key; the last step used is kept, and a code is taken
by a conditional UPDATE of it, so each code works once, even when sent twice at once.
"""
from __future__ import annotations

import hashlib
import logging
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import case, func, or_, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from cowin_kit.accounts.models import StaffLogin, StaffUser
from cowin_kit.accounts.service import AccountError, actor, audit, check_new_password
from cowin_kit.db import utcnow
from cowin_kit.plugins.interfaces import N_

log = logging.getLogger("cowin_kit.security")

LOCK_AFTER = 5  # wrong passwords or codes in a row before the account locks
LOCK_FIRST = timedelta(minutes=1)
LOCK_MAX = timedelta(hours=1)
CODE_WAIT = timedelta(minutes=5)  # to type the TOTP code after the password
SEEN_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often
TOTP_STEP, TOTP_DIGITS, TOTP_DRIFT = 30, 6, 1

MSG_WRONG_CODE = N_("The code is not right, or it has been used already. Type the newest "
                    "code your app shows.")
MSG_CODE_FORMAT = N_("Type the %(num)s digits your app shows.")
MSG_WRONG_PASSWORD = N_("The current password is not right.")

# Checked against when the password is not to be checked (unknown e-mail, disabled or
# locked account), so that every refusal costs the same time.
_DUMMY_HASH = generate_password_hash("not a password of anybody")


def lock_time(failures: int) -> timedelta | None:
    """How long the account stays locked after ``failures`` wrong tries in a row."""
    if failures < LOCK_AFTER:
        return None
    return min(LOCK_FIRST * 2 ** min(failures - LOCK_AFTER, 16), LOCK_MAX)


def _take_try(session: Session, user_id: int, now: datetime) -> int | None:
    """Count one try on the account, or None while it is locked. Reaching the threshold
    holds the lock at once, so tries racing this one are refused while its password is
    checked; a right password then lifts it. Committed: the count survives any outcome."""
    held = StaffUser.failed_logins + 1 >= LOCK_AFTER
    count = session.execute(
        update(StaffUser)
        .where(StaffUser.id == user_id,
               or_(StaffUser.locked_until.is_(None), StaffUser.locked_until <= now))
        .values(failed_logins=StaffUser.failed_logins + 1,
                locked_until=case((held, now + LOCK_FIRST), else_=StaffUser.locked_until))
        .returning(StaffUser.failed_logins)
        .execution_options(synchronize_session=False)).scalar_one_or_none()
    session.commit()
    return count


def _settle(session: Session, user: StaffUser, count: int, right: bool, now: datetime,
            who: str, clears: bool) -> None:
    """After a checked try: when right, clear the count (or, for a first step that does not
    complete a login, only give this try back), else lock when it is time."""
    if right:
        values = {"failed_logins": 0} if clears else {
            "failed_logins": StaffUser.failed_logins - 1}
        session.execute(update(StaffUser).where(StaffUser.id == user.id)
                        .values(locked_until=None, **values)
                        .execution_options(synchronize_session=False))
        return
    locked_for = lock_time(count)
    if locked_for is None:
        return
    session.execute(update(StaffUser).where(StaffUser.id == user.id)
                    .values(locked_until=now + locked_for)
                    .execution_options(synchronize_session=False))
    seconds = int(locked_for.total_seconds())
    audit(session, who, "staff.locked", f"staff_user:{user.id}", division_id=user.division_id,
          failures=count, seconds=seconds)
    log.warning("staff account staff_user:%s locked for %s s after %s wrong tries in a row",
                user.id, seconds, count)


def _counted_check(session: Session, user: StaffUser, check, now: datetime,
                   who: str, clears: bool = True) -> bool | None:
    """Run ``check()`` as one counted try: its result, or None when the account is locked
    (``check`` not run; the same hash work done instead). ``clears``: whether a right
    answer clears the count. The password of a user with TOTP does not: else whoever knows
    it could try 4 codes, clear the count with the password, and try again without end."""
    count = _take_try(session, user.id, now)
    if count is None:
        check_password_hash(_DUMMY_HASH, "")
        return None
    right = bool(check())
    _settle(session, user, count, right, now, who, clears)
    return right


# --- logging in --------------------------------------------------------------------------

@dataclass
class LoginResult:
    user: StaffUser
    token: str  # for the cookie; only its hash is stored
    needs_totp: bool  # the TOTP code is still to come


def _token_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _start_login(session: Session, user: StaffUser, now: datetime, needs_totp: bool) -> str:
    token = secrets.token_urlsafe(32)
    session.add(StaffLogin(id=_token_id(token), user_id=user.id, created_at=now,
                           last_seen_at=now, needs_totp=needs_totp))
    session.flush()
    return token


def log_in(session: Session, email: str, password: str,
           now: datetime | None = None) -> LoginResult | None:
    """Check an e-mail and password; None for any refusal (unknown, wrong, disabled,
    locked: one answer). Commits the counted try itself; the caller commits the rest."""
    now = now or utcnow()
    email = (email or "").strip().lower()
    password = password or ""
    # Control characters (a NUL would be refused by PostgreSQL) cannot be in an address.
    user = session.scalar(select(StaffUser).where(func.lower(StaffUser.email) == email)) \
        if email.isprintable() else None
    if user is None or not user.is_active:
        _take_try(session, 0, now)  # no such row: only the same round trip as a real try
        check_password_hash(_DUMMY_HASH, password)
        audit(session, "web:anonymous", "staff.login_failed",
              None if user is None else f"staff_user:{user.id}")
        log.info("staff login refused: %s", "unknown e-mail" if user is None
                 else f"staff_user:{user.id} is disabled")
        return None
    right = _counted_check(session, user, lambda: check_password_hash(user.password_hash,
                                                                      password),
                           now, "web:anonymous", clears=not user.totp_enabled)
    if not right:
        audit(session, "web:anonymous", "staff.login_failed", f"staff_user:{user.id}",
              division_id=user.division_id, **({"locked": True} if right is None else {}))
        log.info("staff login refused for staff_user:%s: %s", user.id,
                 "account locked" if right is None else "wrong password")
        return None
    session.refresh(user)
    if user.totp_enabled:
        audit(session, actor(user), "staff.password_accepted", f"staff_user:{user.id}",
              division_id=user.division_id)
        return LoginResult(user, _start_login(session, user, now, True), True)
    audit(session, actor(user), "staff.login", f"staff_user:{user.id}",
          division_id=user.division_id)
    log.info("staff login staff_user:%s", user.id)
    return LoginResult(user, _start_login(session, user, now, False), False)


def waiting_login(session: Session, token: str | None,
                  now: datetime | None = None) -> StaffLogin | None:
    """The login of this cookie that waits for its TOTP code (None when gone or too old)."""
    now = now or utcnow()
    row = _row(session, token)
    if (row is None or not row.needs_totp or row.ended_at is not None
            or row.created_at < now - CODE_WAIT):
        return None
    user = session.get(StaffUser, row.user_id)
    if user is None or not user.is_active or not user.totp_enabled:
        return None  # disabled, or the device removed, meanwhile: log in again
    return row


def finish_login(session: Session, waiting: StaffLogin, code: str, key: str,
                 now: datetime | None = None) -> LoginResult:
    """The TOTP step: a fresh token for a full login, or AccountError(…, "code"). A wrong
    code counts towards the lock-out like a wrong password."""
    now = now or utcnow()
    user = session.get(StaffUser, waiting.user_id)
    digits = _code_digits(code)
    right = _counted_check(session, user, lambda: _use_code(session, user, key, digits, now),
                           now, actor(user))
    if not right:
        audit(session, actor(user), "staff.login_failed", f"staff_user:{user.id}", step="totp",
              **({"locked": True} if right is None else {}))
        log.info("staff login refused for staff_user:%s: %s", user.id,
                 "account locked" if right is None else "wrong or used TOTP code")
        raise AccountError(MSG_WRONG_CODE, "code")
    # A new token for the full login: the one given before the code is spent.
    session.execute(update(StaffLogin).where(StaffLogin.id == waiting.id)
                    .values(ended_at=now).execution_options(synchronize_session=False))
    session.refresh(user)
    audit(session, actor(user), "staff.login", f"staff_user:{user.id}",
          division_id=user.division_id, totp=True)
    log.info("staff login staff_user:%s (with TOTP)", user.id)
    return LoginResult(user, _start_login(session, user, now, False), False)


def _row(session: Session, token: str | None) -> StaffLogin | None:
    if not isinstance(token, str) or not token:
        return None
    return session.get(StaffLogin, _token_id(token))


def current_login(session: Session, token: str | None, max_idle: timedelta,
                  now: datetime | None = None) -> StaffLogin | None:
    """The live, complete login of this cookie, else None. A login of a disabled user is
    ended here. Touches last_seen_at (at most once a minute; the caller commits)."""
    now = now or utcnow()
    row = _row(session, token)
    if row is None or row.ended_at is not None or row.needs_totp:
        return None
    user = session.get(StaffUser, row.user_id)
    if user is None or not user.is_active or row.last_seen_at < now - max_idle:
        row.ended_at = now
        return None
    if row.last_seen_at < now - SEEN_EVERY:
        row.last_seen_at = now
    return row


def log_out(session: Session, token: str | None, now: datetime | None = None) -> None:
    """End this cookie's login (waiting for a code or complete) on the server."""
    row = _row(session, token)
    if row is None or row.ended_at is not None:
        return
    row.ended_at = now or utcnow()
    if not row.needs_totp:
        audit(session, f"staff:{row.user_id}", "staff.logout", f"staff_user:{row.user_id}")


def end_logins(session: Session, user_id: int, *, keep: str | None = None,
               now: datetime | None = None) -> int:
    """End every live login of the user (but the one of token ``keep``); how many."""
    query = update(StaffLogin).where(StaffLogin.user_id == user_id,
                                     StaffLogin.ended_at.is_(None))
    if keep:
        query = query.where(StaffLogin.id != _token_id(keep))
    return session.execute(query.values(ended_at=now or utcnow())
                           .execution_options(synchronize_session=False)).rowcount


# --- the password ------------------------------------------------------------------------

def change_password(session: Session, user: StaffUser, current: str, new: str,
                    token: str | None, now: datetime | None = None) -> None:
    """Set a new password and end the user's other logins, or raise AccountError. A wrong
    current password counts towards the lock-out (a borrowed browser must not be a way to
    guess it); the counted try is committed here."""
    now = now or utcnow()
    right = _counted_check(session, user, lambda: check_password_hash(user.password_hash,
                                                                      current or ""),
                           now, actor(user))
    if not right:
        raise AccountError(MSG_WRONG_PASSWORD, "current")
    try:
        check_new_password(new, user.email)
    except AccountError as exc:  # the form's field for it is "new"
        raise AccountError(exc.msgid, "new", **exc.params) from None
    if check_password_hash(user.password_hash, new):
        raise AccountError(N_("Choose a password other than the current one."), "new")
    user.password_hash = generate_password_hash(new)
    user.must_change_password = False
    ended = end_logins(session, user.id, keep=token, now=now)
    audit(session, actor(user), "staff.password_changed", f"staff_user:{user.id}",
          division_id=user.division_id, logins_ended=ended)


# --- TOTP --------------------------------------------------------------------------------

def _totp(secret: str):
    import pyotp

    return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_STEP)


def _secret(user: StaffUser, key: str) -> str | None:
    if not user.totp_secret:
        return None
    try:
        return Fernet(key.encode()).decrypt(user.totp_secret.encode("ascii")).decode("ascii")
    except InvalidToken:  # encrypted with another key: as good as no device
        log.error("the TOTP secret of staff_user:%s cannot be decrypted with this "
                  "instance's key", user.id)
        return None


def _code_digits(code: str | None) -> str:
    """The code as ASCII digits; spaces are dropped and any script's digits accepted."""
    text = "".join((code or "").split())
    if len(text) != TOTP_DIGITS or not text.isdecimal():
        raise AccountError(MSG_CODE_FORMAT, "code", num=TOTP_DIGITS)
    return "".join(str(unicodedata.decimal(c)) for c in text)


def _use_code(session: Session, user: StaffUser, key: str, digits: str, now: datetime,
              secret: str | None = None) -> bool:
    """Whether ``digits`` is a code of the secret near ``now`` not used before; taking it
    (a conditional UPDATE of the last step used) makes it single-use."""
    secret = secret or _secret(user, key)
    if secret is None:
        return False
    totp = _totp(secret)
    here = totp.timecode(now)
    for step in (here + d for d in range(-TOTP_DRIFT, TOTP_DRIFT + 1)):
        if secrets.compare_digest(totp.generate_otp(step), digits):
            return session.execute(
                update(StaffUser)
                .where(StaffUser.id == user.id,
                       or_(StaffUser.totp_last_step.is_(None), StaffUser.totp_last_step < step))
                .values(totp_last_step=step)
                .execution_options(synchronize_session=False)).rowcount == 1
    return False


def totp_enrolment(session: Session, user: StaffUser, key: str, email: str,
                   issuer: str) -> tuple[str, str]:
    """The secret to show while TOTP is not yet on (kept, so a reload shows the same one),
    and its otpauth:// address for the QR code. The caller commits."""
    secret = _secret(user, key)
    if secret is None:
        import pyotp

        secret = pyotp.random_base32()
        user.totp_secret = Fernet(key.encode()).encrypt(secret.encode()).decode("ascii")
        user.totp_last_step = None
    return secret, _totp(secret).provisioning_uri(name=email, issuer_name=issuer)


def enable_totp(session: Session, user: StaffUser, key: str, code: str, token: str | None,
                password: str, now: datetime | None = None) -> None:
    """Switch TOTP on once the user's password and a code from the new secret are right;
    ends the user's other logins (they were made without it). A wrong password counts
    towards the lock-out, as on the password form. Raises AccountError(…, "current" or
    "code")."""
    now = now or utcnow()
    if not _counted_check(session, user, lambda: check_password_hash(user.password_hash,
                                                                     password or ""),
                          now, actor(user)):
        raise AccountError(MSG_WRONG_PASSWORD, "current")
    digits = _code_digits(code)
    if not user.totp_secret or not _use_code(session, user, key, digits, now):
        raise AccountError(MSG_WRONG_CODE, "code")
    user.totp_enabled = True
    ended = end_logins(session, user.id, keep=token, now=now)
    audit(session, actor(user), "staff.totp_enabled", f"staff_user:{user.id}",
          logins_ended=ended)
    log.info("TOTP switched on for staff_user:%s", user.id)


def disable_totp(session: Session, user: StaffUser, key: str, code: str,
                 now: datetime | None = None) -> None:
    """Switch TOTP off with a current code (counted like a login try)."""
    now = now or utcnow()
    digits = _code_digits(code)
    right = _counted_check(session, user, lambda: _use_code(session, user, key, digits, now),
                           now, actor(user))
    if not right:
        raise AccountError(MSG_WRONG_CODE, "code")
    session.refresh(user)
    _forget_totp(user)
    audit(session, actor(user), "staff.totp_disabled", f"staff_user:{user.id}")
    log.info("TOTP switched off by staff_user:%s", user.id)


def _forget_totp(user: StaffUser) -> None:
    user.totp_secret, user.totp_enabled, user.totp_last_step = None, False, None


def reset_totp(session: Session, user: StaffUser, *, by: str) -> int:
    """An operator removes a lost TOTP device: the user logs in with the password alone
    (and enrols again when it is required). Ends the user's logins; how many."""
    _forget_totp(user)
    ended = end_logins(session, user.id)
    audit(session, by, "staff.totp_reset", f"staff_user:{user.id}",
          division_id=user.division_id, logins_ended=ended)
    log.warning("TOTP device of staff_user:%s removed by %s", user.id, by)
    return ended


def unlock(session: Session, user: StaffUser, *, by: str) -> bool:
    """An operator lifts a lock-out; whether the account was locked."""
    was_locked = user.locked_until is not None and user.locked_until > utcnow()
    user.failed_logins, user.locked_until = 0, None
    audit(session, by, "staff.unlocked", f"staff_user:{user.id}",
          division_id=user.division_id, was_locked=was_locked)
    log.warning("staff_user:%s unlocked by %s", user.id, by)
    return was_locked
