"""A vaccination certificate, one row per version.

Recording a dose issues a new version for the person and programme: provisional while the
schedule is incomplete, final when complete. Each version has its own certificate identifier
(UVCI) and its signed payloads, kept as issued (a PDF or QR code shown later is built from
these very bytes). A newer version supersedes the older one, which stays valid (it states
true facts); a correction of the person's details revokes the versions it replaces.
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cowin_kit.db import Base, UTCDateTime, one_of, utcnow
from cowin_kit.programmes.models import Programme
from cowin_kit.registration.models import Beneficiary


class CertificateStatus(StrEnum):
    PROVISIONAL = "provisional"  # the primary schedule is not complete yet
    FINAL = "final"  # complete (boosters reissue it, still final)


class Certificate(Base):
    __tablename__ = "certificate"
    __table_args__ = (
        UniqueConstraint("beneficiary_id", "programme_id", "version"),
        one_of("status", CertificateStatus),
        # The person's current certificate: the newest version of a programme.
        Index("ix_certificate_person", "beneficiary_id", "programme_id", "version"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # URN:UVCI:01:<country>:<opaque>#<check character>
    uvci: Mapped[str] = mapped_column(String(80), unique=True)
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiary.id"))
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12))
    # How many doses it states, and the newest of them.
    doses: Mapped[int] = mapped_column(Integer)
    last_dose_id: Mapped[int | None] = mapped_column(ForeignKey("dose.id"))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The document signing certificate's key id (base64 of the first 8 bytes of the SHA-256
    # of its DER), the same in the HC1 COSE header and the trust list.
    kid: Mapped[str] = mapped_column(String(24))
    # The signed payloads as issued: "HC1:…" (EU DCC, only for programmes the EU value sets
    # cover), the SMART Health Card's compact JWS; None where the format does not apply.
    hc1: Mapped[str | None] = mapped_column(Text)
    shc: Mapped[str | None] = mapped_column(Text)
    # The language the person reads, for the printable certificate (with English).
    language: Mapped[str | None] = mapped_column(String(16))
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    revocation_reason: Mapped[str | None] = mapped_column(String(500))
    revoked_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))

    beneficiary: Mapped[Beneficiary] = relationship()
    programme: Mapped[Programme] = relationship()

    @property
    def is_current(self) -> bool:
        return self.superseded_at is None and self.revoked_at is None
