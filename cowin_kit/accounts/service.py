"""Staff accounts and the audit log: the rules on staff users (e-mail, role, password, the
area a role acts in), wherever they are set or checked (the staff pages, the CLI, ``init``).
Logging in, the lock-out and TOTP are in ``staff_login``."""
from __future__ import annotations

import re
import secrets
from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from cowin_kit.accounts.models import ROLES, AuditEvent, StaffUser
from cowin_kit.accounts.roles import ADMIN_ROLES, COUNTRY_WIDE_ROLES
from cowin_kit.errors import UserError
from cowin_kit.plugins.interfaces import N_
from cowin_kit.scheduling.search import descendant_ids

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 12


# Roles that manage centres, sessions and users of their area (cowin_kit.accounts.roles).
MANAGER_ROLES = tuple(r.value for r in ADMIN_ROLES)


class AccountError(UserError):
    """A refused account value (cowin_kit.errors: message id, field, params). The
    operator-only refusals (``check_email``, ``create_staff_user``) are English text."""


def actor(user: StaffUser) -> str:
    """The audit log's name for a staff user: the id, not the e-mail (personal data)."""
    return f"staff:{user.id}"


def area_division_ids(session: Session, user: StaffUser) -> list[int] | None:
    """The divisions the user may act in, or None for the whole country. Only a national
    administrator (and a national helpline or verifier: roles.COUNTRY_WIDE_ROLES) has the
    whole country; any other role without a division has no area (an account set up
    without one must not silently gain the country). A facility role's area is its
    facility's division; what it may touch is that one facility (user.facility_id)."""
    if user.division_id is None:
        return None if user.role in COUNTRY_WIDE_ROLES else []
    return descendant_ids(session, user.division_id)


def in_area(area: list[int] | None, division_id: int | None) -> bool:
    """Whether a division is within an area as area_division_ids gives it (None: the whole
    country). Something with no division is within the whole country only."""
    return area is None or (division_id is not None and division_id in area)


def audit(session: Session, actor: str, action: str, target: str | None = None, *,
          division_id: int | None = None, **details) -> AuditEvent:
    """Record an action. ``details`` must hold nothing personal (no ID numbers, no OTPs).
    ``division_id`` is the division the action concerns (a facility's, a person's), so the
    administrators of that area see it in their log. The source (the client's address, or
    ``cli:<OS user>``) comes from cowin_kit.request_source, which the web app sets for each
    request."""
    from cowin_kit.request_source import current_source

    event = AuditEvent(actor=actor, action=action, target=target, details=details,
                       source=current_source(), division_id=division_id)
    session.add(event)
    return event


def generate_one_time_password() -> str:
    """16 random URL-safe characters (96 bits), drawn again in the unlikely case that the
    password rule would refuse them, so an operator can always type what init printed."""
    while True:
        password = secrets.token_urlsafe(12)
        try:
            check_new_password(password)
        except AccountError:
            continue
        return password


def check_email(email: str) -> str:
    email = email.strip().lower()
    if not EMAIL_RE.match(email):
        raise AccountError("%(email)r is not an e-mail address", "email", email=email)
    return email


MSG_TOO_SHORT = N_("The new password must have at least %(num)s characters.")
MSG_IS_EMAIL = N_("The password must not be your e-mail address or a part of it. Choose "
                  "something others cannot guess: a few unrelated words make a strong one.")
MSG_REPEATED = N_("The password is mostly one character over and over. Use a few unrelated "
                  "words instead.")
MSG_COMMON = N_("This is one of the most common passwords, which attackers try first. Choose "
                "another: a few unrelated words make a strong one.")
MSG_GUESSABLE = N_("This password is too easy to guess (common words, names, dates, keyboard "
                   "rows or sequences). Make it longer, or use a few unrelated words.")
# zxcvbn's score from 0 to 4; 3 means some 10^8 guesses or more ("safely unguessable"
# online, where the lock-out allows a few guesses a minute).
MIN_STRENGTH = 3
_ESTIMATED_CHARS = 72  # zxcvbn's own limit; a longer password is judged by its start


def check_new_password(password: str, email: str | None = None) -> None:
    """The one rule for a staff password, wherever one is set (the staff form, `init`,
    create_staff_user): long enough, not the e-mail, not one character repeated, and not
    guessable by zxcvbn's estimator (common passwords, words, names, dates, patterns).
    Raises AccountError saying why and what to do."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(MSG_TOO_SHORT, "password", num=MIN_PASSWORD_LENGTH)
    inputs = []
    if email:
        local, _, domain = email.strip().lower().partition("@")
        inputs = [email.strip().lower(), local, *domain.split(".")]
        bare = _letters_and_digits(password)
        core = _letters_and_digits(password.strip("0123456789!?.,;:-_#*+ "))
        if {bare, core} & {_letters_and_digits(email), _letters_and_digits(local)}:
            raise AccountError(MSG_IS_EMAIL, "password")
    top = Counter(password.casefold()).most_common(1)[0][1]
    if top * 2 > len(password):
        raise AccountError(MSG_REPEATED, "password")
    from zxcvbn import zxcvbn  # 20 ms of dictionaries: loaded when a password is set

    sample = password[:_ESTIMATED_CHARS]
    result = zxcvbn(sample, user_inputs=inputs)
    if _covered(result, "user_inputs") * 2 >= len(sample):  # mostly the e-mail's parts
        raise AccountError(MSG_IS_EMAIL, "password")
    if result["score"] >= MIN_STRENGTH:
        return
    if _covered(result, "passwords") * 2 >= len(sample):
        raise AccountError(MSG_COMMON, "password")
    raise AccountError(MSG_GUESSABLE, "password")


def _covered(result: dict, dictionary: str) -> int:
    """How many characters of the password zxcvbn matched in one of its dictionaries."""
    return sum(len(m["token"]) for m in result["sequence"]
               if m.get("dictionary_name") == dictionary)


def _letters_and_digits(text: str) -> str:
    return "".join(c for c in text.casefold() if c.isalnum())


def create_staff_user(session: Session, email: str, password: str, role: str,
                      division_id: int | None = None, *, actor: str,
                      must_change_password: bool = True) -> StaffUser:
    email = check_email(email)
    if role not in ROLES:
        raise AccountError("unknown role %(role)r; roles are %(roles)s", "role", role=role,
                           roles=", ".join(ROLES))
    check_new_password(password, email)
    if session.scalar(select(StaffUser).where(func.lower(StaffUser.email) == email)):
        raise AccountError("a staff user %(email)s already exists", "email", email=email)
    user = StaffUser(email=email, password_hash=generate_password_hash(password), role=role,
                     division_id=division_id, must_change_password=must_change_password)
    session.add(user)
    session.flush()
    audit(session, actor, "staff.created", f"staff_user:{user.id}", role=role)
    return user


def verify_password(user: StaffUser, password: str) -> bool:
    return user.is_active and check_password_hash(user.password_hash, password)


def count_admins(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(StaffUser)
                          .where(StaffUser.role == "national_admin")) or 0
