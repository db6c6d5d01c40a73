"""Staff roles, what each may do, and where.

A role is scoped either to an area (a division and everything under it; None is the whole
country, for the roles that may have it) or to one facility. Views ask ``can(user, Can.X)``
(cowin_kit.staff.access.requires does it for a page); services check the area or facility of
what is touched. The rule on who may create or re-scope whom is here too, so the staff pages
and the CLI apply the same one.
"""
from __future__ import annotations

from enum import StrEnum

from cowin_kit.plugins.interfaces import N_


class Role(StrEnum):
    NATIONAL_ADMIN = "national_admin"
    STATE_ADMIN = "state_admin"
    DISTRICT_ADMIN = "district_admin"
    FACILITY_MANAGER = "facility_manager"
    VACCINATOR = "vaccinator"
    CALL_CENTRE = "call_centre"
    SERVICE_CENTRE = "service_centre"
    VERIFIER = "verifier"


class Can(StrEnum):
    """Capabilities, each granted to some roles (CAPABILITIES)."""

    MANAGE_CENTRES = "manage_centres"  # facilities, sessions, lots, assignments of the area
    MANAGE_USERS = "manage_users"  # create, disable, re-scope, reset passwords
    VIEW_AUDIT = "view_audit"  # the audit log of the area, and its CSV
    RUN_FACILITY = "run_facility"  # one facility's sessions, lots, vaccinators, no-shows
    VACCINATE = "vaccinate"  # the queue, finding people, recording doses
    SUPERVISE = "supervise"  # override a schedule refusal, with a reason
    REGISTER_WALK_IN = "register_walk_in"  # register a person at the centre
    ASSIST = "assist"  # register and book for a citizen (call/service centre)
    REPORT_AEFI = "report_aefi"  # report an adverse event seen at the centre
    FOLLOW_UP_AEFI = "follow_up_aefi"  # list, follow up and export adverse events
    VERIFY = "verify"  # check certificates
    CERTIFICATES = "certificates"  # find, revoke and correct the area's certificates
    VIEW_REPORTS = "view_reports"  # officials' reports of the area (a manager: the facility's)


ADMIN_ROLES = (Role.NATIONAL_ADMIN, Role.STATE_ADMIN, Role.DISTRICT_ADMIN)
FACILITY_ROLES = (Role.FACILITY_MANAGER, Role.VACCINATOR)
# Roles that may have the whole country as their area (no division): a national helpline,
# a national verifier. Any other area role needs a division.
COUNTRY_WIDE_ROLES = (Role.NATIONAL_ADMIN, Role.CALL_CENTRE, Role.SERVICE_CENTRE,
                      Role.VERIFIER)

_ADMIN = frozenset({Can.MANAGE_CENTRES, Can.MANAGE_USERS, Can.VIEW_AUDIT, Can.RUN_FACILITY,
                    Can.VACCINATE, Can.SUPERVISE, Can.REGISTER_WALK_IN, Can.ASSIST,
                    Can.REPORT_AEFI, Can.FOLLOW_UP_AEFI, Can.CERTIFICATES,
                    Can.VIEW_REPORTS})
CAPABILITIES: dict[Role, frozenset[Can]] = {
    Role.NATIONAL_ADMIN: _ADMIN,
    Role.STATE_ADMIN: _ADMIN,
    Role.DISTRICT_ADMIN: _ADMIN,
    Role.FACILITY_MANAGER: frozenset({Can.RUN_FACILITY, Can.VACCINATE, Can.SUPERVISE,
                                      Can.REGISTER_WALK_IN, Can.REPORT_AEFI,
                                      Can.VIEW_REPORTS}),
    Role.VACCINATOR: frozenset({Can.VACCINATE, Can.REGISTER_WALK_IN, Can.REPORT_AEFI}),
    Role.CALL_CENTRE: frozenset({Can.ASSIST}),
    Role.SERVICE_CENTRE: frozenset({Can.ASSIST, Can.REGISTER_WALK_IN}),
    Role.VERIFIER: frozenset({Can.VERIFY}),
}

# Rank: an administrator manages users of a lower rank only (never its own level or above),
# and only within its own area.
RANK = {Role.NATIONAL_ADMIN: 3, Role.STATE_ADMIN: 2, Role.DISTRICT_ADMIN: 1}

ROLE_NAMES = {
    Role.NATIONAL_ADMIN: N_("National administrator"),
    Role.STATE_ADMIN: N_("State administrator"),
    Role.DISTRICT_ADMIN: N_("District administrator"),
    Role.FACILITY_MANAGER: N_("Facility manager"),
    Role.VACCINATOR: N_("Vaccinator"),
    Role.CALL_CENTRE: N_("Call-centre operator"),
    Role.SERVICE_CENTRE: N_("Service-centre operator"),
    Role.VERIFIER: N_("Certificate verifier"),
}


def can(user, capability: Can) -> bool:
    """Whether the user's role grants the capability (an inactive user can do nothing)."""
    try:
        role = Role(user.role)
    except ValueError:
        return False
    return bool(user.is_active) and capability in CAPABILITIES[role]


def is_facility_role(role: str) -> bool:
    return role in FACILITY_ROLES


def rank(role: str) -> int:
    """3 national, 2 state, 1 district administrator; 0 for every other role."""
    return RANK.get(role, 0)
