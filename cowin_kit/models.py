"""Imports every domain's models so that ``Base.metadata`` is complete (alembic, tests),
and holds the facts a deployment records about itself."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cowin_kit.accounts.models import (  # noqa: F401
    ApiToken,
    AuditEvent,
    CitizenAccount,
    OtpTransaction,
    StaffUser,
)
from cowin_kit.certificates.models import Certificate  # noqa: F401
from cowin_kit.db import Base, UTCDateTime, utcnow
from cowin_kit.geography.models import Division  # noqa: F401
from cowin_kit.notifications.models import OutboxMessage  # noqa: F401
from cowin_kit.programmes.models import DoseRule, EligibilityPhase, Product, Programme  # noqa: F401
from cowin_kit.registration.models import Beneficiary, IdDocumentType  # noqa: F401
from cowin_kit.reporting.export_models import ReportExport  # noqa: F401
from cowin_kit.reporting.models import DoseRollup, DoseRollupTotal, RollupState  # noqa: F401
from cowin_kit.scheduling.models import (  # noqa: F401
    Appointment,
    Facility,
    SessionCapacity,
    Slot,
    VaccinationSession,
)
from cowin_kit.vaccination.aefi_models import AefiFollowUp, AefiReport  # noqa: F401
from cowin_kit.vaccination.models import Dose, VaccineLot  # noqa: F401


class DeploymentFact(Base):
    """Key/value facts: country, when it was initialised, the profile's checksum."""

    __tablename__ = "deployment_fact"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


metadata = Base.metadata
