"""Vaccine lots at a facility: which may be used on a day, and taking one dose from a lot.

A dose is taken from a lot by one conditional UPDATE (doses_used < doses_received, not
expired, active, of this facility and product), in the transaction that records the dose,
so two vaccinators can never use the last dose of a lot twice.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cowin_kit.errors import UserError
from cowin_kit.plugins.interfaces import N_
from cowin_kit.vaccination.models import VaccineLot


class LotError(UserError):
    """A lot that cannot be used (unknown here, of another product, expired, used up)."""


MSG_UNKNOWN_LOT = N_("This lot is not one of this centre's lots of %(vaccine)s.")
MSG_EXPIRED_LOT = N_("Lot %(lot)s expired on %(date)s. Do not use it; choose another lot.")
MSG_USED_UP_LOT = N_("Lot %(lot)s is used up (%(doses)s doses received). Choose another lot "
                     "or record the lot's new stock.")
MSG_INACTIVE_LOT = N_("Lot %(lot)s has been withdrawn. Choose another lot.")


def usable_lots(session: Session, facility_id: int, product_id: int,
                on: dt.date) -> list[VaccineLot]:
    """The lots a vaccinator may choose on ``on``: active, not expired, not used up; the
    one expiring first first (use the oldest stock first)."""
    return list(session.scalars(
        select(VaccineLot)
        .where(VaccineLot.facility_id == facility_id, VaccineLot.product_id == product_id,
               VaccineLot.is_active.is_(True), VaccineLot.expires_on >= on,
               VaccineLot.doses_used < VaccineLot.doses_received)
        .order_by(VaccineLot.expires_on, VaccineLot.lot_number)))


def take_dose(session: Session, lot_id: int, *, facility_id: int, product_id: int,
              on: dt.date, vaccine: str = "") -> VaccineLot:
    """Take one dose from the lot, or raise LotError saying why it cannot be used."""
    done = session.execute(
        update(VaccineLot)
        .where(VaccineLot.id == lot_id, VaccineLot.facility_id == facility_id,
               VaccineLot.product_id == product_id, VaccineLot.is_active.is_(True),
               VaccineLot.expires_on >= on,
               VaccineLot.doses_used < VaccineLot.doses_received)
        .values(doses_used=VaccineLot.doses_used + 1)
        .execution_options(synchronize_session=False)).rowcount
    lot = session.get(VaccineLot, lot_id, populate_existing=True)
    if done == 1:
        return lot
    if lot is None or lot.facility_id != facility_id or lot.product_id != product_id:
        raise LotError(MSG_UNKNOWN_LOT, "lot", vaccine=vaccine)
    if not lot.is_active:
        raise LotError(MSG_INACTIVE_LOT, "lot", lot=lot.lot_number)
    if lot.expires_on < on:
        raise LotError(MSG_EXPIRED_LOT, "lot", lot=lot.lot_number,
                       date=lot.expires_on.isoformat())
    raise LotError(MSG_USED_UP_LOT, "lot", lot=lot.lot_number, doses=lot.doses_received)
