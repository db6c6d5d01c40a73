from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cowin_kit.db import Base, UTCDateTime, one_of, utcnow


class IdDocumentType(Base):
    """An ID document people may register with, checked by an ID-provider plugin."""

    __tablename__ = "id_document_type"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    provider: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(200))
    names: Mapped[dict] = mapped_column(JSON, default=dict)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)


class IdVerificationStatus(StrEnum):
    """What the national registry said of a person's ID; stored as these values (a CHECK
    holds them). All but UNVERIFIED are the registry's answers, the ID-provider
    interface's VERIFY_STATUSES (plugins return them as plain strings)."""

    UNVERIFIED = "unverified"  # no registry answer yet
    VERIFIED = "verified"
    MISMATCH = "mismatch"  # the registry knows the number, with other details
    NOT_FOUND = "not_found"
    UNAVAILABLE = "unavailable"  # the registry did not answer: checked again later


class Beneficiary(Base):
    """A person registered for vaccination. The ID number is kept only as a keyed hash
    (for look-ups and the one-person-one-record rule), encrypted, and masked for display."""

    __tablename__ = "beneficiary"
    __table_args__ = (one_of("id_verification_status", IdVerificationStatus),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Co-WIN's 14-digit beneficiary_reference_id.
    reference_id: Mapped[str] = mapped_column(String(14), unique=True)
    # The mobile account that registered the person; None for walk-ins registered by staff.
    account_id: Mapped[int | None] = mapped_column(ForeignKey("citizen_account.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    birth_year: Mapped[int] = mapped_column(Integer)
    # Asked for where a programme counts age from the date of birth (childhood schedules).
    birth_date: Mapped[date | None] = mapped_column(Date)
    gender: Mapped[str] = mapped_column(String(20))
    # Priority groups the profile's eligibility phases admit (e.g. "health-workers",
    # "comorbidities"), as declared at registration.
    priority_groups: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    # The language the person reads: SMS and certificates are written in it.
    language: Mapped[str | None] = mapped_column(String(16))
    id_document_type_id: Mapped[int] = mapped_column(ForeignKey("id_document_type.id"))
    id_number_hash: Mapped[str] = mapped_column(String(64), unique=True)
    id_number_encrypted: Mapped[str] = mapped_column(Text)
    id_number_masked: Mapped[str] = mapped_column(String(40))
    id_verification_status: Mapped[str] = mapped_column(
        String(20), default=IdVerificationStatus.UNVERIFIED.value, index=True)
    id_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    id_verification_reference: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    id_document_type: Mapped[IdDocumentType] = relationship()
