from __future__ import annotations

import datetime as dt
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Time,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cowin_kit.db import Base, UTCDateTime, one_of, utcnow
from cowin_kit.geography.models import Division

FEE_TYPES = ("Free", "Paid")


class Facility(Base):
    """A vaccination centre."""

    __tablename__ = "facility"
    # Centres near a point (scheduling.nearby): a range of latitudes, then of longitudes.
    __table_args__ = (Index("ix_facility_latitude_longitude", "latitude", "longitude"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    names: Mapped[dict] = mapped_column(JSON, default=dict)
    address: Mapped[str] = mapped_column(String(400), default="")
    division_id: Mapped[int] = mapped_column(ForeignKey("division.id"), index=True)
    postal_code: Mapped[str | None] = mapped_column(String(20), index=True)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    fee_type: Mapped[str] = mapped_column(String(10), default="Free")
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    # A facility with history is never deleted: deactivated, it takes no new sessions and
    # is not shown to citizens, and its doses and appointments keep pointing at it.
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    division: Mapped[Division] = relationship()


class VaccinationSession(Base):
    """A day of vaccination with one product at one centre (Co-WIN's session)."""

    __tablename__ = "vaccination_session"
    # One session per centre, day and vaccine: imports update it, forms refuse a second one,
    # and the database holds the rule against two requests at the same moment.
    __table_args__ = (
        UniqueConstraint("facility_id", "date", "product_id"),
        # Places kept for people who walk in, apart from the bookable capacity; like
        # ``booked``, ``walk_ins`` changes only through one conditional UPDATE.
        CheckConstraint("walk_ins >= 0 AND walk_ins <= walk_in_quota", name="walk_in_range"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # session_id, a UUID
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id"), index=True)
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    min_age: Mapped[int] = mapped_column(Integer)
    max_age: Mapped[int | None] = mapped_column(Integer)
    fee: Mapped[float] = mapped_column(Numeric(10, 2), default=0)  # in the profile's currency
    walk_in: Mapped[bool] = mapped_column(Boolean, default=True)
    walk_in_quota: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    walk_ins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # A cancelled session keeps its row (appointments and the audit log point at it).
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    facility: Mapped[Facility] = relationship()
    capacities: Mapped[list[SessionCapacity]] = relationship(
        back_populates="session", order_by="SessionCapacity.dose_number")
    slots: Mapped[list[Slot]] = relationship(back_populates="session", order_by="Slot.starts")


class SessionCapacity(Base):
    """Places for one dose number in a session. ``booked`` only ever changes through one
    conditional UPDATE (booked < capacity), so no concurrency can overbook."""

    __tablename__ = "session_capacity"
    __table_args__ = (CheckConstraint("booked >= 0 AND booked <= capacity", name="booked_range"),)

    session_id: Mapped[str] = mapped_column(ForeignKey("vaccination_session.id"),
                                            primary_key=True)
    dose_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    capacity: Mapped[int] = mapped_column(Integer)
    booked: Mapped[int] = mapped_column(Integer, default=0)

    session: Mapped[VaccinationSession] = relationship(back_populates="capacities")


class Slot(Base):
    """A time window of a session, e.g. 09:00–11:00."""

    __tablename__ = "slot"
    __table_args__ = (UniqueConstraint("session_id", "starts"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("vaccination_session.id"), index=True)
    starts: Mapped[dt.time] = mapped_column(Time)
    ends: Mapped[dt.time] = mapped_column(Time)

    session: Mapped[VaccinationSession] = relationship(back_populates="slots")


class AppointmentStatus(StrEnum):
    """Where an appointment stands; stored as these values (a CHECK holds them)."""

    BOOKED = "booked"  # active: at most one per person
    CANCELLED = "cancelled"  # the only status that gave its place back
    MISSED = "missed"  # its day passed without a dose (closed when the person books again)
    DONE = "done"  # the dose was given


class AppointmentSource(StrEnum):
    """How the appointment was made."""

    ONLINE = "online"  # by the citizen, on the portal or through the API
    ASSISTED = "assisted"  # by a call-centre or service-centre operator for the citizen
    WALK_IN = "walk_in"  # at the centre, on the day


_ACTIVE = f"status = '{AppointmentStatus.BOOKED.value}'"


class Appointment(Base):
    """A beneficiary's booking of a dose in a session's slot."""

    __tablename__ = "appointment"
    __table_args__ = (
        one_of("status", AppointmentStatus),
        one_of("source", AppointmentSource),
        # One active appointment per person, whatever the concurrency.
        Index("uq_appointment_active_beneficiary", "beneficiary_id", unique=True,
              sqlite_where=text(_ACTIVE), postgresql_where=text(_ACTIVE)),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # appointment_id, a UUID
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiary.id"), index=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("vaccination_session.id"), index=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slot.id"))
    dose_number: Mapped[int] = mapped_column(Integer)
    secret_code: Mapped[str] = mapped_column(String(4))  # the vaccinator asks for it
    status: Mapped[str] = mapped_column(String(12), default=AppointmentStatus.BOOKED.value)
    reschedule_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(12), default=AppointmentSource.ONLINE.value,
                                        server_default=AppointmentSource.ONLINE.value)
    # The staff user who made it (assisted, walk-in); None when the citizen did.
    booked_by: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    # True when the place came from the session's walk-in quota (so giving it back
    # returns it there), False when from the dose's capacity.
    walk_in_place: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The vaccinator marked the person as arrived (the queue: booked, arrived, done, missed).
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    session: Mapped[VaccinationSession] = relationship()
    slot: Mapped[Slot] = relationship()
