"""Vaccination centres managed on the staff pages: created and edited within an
administrator's area, deactivated (never deleted: doses and appointments point at them) and
reactivated, and the facility staff (facility managers, vaccinators) assigned to them.

Flask-free: functions take a DB session and plain values, flush and never commit. A refused
value is a ``FacilityError`` naming the field; acting outside the area is ``OutsideArea``
(403), which the pages turn into a refusal written to the audit log. The CSV import of
centres is :mod:`cowin_kit.scheduling.service`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cowin_kit.accounts.models import StaffUser
from cowin_kit.accounts.roles import FACILITY_ROLES, Role
from cowin_kit.accounts.service import actor, audit, in_area
from cowin_kit.errors import UserError
from cowin_kit.geography.models import Division
from cowin_kit.plugins.interfaces import N_
from cowin_kit.scheduling.models import FEE_TYPES, Facility
from cowin_kit.scheduling.service import FACILITY_LENGTHS

# Upper-case letters, digits and hyphens: the codes of sessions files and Co-WIN's IDs.
CODE = re.compile(r"[A-Z0-9][A-Z0-9-]{1,39}")

MSG_BAD_CODE = N_("Use 2 to 40 capital letters, digits and hyphens, like PE-LIM-0042.")
MSG_CODE_TAKEN = N_("Another centre already has the code %(code)s.")
MSG_TOO_LONG = N_("Use at most %(max)s characters.")
MSG_REQUIRED = N_("This is required.")
MSG_BAD_DIVISION = N_("Choose a district of your area.")
MSG_BAD_POSTAL = N_("This postal code does not have the country's form.")
MSG_BAD_COORDINATE = N_("Enter a number from %(min)s to %(max)s.")
MSG_BOTH_COORDINATES = N_("Enter both latitude and longitude, or neither.")
MSG_BAD_FEE_TYPE = N_("Choose free or paid.")
MSG_NOT_STAFF = N_("Choose a vaccinator or facility manager of your area.")


class FacilityError(UserError):
    """A refused centre value or assignment (400)."""


class OutsideArea(FacilityError):
    """A division, centre or user outside the acting user's area or facility (403)."""

    status = 403


@dataclass
class FacilityValues:
    code: str
    name: str
    address: str
    division_id: int | None
    postal_code: str
    latitude: float | None
    longitude: float | None
    fee_type: str


def deepest_divisions(session: Session, area: list[int] | None) -> list[Division]:
    """The divisions of the area at the deepest level the area has (districts, where the
    geography goes that far): where a centre is placed."""
    query = select(Division)
    if area is not None:
        query = query.where(Division.id.in_(area))
    level = session.scalar(query.with_only_columns(func.max(Division.level)))
    if level is None:
        return []
    return list(session.scalars(query.where(Division.level == level)
                                .order_by(Division.name, Division.code)))


def _check(session: Session, values: FacilityValues, area: list[int] | None,
           postal_pattern: str, facility: Facility | None) -> Division:
    code = values.code.strip().upper()
    if not CODE.fullmatch(code):
        raise FacilityError(MSG_BAD_CODE, "code")
    taken = session.scalar(select(Facility.id).where(Facility.code == code))
    if taken is not None and (facility is None or taken != facility.id):
        raise FacilityError(MSG_CODE_TAKEN, "code", code=code)
    for name in ("name", "address", "postal_code"):
        value = getattr(values, name).strip()
        if name == "name" and not value:
            raise FacilityError(MSG_REQUIRED, name)
        if len(value) > FACILITY_LENGTHS[name]:
            raise FacilityError(MSG_TOO_LONG, name, max=FACILITY_LENGTHS[name])
    postal = values.postal_code.strip()
    if postal and not re.fullmatch(postal_pattern, postal):
        raise FacilityError(MSG_BAD_POSTAL, "postal_code")
    for name, limit in (("latitude", 90), ("longitude", 180)):
        value = getattr(values, name)
        if value is not None and not -limit <= value <= limit:
            raise FacilityError(MSG_BAD_COORDINATE, name, min=-limit, max=limit)
    if (values.latitude is None) != (values.longitude is None):
        raise FacilityError(MSG_BOTH_COORDINATES, "longitude")
    if values.fee_type not in FEE_TYPES:
        raise FacilityError(MSG_BAD_FEE_TYPE, "fee_type")
    division = session.get(Division, values.division_id) if values.division_id else None
    if division is None:
        raise FacilityError(MSG_BAD_DIVISION, "division")
    if not in_area(area, division.id):
        raise OutsideArea(MSG_BAD_DIVISION, "division")
    return division


