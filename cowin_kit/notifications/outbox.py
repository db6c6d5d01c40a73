"""Writing a message to the outbox, in the caller's transaction.

What leaves the machine never blocks or fails the change that causes it: the caller adds an
outbox row beside its own rows and commits both together; `cowin-kit worker`
(cowin_kit.notifications.worker) sends it later, with retries. A rolled-back change sends
nothing; a committed one is sent exactly once.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cowin_kit.notifications.models import OutboxMessage, OutboxStatus


def enqueue(session: Session, *, kind: str, mobile: str, language: str | None, msgid: str,
            params: dict | None = None, beneficiary_id: int | None = None,
            dedupe_key: str | None = None) -> OutboxMessage | None:
    """Add a message to send to ``mobile`` (E.164) in ``language`` (None: the deployment's
    default). ``msgid`` is an N_()-marked text with %(name)s params, rendered when sent;
    params hold nothing secret (no OTP, no ID number). With a ``dedupe_key`` already used,
    nothing is added and None is returned. Flushed, never committed."""
    if dedupe_key is not None and session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)):
        return None
    message = OutboxMessage(kind=kind, mobile=mobile, language=language, msgid=msgid,
                            params=dict(params or {}), beneficiary_id=beneficiary_id,
                            dedupe_key=dedupe_key)
    session.add(message)
    return message


def message_row(*, kind: str, mobile: str, language: str | None, msgid: str, params: dict,
                beneficiary_id: int | None, now) -> dict:
    """The columns of a new outbox row, as ``enqueue`` would write it (no dedupe key), for
    a caller that inserts rows itself (the booking path, cowin_kit.scheduling.taking)."""
    return {"created_at": now, "kind": kind, "mobile": mobile, "language": language,
            "msgid": msgid, "params": dict(params), "beneficiary_id": beneficiary_id,
            "dedupe_key": None, "status": OutboxStatus.PENDING.value, "attempts": 0,
            "next_attempt_at": now}


def forget_person(session: Session, beneficiary_id: int) -> None:
    """Before a person's record is removed: their messages still waiting are dropped (they
    speak of appointments that go with the record), the others no longer point at it.
    Flushed, never committed; a message a worker is sending right now is left to finish."""
    from sqlalchemy import delete, update

    from cowin_kit.notifications.models import OutboxStatus

    session.execute(delete(OutboxMessage).where(
        OutboxMessage.beneficiary_id == beneficiary_id,
        OutboxMessage.status == OutboxStatus.PENDING.value))
    session.execute(update(OutboxMessage).where(
        OutboxMessage.beneficiary_id == beneficiary_id).values(beneficiary_id=None))
