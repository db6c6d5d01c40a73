"""Recording the doses people are given.

Flask-free, like every service: the vaccinator's pages (issue 11), imports, the demo and the
tests call :func:`record_dose`. Recording is idempotent: a person's dose N of a programme is
recorded once (a unique constraint), so a retried request returns the dose already recorded
instead of adding a second one. Flushed, never committed: the caller commits.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cowin_kit.db import MAX_INT
from cowin_kit.errors import UserError
from cowin_kit.metrics import note
from cowin_kit.plugins.interfaces import N_
from cowin_kit.programmes.eligibility import MSG_BAD_DOSE
from cowin_kit.programmes.models import Product
from cowin_kit.vaccination.models import Dose


class DoseError(UserError):
    """A dose cannot be recorded (cowin_kit.errors: message id, the input to fix, params;
    400)."""


class DoseConflict(DoseError):
    """Another dose is already recorded under this number (not a retry of the same one)."""

    status = 409


MSG_ALREADY_RECORDED = N_("Dose %(dose)s is already recorded: %(vaccine)s on %(date)s.")


def _recorded(session: Session, beneficiary_id: int, programme_id: int,
              number: int) -> Dose | None:
    return session.scalar(select(Dose).where(
        Dose.beneficiary_id == beneficiary_id, Dose.programme_id == programme_id,
        Dose.dose_number == number))


def _same(dose: Dose, product_id: int, given_on: dt.date) -> Dose:
    """The recorded dose when it is the one asked for again; DoseConflict when not."""
    if (dose.product_id, dose.given_on) != (product_id, given_on):
        raise DoseConflict(MSG_ALREADY_RECORDED, "dose", dose=dose.dose_number,
                           vaccine=dose.product.name, date=dose.given_on.isoformat())
    return dose


def _by_key(session: Session, key: str) -> Dose | None:
    return session.scalar(select(Dose).where(Dose.idempotency_key == key))


def _other(dose: Dose) -> Dose:
    """A dose recorded by another recording under the number asked for: a conflict."""
    raise DoseConflict(MSG_ALREADY_RECORDED, "dose", dose=dose.dose_number,
                       vaccine=dose.product.name, date=dose.given_on.isoformat())


@dataclass(frozen=True)
class DoseDetails:
    """What a centre records with a dose (issue 11): the lot, the site of the injection, the
    moment (UTC), who gave it, the client's idempotency key, and a supervisor's override."""

    idempotency_key: str
    lot_id: int | None = None
    site: str | None = None
    given_at: dt.datetime | None = None
    vaccinator_id: int | None = None
    override_reason: str | None = None
    overridden_by: int | None = None


def record_dose(session: Session, *, beneficiary_id: int, product: Product | int,
                dose_number: int, given_on: dt.date, facility_id: int | None = None,
                appointment_id: str | None = None, details: DoseDetails | None = None,
                certificates=None, source: str | None = None) -> Dose:
    """Record that the person was given dose ``dose_number`` of ``product`` on ``given_on``.

    The same dose recorded again (same person, programme, number, product and date: a retry)
    returns the dose already recorded; a different one under that number is a DoseConflict.
    With ``details`` (a dose recorded at a centre) the retry is recognised by its
    idempotency key instead: the dose of that key is returned, and any other dose already
    under that number (another recording, e.g. at another centre) is a DoseConflict.
    The booking rules are not applied here: a dose given is a fact to record (the vaccinator
    checks eligibility before giving it: cowin_kit.vaccination.centre).
    ``certificates`` (a cowin_kit.certificates.issuing.IssuingContext): issue the person's
    next certificate in this transaction; a retry issues none. ``source``: how the person
    came (the appointment's source: online, assisted, walk_in), for the metrics."""
    if not isinstance(dose_number, int) or isinstance(dose_number, bool) or not (
            1 <= dose_number <= MAX_INT):
        raise DoseError(MSG_BAD_DOSE, "dose")
    if not isinstance(product, Product):
        product = session.get(Product, product)
        if product is None:
            raise DoseError(N_("This vaccine does not exist."), "product")
    key = details.idempotency_key if details is not None else None
    if key is not None and (replay := _by_key(session, key)) is not None:
        return replay
    existing = _recorded(session, beneficiary_id, product.programme_id, dose_number)
    if existing is not None:
        return _same(existing, product.id, given_on) if key is None else _other(existing)
    dose = Dose(beneficiary_id=beneficiary_id, programme_id=product.programme_id,
                product_id=product.id, dose_number=dose_number, given_on=given_on,
                facility_id=facility_id, appointment_id=appointment_id)
    if details is not None:
        dose.lot_id, dose.site, dose.given_at = details.lot_id, details.site, details.given_at
        dose.vaccinator_id, dose.idempotency_key = details.vaccinator_id, key
        dose.override_reason, dose.overridden_by = (details.override_reason,
                                                    details.overridden_by)
    try:
        with session.begin_nested():  # a concurrent retry may have recorded it meanwhile
            session.add(dose)
            session.flush()
    except IntegrityError:
        if key is not None and (replay := _by_key(session, key)) is not None:
            return replay
        existing = _recorded(session, beneficiary_id, product.programme_id, dose_number)
        if existing is None:
            raise
        return _same(existing, product.id, given_on) if key is None else _other(existing)
    if certificates is not None:
        from cowin_kit.certificates import issuing
        from cowin_kit.registration.models import Beneficiary

        issuing.issue(session, session.get(Beneficiary, beneficiary_id), product.programme_id,
                      certificates)
    # A new dose (a retry returned above): counted when it commits.
    note(session, "dose", source or "none")
    return dose


__all__ = ["DoseConflict", "DoseDetails", "DoseError", "record_dose"]
