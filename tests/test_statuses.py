"""Statuses are StrEnums next to their models, and the database refuses any other value
(CHECK constraints, migration 0010), on SQLite and PostgreSQL alike."""
import datetime as dt
import itertools
import uuid

import pytest
from sqlalchemy import Date, bindparam, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from cowin_kit.db import UTCDateTime
from cowin_kit.plugins.interfaces import VERIFY_STATUSES
from cowin_kit.programmes.models import Product
from cowin_kit.registration.models import Beneficiary, IdDocumentType, IdVerificationStatus
from cowin_kit.scheduling.models import (
    Appointment,
    AppointmentStatus,
    Facility,
    Slot,
)


def _person(session, status=IdVerificationStatus.UNVERIFIED) -> int:
    doc = session.scalar(select(IdDocumentType).order_by(IdDocumentType.id))
    key = uuid.uuid4().hex
    return session.execute(insert(Beneficiary).values(
        reference_id=key[:14], name="Ana Quispe", birth_year=1980, gender="female",
        id_document_type_id=doc.id, id_number_hash=key * 2, id_number_encrypted="x",
        id_number_masked="XXXX1234", id_verification_status=status,
    ).returning(Beneficiary.id)).scalar_one()


_days = itertools.count()


def _insert_appointment(session, row: dict) -> None:
    """Plain SQL naming only the columns of 0009 (see _appointment_row)."""
    session.execute(text(
        "INSERT INTO appointment (id, beneficiary_id, session_id, slot_id, dose_number, "
        "secret_code, status, reschedule_count, created_at) VALUES (:id, :beneficiary_id, "
        ":session_id, :slot_id, :dose_number, :secret_code, :status, 0, :now)"
    ).bindparams(bindparam("now", type_=UTCDateTime)),
        {**row, "status": str(row["status"]), "now": dt.datetime.now(dt.UTC)})


def _appointment_row(session, status) -> dict:
    """An appointment's values, in a session of its own (one per centre, day and vaccine)."""
    day = dt.date(2031, 3, 3) + dt.timedelta(days=next(_days))
    # Plain SQL naming only the columns of 0009, so that it works on a downgraded schema too
    # (the models have the columns of the head).
    session_id = str(uuid.uuid4())
    session.execute(text(
        "INSERT INTO vaccination_session (id, facility_id, date, product_id, min_age, fee, "
        "walk_in, created_at) VALUES (:id, :facility, :date, :product, 18, 0, :yes, :now)"
    ).bindparams(bindparam("date", type_=Date), bindparam("now", type_=UTCDateTime)),
        {"id": session_id, "facility": session.scalar(select(Facility.id)), "date": day,
         "product": session.scalar(select(Product.id)), "yes": True,
         "now": dt.datetime.now(dt.UTC)})
    slot_id = session.execute(insert(Slot).values(
        session_id=session_id, starts=dt.time(9), ends=dt.time(11)).returning(Slot.id)
    ).scalar_one()
    return {"id": str(uuid.uuid4()), "beneficiary_id": _person(session), "session_id": session_id,
            "slot_id": slot_id, "dose_number": 1, "secret_code": "1234", "status": status}


def test_the_registry_answers_are_the_verification_statuses_but_unverified():
    assert set(VERIFY_STATUSES) == set(IdVerificationStatus) - {IdVerificationStatus.UNVERIFIED}


def test_every_status_is_accepted(db_session):
    for status in IdVerificationStatus:
        _person(db_session, status)
    for status in AppointmentStatus:
        if status != AppointmentStatus.BOOKED:  # one active appointment per person
            db_session.execute(insert(Appointment).values(_appointment_row(db_session, status)))
    db_session.flush()


def test_a_bad_verification_status_is_refused_by_the_database(db_session):
    with pytest.raises(IntegrityError), db_session.begin_nested():
        _person(db_session, "checked")
    person_id = _person(db_session)
    with pytest.raises(IntegrityError), db_session.begin_nested():
        db_session.execute(update(Beneficiary).where(Beneficiary.id == person_id)
                           .values(id_verification_status="VERIFIED"))  # values are lower case


def test_a_bad_appointment_status_is_refused_by_the_database(db_session):
    with pytest.raises(IntegrityError), db_session.begin_nested():
        db_session.execute(insert(Appointment).values(_appointment_row(db_session, "pending")))
    row = _appointment_row(db_session, AppointmentStatus.BOOKED)
    db_session.execute(insert(Appointment).values(row))
    with pytest.raises(IntegrityError), db_session.begin_nested():
        db_session.execute(update(Appointment).where(Appointment.id == row["id"])
                           .values(status="expired"))
    assert db_session.get(Appointment, row["id"]).status == AppointmentStatus.BOOKED


def test_the_checks_come_and_go_with_migration_0010(database):
    from cowin_kit import migrate

    migrate.downgrade(database, "0009")
    with database.session() as session:
        row = _appointment_row(session, "pending")  # no check before 0010
        _insert_appointment(session, row)
        session.execute(update(Appointment).where(Appointment.id == row["id"])
                        .values(status=AppointmentStatus.CANCELLED))
    migrate.upgrade(database)  # through 0010 and what follows it
    assert migrate.current_revision(database) == migrate.head_revision(database)
    with database.Session() as session:
        with pytest.raises(IntegrityError):
            session.execute(update(Appointment).where(Appointment.id == row["id"])
                            .values(status="pending"))
        session.rollback()
        # The table copied on SQLite keeps its partial index: one booked per person only.
        person = session.get(Appointment, row["id"]).beneficiary_id
        for _ in range(2):
            again = _appointment_row(session, AppointmentStatus.CANCELLED)
            session.execute(insert(Appointment).values({**again, "beneficiary_id": person}))
        session.execute(insert(Appointment).values(
            {**_appointment_row(session, AppointmentStatus.BOOKED), "beneficiary_id": person}))
        with pytest.raises(IntegrityError), session.begin_nested():
            session.execute(insert(Appointment).values(
                {**_appointment_row(session, AppointmentStatus.BOOKED),
                 "beneficiary_id": person}))
        session.rollback()
