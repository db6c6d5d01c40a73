"""Staff accounts and the audit log."""
from __future__ import annotations

import re
import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from cowin_kit.accounts.models import ROLES, AuditEvent, StaffUser

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 12


class AccountError(ValueError):
    pass


def audit(session: Session, actor: str, action: str, target: str | None = None,
          **details) -> AuditEvent:
    """Record an action. ``details`` must hold nothing personal (no ID numbers, no OTPs)."""
    event = AuditEvent(actor=actor, action=action, target=target, details=details)
    session.add(event)
    return event


def generate_one_time_password() -> str:
    return secrets.token_urlsafe(12)


def check_email(email: str) -> str:
    email = email.strip().lower()
    if not EMAIL_RE.match(email):
        raise AccountError(f"{email!r} is not an e-mail address")
    return email


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")


def create_staff_user(session: Session, email: str, password: str, role: str,
                      division_id: int | None = None, *, actor: str,
                      must_change_password: bool = True) -> StaffUser:
    email = check_email(email)
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
    check_new_password(password)
    if session.scalar(select(StaffUser).where(func.lower(StaffUser.email) == email)):
        raise AccountError(f"a staff user {email} already exists")
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
