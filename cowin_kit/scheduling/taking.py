"""The write of a booking: take the places and record what goes with them, in as few
round trips as the database allows, without the ORM's unit of work.

What is written, in one transaction with the caller's checks (cowin_kit.scheduling.booking):
the session's capacity row (places.py's conditional UPDATE, also conditional on the session
being open: not cancelled, its centre active), the appointment rows, their audit entries and
their confirmation texts in the outbox. Nothing is written unless the places were taken.

PostgreSQL: one statement (data-modifying CTEs), so the capacity row stays locked only
from that statement to the COMMIT that follows it. Its first CTE takes a KEY SHARE lock on
the session's row, as every booking does: a session being cancelled (FOR UPDATE, in
scheduling.session_cancel) makes it wait, then see the session cancelled.
SQLite: the same, as a few statements (SQLite has no DML in a CTE); writers run one at a
time there anyway (BEGIN IMMEDIATE).
"""
from __future__ import annotations

import functools
import json
from enum import Enum

from sqlalchemy import bindparam, insert, select, text
from sqlalchemy.orm import Session

from cowin_kit.accounts.models import AuditEvent
from cowin_kit.notifications.models import OutboxMessage
from cowin_kit.scheduling.models import Appointment, Facility, VaccinationSession
from cowin_kit.scheduling.places import take_if_open


class Outcome(Enum):
    MADE = "made"
    FULL = "full"  # no place left
    CLOSED = "closed"  # the session was cancelled, or its centre closed


def write_booking(session: Session, *, session_id: str, dose: int, appointments: list[dict],
                  audits: list[dict], texts: list[dict]) -> Outcome:
    """Take len(appointments) places of ``dose`` and insert the rows (dicts of column
    values, every column given). Raises IntegrityError when a person already has an
    active appointment (the caller's transaction is then unusable: roll it back)."""
    session.flush()  # Core does not autoflush: pending ORM changes (a missed mark) go first
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        return _outcome(*conn.execute(_PG_BOOKING, _write_params(
            session_id, dose, appointments, audits, texts)).one())
    if not take_if_open(session, session_id, dose, len(appointments)):
        open_ = conn.execute(_OPEN, {"session_id": session_id}).first() is not None
        return Outcome.FULL if open_ else Outcome.CLOSED
    conn.execute(insert(Appointment), appointments)
    if audits:
        conn.execute(insert(AuditEvent), audits)
    if texts:
        conn.execute(insert(OutboxMessage), texts)
    return Outcome.MADE


def _write_params(session_id: str, dose: int, appointments: list[dict], audits: list[dict],
                  texts: list[dict]) -> dict:
    return {"session_id": session_id, "dose": dose, "count": len(appointments),
            "appointments": _json(appointments), "audits": _json(audits),
            "texts": _json(texts)}


def _outcome(is_open: int, made: int) -> Outcome:
    """The write statement's answer: (open sessions, appointments made) counted."""
    if made:
        return Outcome.MADE
    return Outcome.FULL if is_open else Outcome.CLOSED


def _json(rows: list[dict]) -> str:
    return json.dumps(rows, default=lambda v: v.isoformat())


_OPEN = (select(VaccinationSession.id)
         .join(Facility, Facility.id == VaccinationSession.facility_id)
         .where(VaccinationSession.id == bindparam("session_id"),
                VaccinationSession.cancelled_at.is_(None), Facility.is_active.is_(True)))

