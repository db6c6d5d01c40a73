from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cowin_kit.db import Base, UTCDateTime, one_of, utcnow


class OutboxStatus(StrEnum):
    PENDING = "pending"  # to send, at next_attempt_at or later
    SENDING = "sending"  # claimed by a worker until claimed_until (then pending again)
    SENT = "sent"
    FAILED = "failed"  # the gateway refused it for good, or the tries ran out


class OutboxMessage(Base):
    """A message to send, written in the same transaction as the change that causes it
    (cowin_kit.notifications.outbox.enqueue) and sent by `cowin-kit worker`. The text is
    rendered when sent, in the person's language, from the message id and its params."""

    __tablename__ = "notification_outbox"
    __table_args__ = (
        one_of("status", OutboxStatus),
        Index("ix_notification_outbox_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(40))  # booking.confirmed, session.cancelled, …
    mobile: Mapped[str] = mapped_column(String(20))  # E.164
    language: Mapped[str | None] = mapped_column(String(16))
    msgid: Mapped[str] = mapped_column(String(1000))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    beneficiary_id: Mapped[int | None] = mapped_column(ForeignKey("beneficiary.id"),
                                                       index=True)
    # A message that must go at most once whatever causes it again (a reminder of one dose
    # window): a second enqueue with the same key is a no-op.
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    status: Mapped[str] = mapped_column(String(10), default=OutboxStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    gateway_ref: Mapped[str | None] = mapped_column(String(120))
    last_error: Mapped[str | None] = mapped_column(String(500))
