from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from cowin_kit.accounts.roles import Role
from cowin_kit.db import Base, UTCDateTime, utcnow

ROLES = tuple(r.value for r in Role)


class StaffUser(Base):
    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(30))
    # The area the user may act in; None means the whole country.
    division_id: Mapped[int | None] = mapped_column(ForeignKey("division.id"), index=True)
    # A facility manager's or vaccinator's facility (cowin_kit.accounts.roles): their
    # scope is this one centre; division_id is then the facility's division.
    facility_id: Mapped[int | None] = mapped_column(ForeignKey("facility.id"), index=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True)
    # The user's choice of language, kept with the account (the cookie is per browser).
    language: Mapped[str | None] = mapped_column(String(16))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Lock-out: wrong passwords (and TOTP codes) since the last good login, counted by a
    # conditional UPDATE so that guesses from every worker and address add up.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # TOTP: the secret Fernet-encrypted with the instance's key; set at enrolment, switched
    # on only once the user has typed a code from it. The last time step used makes each
    # code single-use.
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    totp_last_step: Mapped[int | None] = mapped_column(Integer)


class StaffLogin(Base):
    """One logged-in browser of a staff user (not a vaccination session). The cookie holds a
    random token; only its SHA-256 is kept here, as the id. Logout, a password change or a
    disabled account end it on the server, so a copied cookie stops working at once."""

    __tablename__ = "staff_login"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The password was right, the TOTP code is still to come: no page is open to it yet.
    needs_totp: Mapped[bool] = mapped_column(Boolean, default=False)


class AuditEvent(Base):
    """Append-only record of every staff, operator and citizen action."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # Indexed: the audit log page filters by them (cowin_kit.accounts.audit_log).
    actor: Mapped[str] = mapped_column(String(254), index=True)
    action: Mapped[str] = mapped_column(String(80), index=True)
    target: Mapped[str | None] = mapped_column(String(254))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    # Where the action came from: the client's address (as ProxyFix sees it) for a web
    # request, "cli:<OS user>" for a command (cowin_kit.request_source).
    source: Mapped[str | None] = mapped_column(String(64))
    # The division the action concerns (a facility's, a person's, the actor's), so that an
    # administrator sees the log of their own area only; None for national actions.
    division_id: Mapped[int | None] = mapped_column(ForeignKey("division.id"), index=True)


class RateLimitCounter(Base):
    """One fixed window of a rate limit, when limits are counted in the database
    (RATE_LIMIT_STORAGE=database; cowin_kit.ratelimits). On SQLite the counts live in a
    file of their own with this same table, and this one stays empty."""

    __tablename__ = "rate_limit_counter"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[float] = mapped_column(Float)  # seconds since the epoch


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


class CaptchaChallenge(Base):
    """The captcha an account was last given (auth/getRecaptcha; cowin_kit.accounts.captcha):
    a keyed hash of its answer, answered once, within its time, in a few tries. One row per
    account at most: a new captcha replaces the previous one."""

    __tablename__ = "captcha_challenge"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # a UUID
    account_id: Mapped[int] = mapped_column(ForeignKey("citizen_account.id"), index=True)
    answer_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
