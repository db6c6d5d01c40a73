from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cowin_kit.db import Base, UTCDateTime, utcnow

ROLES = ("national_admin", "state_admin", "district_admin", "vaccinator", "call_centre")


class StaffUser(Base):
    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(30))
    # The area the user may act in; None means the whole country.
    division_id: Mapped[int | None] = mapped_column(ForeignKey("division.id"), index=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True)
    # The user's choice of language, kept with the account (the cookie is per browser).
    language: Mapped[str | None] = mapped_column(String(16))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEvent(Base):
    """Append-only record of every staff and operator action."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(80))
    target: Mapped[str | None] = mapped_column(String(254))
    details: Mapped[dict] = mapped_column(JSON, default=dict)


class CitizenAccount(Base):
    """A mobile number that logs in by OTP and registers up to N family members."""

    __tablename__ = "citizen_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mobile: Mapped[str] = mapped_column(String(20), unique=True)  # E.164, e.g. +51987654321
    language: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OtpTransaction(Base):
    """One OTP sent to a mobile number (Co-WIN's txnId). Only a keyed hash of the code is
    kept; it expires, allows a few tries, and is used at most once."""

    __tablename__ = "otp_transaction"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # txnId, a UUID
    mobile: Mapped[str] = mapped_column(String(20), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(20), default="public")  # public | partner
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApiToken(Base):
    """A Bearer token (or web session) of a citizen account; only its hash is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("citizen_account.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
