"""Vaccine lots at a facility: which may be used on a day, and taking one dose from a lot.

A dose is taken from a lot by one conditional UPDATE (doses_used < doses_received, not
expired, active, of this facility and product), in the transaction that records the dose,
so two vaccinators can never use the last dose of a lot twice.
"""
from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cowin_kit.accounts.service import audit
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


# --- managing a facility's lots (the staff pages) ------------------------------------------

MAX_DOSES = 10_000_000
MSG_LOT_NUMBER = N_("Enter the lot number as printed: letters, digits, hyphens, at most 40.")
MSG_LOT_EXISTS = N_("This centre already has lot %(lot)s of %(vaccine)s.")
MSG_ALREADY_EXPIRED = N_("This lot expired on %(date)s; an expired lot cannot be added.")
MSG_BAD_DOSES = N_("Enter a number of doses from %(min)s to %(max)s.")
MSG_BELOW_USED = N_("%(used)s doses of this lot are already used; enter at least that.")
MSG_BAD_PRODUCT = N_("Choose one of the vaccines offered.")
LOT_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9./-]{0,39}")


def facility_lots(session: Session, facility_id: int) -> list[VaccineLot]:
    """Every lot of the facility, active ones first, the one expiring first first."""
    return list(session.scalars(
        select(VaccineLot).where(VaccineLot.facility_id == facility_id)
        .order_by(VaccineLot.is_active.desc(), VaccineLot.expires_on, VaccineLot.lot_number)))


def facility_lot(session: Session, facility_id: int, lot_id: int) -> VaccineLot:
    """A lot of this facility; LotError (404) for another facility's, as for none."""
    lot = session.get(VaccineLot, lot_id) if isinstance(lot_id, int) else None
    if lot is None or lot.facility_id != facility_id:
        raise LotNotFound(MSG_UNKNOWN_LOT, "lot", vaccine="")
    return lot


class LotNotFound(LotError):
    status = 404


def _check_doses(doses, used: int = 0) -> None:
    if not isinstance(doses, int) or isinstance(doses, bool) or not 1 <= doses <= MAX_DOSES:
        raise LotError(MSG_BAD_DOSES, "doses_received", min=max(1, used), max=MAX_DOSES)
    if doses < used:
        raise LotError(MSG_BELOW_USED, "doses_received", used=used)


def add_lot(session: Session, actor: str, facility, *, lot_number: str, product,
            expires_on: dt.date, doses_received: int, today: dt.date) -> VaccineLot:
    """Record a lot received at the facility (``product``: one the profile offers, or
    None when the choice was not one)."""
    number = (lot_number or "").strip().upper()
    if not LOT_NUMBER.fullmatch(number):
        raise LotError(MSG_LOT_NUMBER, "lot_number")
    if product is None:
        raise LotError(MSG_BAD_PRODUCT, "product")
    if expires_on < today:
        raise LotError(MSG_ALREADY_EXPIRED, "expires_on", date=expires_on.isoformat())
    _check_doses(doses_received)
    if session.scalar(select(VaccineLot.id).where(
            VaccineLot.facility_id == facility.id, VaccineLot.product_id == product.id,
            VaccineLot.lot_number == number)):
        raise LotError(MSG_LOT_EXISTS, "lot_number", lot=number, vaccine=product.name)
    lot = VaccineLot(facility_id=facility.id, product_id=product.id, lot_number=number,
                     expires_on=expires_on, doses_received=doses_received, doses_used=0,
                     is_active=True)
    try:
        with session.begin_nested():
            session.add(lot)
            session.flush()
    except IntegrityError:  # the same lot added at the same moment
        raise LotError(MSG_LOT_EXISTS, "lot_number", lot=number,
                       vaccine=product.name) from None
    audit(session, actor, "lot.added", f"lot:{lot.id}", division_id=facility.division_id,
          facility=facility.code, lot=number, vaccine=product.code,
          expires_on=expires_on.isoformat(), doses_received=doses_received)
    return lot


def set_doses_received(session: Session, actor: str, facility, lot: VaccineLot,
                       doses_received: int) -> VaccineLot:
    """Correct a lot's doses received: conditional, never below the doses used (a dose
    taken meanwhile is counted)."""
    _check_doses(doses_received)
    done = session.execute(
        update(VaccineLot)
        .where(VaccineLot.id == lot.id, VaccineLot.doses_used <= doses_received)
        .values(doses_received=doses_received)
        .execution_options(synchronize_session=False)).rowcount
    session.refresh(lot)
    if done != 1:
        raise LotError(MSG_BELOW_USED, "doses_received", used=lot.doses_used)
    audit(session, actor, "lot.updated", f"lot:{lot.id}", division_id=facility.division_id,
          facility=facility.code, lot=lot.lot_number, doses_received=doses_received)
    return lot


def set_lot_active(session: Session, actor: str, facility, lot: VaccineLot,
                   active: bool) -> bool:
    """Withdraw a lot (no more doses from it) or put it back; False when already so."""
    if lot.is_active == active:
        return False
    lot.is_active = active
    session.flush()
    audit(session, actor, "lot.restored" if active else "lot.withdrawn", f"lot:{lot.id}",
          division_id=facility.division_id, facility=facility.code, lot=lot.lot_number)
    return True