# The rows come as JSON arrays (one parameter each, whatever the number of people) and are
# inserted only when the places were taken. Column lists mirror the models; a model change
# that adds a NOT NULL column without a server default fails the booking tests at once.
_PG_BOOKING = text("""
WITH open_session AS (
    SELECT s.id FROM vaccination_session s JOIN facility f ON f.id = s.facility_id
    WHERE s.id = :session_id AND s.cancelled_at IS NULL AND f.is_active
    FOR KEY SHARE OF s
), taken AS (
    UPDATE session_capacity SET booked = booked + :count
    WHERE session_id = (SELECT id FROM open_session) AND dose_number = :dose
      AND booked + :count <= capacity
    RETURNING session_id
), made AS (
    INSERT INTO appointment (id, beneficiary_id, session_id, slot_id, dose_number,
        secret_code, status, reschedule_count, created_at, cancelled_at, source, booked_by,
        walk_in_place)
    SELECT r.id, r.beneficiary_id, r.session_id, r.slot_id, r.dose_number, r.secret_code,
        r.status, r.reschedule_count, r.created_at, r.cancelled_at, r.source, r.booked_by,
        r.walk_in_place
    FROM jsonb_to_recordset(CAST(:appointments AS jsonb)) AS r(id varchar,
        beneficiary_id int, session_id varchar, slot_id int, dose_number int,
        secret_code varchar, status varchar, reschedule_count int, created_at timestamptz,
        cancelled_at timestamptz, source varchar, booked_by int, walk_in_place boolean)
    WHERE EXISTS (SELECT 1 FROM taken)
    RETURNING id
), audited AS (
    INSERT INTO audit_event (at, actor, action, target, details, source, division_id)
    SELECT r.at, r.actor, r.action, r.target, r.details, r.source, r.division_id
    FROM jsonb_to_recordset(CAST(:audits AS jsonb)) AS r(at timestamptz, actor varchar,
        action varchar, target varchar, details json, source varchar, division_id int)
    WHERE EXISTS (SELECT 1 FROM made)
), queued AS (
    INSERT INTO notification_outbox (created_at, kind, mobile, language, msgid, params,
        beneficiary_id, dedupe_key, status, attempts, next_attempt_at)
    SELECT r.created_at, r.kind, r.mobile, r.language, r.msgid, r.params, r.beneficiary_id,
        r.dedupe_key, r.status, r.attempts, r.next_attempt_at
    FROM jsonb_to_recordset(CAST(:texts AS jsonb)) AS r(created_at timestamptz,
        kind varchar, mobile varchar, language varchar, msgid varchar, params json,
        beneficiary_id int, dedupe_key varchar, status varchar, attempts int,
        next_attempt_at timestamptz)
    WHERE EXISTS (SELECT 1 FROM made)
)
SELECT (SELECT count(*) FROM open_session) AS open, (SELECT count(*) FROM made) AS made
""")


# --- the same on a DBAPI connection (booking.schedule_on_driver) --------------------------

class DriverIntegrityError(Exception):
    """The database refused a row (a person's second active appointment)."""


@functools.cache
def _driver_write() -> str:
    """_PG_BOOKING as psycopg takes it (%(name)s parameters), compiled once."""
    from sqlalchemy.dialects.postgresql import psycopg as dialect

    return str(_PG_BOOKING.compile(dialect=dialect.dialect()))


# The caller (by its token's digest) and their people named by reference id, locked, in one
# statement: the login and _PEOPLE's rows (same columns) of the driver path. The active
# appointment and its day are scalar subqueries, which PostgreSQL runs as index lookups
# whatever it believes of the tables' sizes (its joins cost more on a young database).
_CALLER_AND_PEOPLE = """
SELECT c.revoked_at, c.expires_at, c.id, c.mobile, c.language,
    p.id, p.reference_id, p.account_id, p.name, p.birth_year, p.birth_date,
    p.priority_groups, p.language, p.appointment_id, p.appointment_on,
    p.dose_number, p.given_on, p.product_id
FROM (SELECT t.revoked_at, t.expires_at, a.id, a.mobile, a.language
      FROM api_token t JOIN citizen_account a ON a.id = t.account_id
      WHERE t.token_hash = %(token_hash)s) c
LEFT JOIN LATERAL (
    SELECT b.id, b.reference_id, b.account_id, b.name, b.birth_year, b.birth_date,
        b.priority_groups, b.language,
        (SELECT a.id FROM appointment a
         WHERE a.beneficiary_id = b.id AND a.status = 'booked') AS appointment_id,
        (SELECT s.date FROM appointment a JOIN vaccination_session s ON s.id = a.session_id
         WHERE a.beneficiary_id = b.id AND a.status = 'booked') AS appointment_on,
        d.dose_number, d.given_on, d.product_id
    FROM beneficiary b
    LEFT JOIN dose d ON d.beneficiary_id = b.id AND d.programme_id = %(programme_id)s
    WHERE b.account_id = c.id AND b.reference_id = ANY(%(ids)s)
    ORDER BY b.id, d.dose_number
    FOR UPDATE OF b
) p ON true
"""


def driver_caller_and_people(conn, token_hash: str, refs: list[str],
                             programme_id: int) -> tuple[tuple | None, list]:
    """The token's row with its account (revoked_at, expires_at, id, mobile, language),
    None for an unknown token; and booking._PEOPLE's rows of the account's people named
    by ``refs``, locked."""
    with conn.cursor() as cur:
        cur.execute(_CALLER_AND_PEOPLE, {"token_hash": token_hash, "ids": refs,
                                         "programme_id": programme_id})
        rows = cur.fetchall()
    if not rows:
        return None, []
    return rows[0][:5], [row[5:] for row in rows if row[5] is not None]


def driver_write(conn, *, session_id: str, dose: int, appointments: list[dict],
                 audits: list[dict], texts: list[dict]) -> Outcome:
    """write_booking's PostgreSQL statement on a DBAPI connection."""
    import psycopg

    with conn.cursor() as cur:
        try:
            cur.execute(_driver_write(), _write_params(session_id, dose, appointments,
                                                       audits, texts))
        except psycopg.IntegrityError as exc:
            raise DriverIntegrityError() from exc
        return _outcome(*cur.fetchone())
