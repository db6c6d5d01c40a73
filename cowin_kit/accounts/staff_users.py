"""Managing staff users, without Flask: create, disable and enable, re-scope, reset a
password; the staff pages and the `cowin-kit users` commands both call these.

Who may do it (cowin_kit.accounts.roles): an administrator manages users of a lower rank
only, and only inside its own area; the operator at the command line (``by`` a string, e.g.
``cli:root``) manages everyone. Where a role acts (``check_scope``):

- national_admin: the whole country (no division);
- state_admin: one level-1 division (a state, a región);
- district_admin: one division below level 1 (a district, a province...);
- facility_manager, vaccinator: one facility; their division is the facility's;
- call_centre, service_centre, verifier: a division, or the whole country when a national
  administrator (or the operator) sets it up.

A refusal outside one's rank or area is ``StaffUserForbidden`` (403); a wrong value is
``StaffUserError`` (400) naming the field. Every change is audited in the user's division,
with no e-mail and no password in its details.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from cowin_kit.accounts.models import ROLES, StaffLogin, StaffUser
from cowin_kit.accounts.roles import (
    COUNTRY_WIDE_ROLES,
    FACILITY_ROLES,
    Can,
    Role,
    can,
    rank,
)
from cowin_kit.accounts.service import (
    AccountError,
    actor,
    area_division_ids,
    audit,
    check_email,
    generate_one_time_password,
    in_area,
)
from cowin_kit.accounts.staff_login import end_logins
from cowin_kit.geography.models import Division
from cowin_kit.plugins.interfaces import N_
from cowin_kit.scheduling.models import Facility

MSG_BAD_EMAIL = N_("Enter an e-mail address, like name@example.org.")
MSG_EMAIL_TAKEN = N_("A staff user with this e-mail address already exists.")
MSG_BAD_ROLE = N_("Choose one of the roles offered.")
MSG_RANK = N_("You can manage only users whose role is below your own.")
MSG_AREA = N_("This is outside your area.")
MSG_NO_DIVISION = N_("There is no division with the code %(code)s.")
MSG_NO_FACILITY = N_("There is no centre with the code %(code)s.")
MSG_FACILITY_INACTIVE = N_("The centre %(code)s is closed; choose an open one.")
MSG_NEEDS_FACILITY = N_("A facility manager or a vaccinator works at one centre: enter its "
                        "code.")
MSG_NO_FACILITY_FOR_ROLE = N_("Only a facility manager or a vaccinator has a centre; leave "
                              "it empty for this role.")
MSG_NEEDS_DIVISION = N_("Enter the code of the area this user works in.")
MSG_STATE_LEVEL = N_("A state administrator's area is a top-level division (level 1).")
MSG_DISTRICT_LEVEL = N_("A district administrator's area is a division below the top level.")
MSG_NATIONAL_NO_DIVISION = N_("A national administrator has the whole country; leave the "
                              "area empty.")
MSG_LAST_NATIONAL = N_("This is the last active national administrator; create another one "
                       "first.")
MSG_SELF = N_("You cannot change your own account here.")


class StaffUserError(AccountError):
    """A wrong value for a staff user (400), naming the field to fix."""


class StaffUserForbidden(AccountError):
    """Outside the rank or the area of whoever acts (403)."""

    status = 403


Manager = StaffUser | str  # a staff user on the web, or the operator's name at the CLI


@dataclass
class Scope:
    role: str
    division_id: int | None
    facility_id: int | None


# --- who may manage whom ------------------------------------------------------------------

def manageable_roles(by: Manager) -> list[str]:
    """The roles ``by`` may give: below its own rank (every role for the operator)."""
    if isinstance(by, str):
        return list(ROLES)
    if not can(by, Can.MANAGE_USERS):
        return []
    return [r for r in ROLES if rank(r) < rank(by.role)]


def check_manages(session: Session, by: Manager, target: StaffUser) -> None:
    """Refuse (403) when ``by`` may not manage ``target``: a rank not below its own, or
    a user outside its area."""
    if isinstance(by, str):
        return
    if by.id == target.id:
        raise StaffUserForbidden(MSG_SELF)
    if not can(by, Can.MANAGE_USERS) or rank(target.role) >= rank(by.role):
        raise StaffUserForbidden(MSG_RANK, "role")
    if not in_area(area_division_ids(session, by), target.division_id):
        raise StaffUserForbidden(MSG_AREA)


def _division(session: Session, code: str | None) -> Division | None:
    code = (code or "").strip()
    if not code:
        return None
    division = session.scalar(select(Division).where(Division.code == code))
    if division is None:
        raise StaffUserError(MSG_NO_DIVISION, "division", code=code)
    return division


def _facility(session: Session, code: str | None) -> Facility | None:
    code = (code or "").strip()
    if not code:
        return None
    facility = session.scalar(select(Facility).where(Facility.code == code))
    if facility is None:
        raise StaffUserError(MSG_NO_FACILITY, "facility", code=code)
    return facility


def check_scope(session: Session, by: Manager, role: str, division_code: str | None = None,
                facility_code: str | None = None) -> Scope:
    """Where a user of ``role`` would act, from the codes typed, or a refusal: 400 for a
    wrong value, 403 for a role or an area ``by`` may not give."""
    if role not in ROLES:
        raise StaffUserError(MSG_BAD_ROLE, "role")
    if role not in manageable_roles(by):
        raise StaffUserForbidden(MSG_RANK, "role")
    area = None if isinstance(by, str) else area_division_ids(session, by)
    if role in FACILITY_ROLES:
        if (division_code or "").strip():
            raise StaffUserError(MSG_NEEDS_FACILITY, "division")
        facility = _facility(session, facility_code)
        if facility is None:
            raise StaffUserError(MSG_NEEDS_FACILITY, "facility")
        if not in_area(area, facility.division_id):
            raise StaffUserForbidden(MSG_AREA, "facility")
        if not facility.is_active:
            raise StaffUserError(MSG_FACILITY_INACTIVE, "facility", code=facility.code)
        return Scope(role, facility.division_id, facility.id)
    if (facility_code or "").strip():
        raise StaffUserError(MSG_NO_FACILITY_FOR_ROLE, "facility")
    division = _division(session, division_code)
    if role == Role.NATIONAL_ADMIN:
        if division is not None:
            raise StaffUserError(MSG_NATIONAL_NO_DIVISION, "division")
        return Scope(role, None, None)
    if division is None:
        # The whole country: only for the country-wide roles, given by someone who has it.
        if role not in COUNTRY_WIDE_ROLES or area is not None:
            raise StaffUserError(MSG_NEEDS_DIVISION, "division")
        return Scope(role, None, None)
    if not in_area(area, division.id):
        raise StaffUserForbidden(MSG_AREA, "division")
    if role == Role.STATE_ADMIN and division.level != 1:
        raise StaffUserError(MSG_STATE_LEVEL, "division")
    if role == Role.DISTRICT_ADMIN and division.level < 2:
        raise StaffUserError(MSG_DISTRICT_LEVEL, "division")
    return Scope(role, division.id, None)


def _who(by: Manager) -> str:
    return by if isinstance(by, str) else actor(by)


def _target(user: StaffUser) -> str:
    return f"staff_user:{user.id}"


# --- the changes ----------------------------------------------------------------------------

def find_user(session: Session, email: str) -> StaffUser | None:
    address = (email or "").strip().lower()
    if not address.isprintable():
        return None
    return session.scalar(select(StaffUser).where(func.lower(StaffUser.email) == address))


def create_user(session: Session, by: Manager, email: str, role: str,
                division_code: str | None = None,
                facility_code: str | None = None) -> tuple[StaffUser, str]:
    """A new user who must change the one-time password at first login: (it, the
    password, to show once). The caller commits."""
    try:
        address = check_email(email or "")
    except AccountError:
        raise StaffUserError(MSG_BAD_EMAIL, "email") from None
    if len(address) > 254:
        raise StaffUserError(MSG_BAD_EMAIL, "email")
    scope = check_scope(session, by, role, division_code, facility_code)
    if find_user(session, address) is not None:
        raise StaffUserError(MSG_EMAIL_TAKEN, "email")
    password = generate_one_time_password()
    user = StaffUser(email=address, password_hash=generate_password_hash(password),
                     role=scope.role, division_id=scope.division_id,
                     facility_id=scope.facility_id, must_change_password=True)
    session.add(user)
    session.flush()
    audit(session, _who(by), "staff.created", _target(user), division_id=scope.division_id,
          role=scope.role, facility_id=scope.facility_id)
    return user, password


def _check_not_last_national(session: Session, user: StaffUser) -> None:
    if user.role != Role.NATIONAL_ADMIN or not user.is_active:
        return
    others = session.scalar(select(func.count()).select_from(StaffUser).where(
        StaffUser.role == Role.NATIONAL_ADMIN.value, StaffUser.is_active,
        StaffUser.id != user.id)) or 0
    if not others:
        raise StaffUserError(MSG_LAST_NATIONAL, "role")


def set_active(session: Session, by: Manager, user: StaffUser, active: bool) -> int:
    """Disable (ending every login of the user at once) or enable; how many logins ended."""
    check_manages(session, by, user)
    if user.is_active == active:
        return 0
    if not active:
        _check_not_last_national(session, user)
    user.is_active = active
    ended = 0 if active else end_logins(session, user.id)
    audit(session, _who(by), "staff.enabled" if active else "staff.disabled", _target(user),
          division_id=user.division_id, **({} if active else {"logins_ended": ended}))
    return ended


def rescope(session: Session, by: Manager, user: StaffUser, role: str,
            division_code: str | None = None, facility_code: str | None = None) -> bool:
    """Give the user another role, area or centre (within ``by``'s own); whether anything
    changed. The user's logins end, so that pages opened under the old scope close."""
    check_manages(session, by, user)
    scope = check_scope(session, by, role, division_code, facility_code)
    before = Scope(user.role, user.division_id, user.facility_id)
    if before == scope:
        return False
    if scope.role != Role.NATIONAL_ADMIN:
        _check_not_last_national(session, user)
    user.role, user.division_id, user.facility_id = (scope.role, scope.division_id,
                                                     scope.facility_id)
    ended = end_logins(session, user.id)
    details = {"role": scope.role, "facility_id": scope.facility_id, "logins_ended": ended,
               "from_role": before.role, "from_division_id": before.division_id,
               "from_facility_id": before.facility_id}
    audit(session, _who(by), "staff.rescoped", _target(user), division_id=scope.division_id,
          **details)
    if before.division_id != scope.division_id:  # the old area's administrators see it go
        audit(session, _who(by), "staff.rescoped", _target(user),
              division_id=before.division_id, **details)
    return True


def reset_password(session: Session, by: Manager, user: StaffUser) -> str:
    """A new one-time password (returned, to show once), to be changed at the next login;
    the user's logins end and any lock-out is lifted (the administrator vouches)."""
    check_manages(session, by, user)
    password = generate_one_time_password()
    user.password_hash = generate_password_hash(password)
    user.must_change_password = True
    user.failed_logins, user.locked_until = 0, None
    ended = end_logins(session, user.id)
    audit(session, _who(by), "staff.password_reset", _target(user),
          division_id=user.division_id, logins_ended=ended)
    return password


# --- lists ------------------------------------------------------------------------------------

@dataclass
class UserRow:
    user: StaffUser
    division: Division | None
    facility: Facility | None
    last_login: datetime | None


def _user_query(area: list[int] | None, *, q: str = "", role: str = "",
                division_ids: list[int] | None = None):
    query = select(StaffUser)
    if area is not None:
        query = query.where(StaffUser.division_id.in_(area))
    if division_ids is not None:
        query = query.where(StaffUser.division_id.in_(division_ids))
    if role:
        query = query.where(StaffUser.role == role)
    q = (q or "").strip().lower()
    if q:
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(func.lower(StaffUser.email).like(f"%{escaped}%", escape="\\"))
    return query


def count_users(session: Session, area: list[int] | None, **filters) -> int:
    sub = _user_query(area, **filters).subquery()
    return session.scalar(select(func.count()).select_from(sub)) or 0


def list_users(session: Session, area: list[int] | None, *, offset: int = 0,
               limit: int | None = 20, **filters) -> list[UserRow]:
    """Users of the area (all for None), by e-mail, with where they act and their last
    login (the newest completed login, from staff_login)."""
    query = _user_query(area, **filters).order_by(StaffUser.email).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return _rows(session, list(session.scalars(query)))


def _rows(session: Session, users: list[StaffUser]) -> list[UserRow]:
    ids = [u.id for u in users]
    last = dict(session.execute(
        select(StaffLogin.user_id, func.max(StaffLogin.created_at))
        .where(StaffLogin.user_id.in_(ids), or_(StaffLogin.needs_totp.is_(False),
                                                StaffLogin.needs_totp.is_(None)))
        .group_by(StaffLogin.user_id)).all()) if ids else {}
    divisions = {d.id: d for d in session.scalars(select(Division).where(
        Division.id.in_({u.division_id for u in users if u.division_id})))}
    facilities = {f.id: f for f in session.scalars(select(Facility).where(
        Facility.id.in_({u.facility_id for u in users if u.facility_id})))}
    return [UserRow(u, divisions.get(u.division_id), facilities.get(u.facility_id),
                    last.get(u.id)) for u in users]


def user_row(session: Session, user: StaffUser) -> UserRow:
    return _rows(session, [user])[0]


def user_in_area(session: Session, area: list[int] | None, user_id: int) -> StaffUser | None:
    """The user if in the area (a user elsewhere is as good as unknown)."""
    user = session.get(StaffUser, user_id)
    if user is None or not in_area(area, user.division_id):
        return None
    return user
