"""Recording the doses people are given.

Flask-free, like every service: the vaccinator's pages (issue 11), imports, the demo and the
tests call :func:`record_dose`. Recording is idempotent: a person's dose N of a programme is
recorded once (a unique constraint), so a retried request returns the dose already recorded
instead of adding a second one. Flushed, never committed: the caller commits.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cowin_kit.db import MAX_INT
from cowin_kit.errors import UserError
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


def record_dose(session: Session, *, beneficiary_id: int, product: Product | int,
                dose_number: int, given_on: dt.date, facility_id: int | None = None,
                appointment_id: str | None = None) -> Dose:
    """Record that the person was given dose ``dose_number`` of ``product`` on ``given_on``.

    The same dose recorded again (same person, programme, number, product and date: a retry)
    returns the dose already recorded; a different one under that number is a DoseConflict.
    The booking rules are not applied here: a dose given is a fact to record (the vaccinator
    checks eligibility before giving it)."""
    if not isinstance(dose_number, int) or isinstance(dose_number, bool) or not (
            1 <= dose_number <= MAX_INT):
        raise DoseError(MSG_BAD_DOSE, "dose")
    if not isinstance(product, Product):
        product = session.get(Product, product)
        if product is None:
            raise DoseError(N_("This vaccine does not exist."), "product")
    existing = _recorded(session, beneficiary_id, product.programme_id, dose_number)
    if existing is not None:
        return _same(existing, product.id, given_on)
    dose = Dose(beneficiary_id=beneficiary_id, programme_id=product.programme_id,
                product_id=product.id, dose_number=dose_number, given_on=given_on,
                facility_id=facility_id, appointment_id=appointment_id)
    try:
        with session.begin_nested():  # a concurrent retry may have recorded it meanwhile
            session.add(dose)
            session.flush()
    except IntegrityError:
        existing = _recorded(session, beneficiary_id, product.programme_id, dose_number)
        if existing is None:
            raise
        return _same(existing, product.id, given_on)
    return dose


__all__ = ["DoseConflict", "DoseError", "record_dose"]