def _apply(facility: Facility, values: FacilityValues, division: Division) -> dict:
    """Set the values; returns what changed (for the audit log: codes and names only)."""
    new = {"code": values.code.strip().upper(), "name": values.name.strip(),
           "address": values.address.strip(), "division_id": division.id,
           "postal_code": values.postal_code.strip() or None, "latitude": values.latitude,
           "longitude": values.longitude, "fee_type": values.fee_type}
    changed = {k: v for k, v in new.items() if getattr(facility, k, None) != v}
    for name, value in new.items():
        setattr(facility, name, value)
    return changed


def create_facility(session: Session, user: StaffUser, area: list[int] | None,
                    values: FacilityValues, *, postal_pattern: str) -> Facility:
    """A new centre in a division of the user's area."""
    division = _check(session, values, area, postal_pattern, None)
    facility = Facility(is_demo=False, is_active=True, names={})
    _apply(facility, values, division)
    session.add(facility)
    session.flush()
    audit(session, actor(user), "facility.created", f"facility:{facility.id}",
          division_id=division.id, code=facility.code, fee_type=facility.fee_type)
    return facility


def update_facility(session: Session, user: StaffUser, area: list[int] | None,
                    facility: Facility, values: FacilityValues, *,
                    postal_pattern: str) -> Facility:
    """Change a centre of the user's area (it may move, within the area)."""
    if not in_area(area, facility.division_id):
        raise OutsideArea(MSG_BAD_DIVISION, "division")
    division = _check(session, values, area, postal_pattern, facility)
    changed = _apply(facility, values, division)
    session.flush()
    if changed:
        audit(session, actor(user), "facility.updated", f"facility:{facility.id}",
              division_id=division.id, code=facility.code, changed=sorted(changed))
    return facility


def set_active(session: Session, user: StaffUser, facility: Facility, active: bool) -> bool:
    """Deactivate (no new sessions, hidden from search and booking) or reactivate a
    centre. Returns False when it already was so."""
    if facility.is_active == active:
        return False
    facility.is_active = active
    session.flush()
    audit(session, actor(user), "facility.reactivated" if active else "facility.deactivated",
          f"facility:{facility.id}", division_id=facility.division_id, code=facility.code)
    return True


# --- the facility's staff --------------------------------------------------------------

def facility_staff(session: Session, facility_id: int) -> list[StaffUser]:
    return list(session.scalars(select(StaffUser).where(StaffUser.facility_id == facility_id)
                                .order_by(StaffUser.role, StaffUser.email)))


def assignable_staff(session: Session, facility: Facility, area: list[int] | None,
                     roles=FACILITY_ROLES) -> list[StaffUser]:
    """Active facility staff of the area (or unplaced ones) not at this facility yet."""
    query = select(StaffUser).where(StaffUser.role.in_([r.value for r in roles]),
                                    StaffUser.is_active.is_(True),
                                    (StaffUser.facility_id.is_(None))
                                    | (StaffUser.facility_id != facility.id))
    if area is not None:
        query = query.where(StaffUser.division_id.in_(area))
    return list(session.scalars(query.order_by(StaffUser.email)))


def assign(session: Session, user: StaffUser, area: list[int] | None, facility: Facility,
           staff_id: int, roles=FACILITY_ROLES) -> StaffUser:
    """Make a vaccinator or facility manager of the area work at ``facility``."""
    member = session.get(StaffUser, staff_id) if isinstance(staff_id, int) else None
    if member is None or member.role not in {r.value for r in roles} or not member.is_active:
        raise FacilityError(MSG_NOT_STAFF, "staff")
    if not in_area(area, member.division_id):
        raise OutsideArea(MSG_NOT_STAFF, "staff")
    previous = member.facility_id
    member.facility_id, member.division_id = facility.id, facility.division_id
    session.flush()
    audit(session, actor(user), "staff.assigned", f"staff_user:{member.id}",
          division_id=facility.division_id, facility=facility.code, role=member.role,
          previous_facility_id=previous)
    return member


def unassign(session: Session, user: StaffUser, facility: Facility, staff_id: int,
             roles=FACILITY_ROLES) -> StaffUser:
    """Take a member of the facility's staff off it (they keep their area)."""
    member = session.get(StaffUser, staff_id) if isinstance(staff_id, int) else None
    if member is None or member.facility_id != facility.id:
        raise FacilityError(MSG_NOT_STAFF, "staff")
    if member.role not in {r.value for r in roles}:
        raise OutsideArea(MSG_NOT_STAFF, "staff")
    member.facility_id = None
    session.flush()
    audit(session, actor(user), "staff.unassigned", f"staff_user:{member.id}",
          division_id=facility.division_id, facility=facility.code, role=member.role)
    return member


# A facility manager assigns vaccinators only; administrators both roles.
VACCINATORS_ONLY = (Role.VACCINATOR,)
