"""The staff blueprint and what every staff page shares: who is logged in, what their role
may do (cowin_kit.accounts.roles), the pages' navigation, CSRF failures and error pages.

A page says what it needs with ``@requires(Can.X)``; a user whose role lacks it gets 403,
and the refusal is written to the audit log (someone probing pages they may not use is
worth knowing about). Acting outside one's area or facility is checked by the services,
which see what is touched; views turn their refusals into 403 with ``forbidden()``.
"""
from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from flask import Blueprint, abort, current_app, g, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import BadRequest
from werkzeug.routing import BuildError

from cowin_kit.accounts import service as accounts, staff_login as auth
from cowin_kit.accounts.models import StaffUser
from cowin_kit.accounts.roles import Can, can
from cowin_kit.geography.models import Division
from cowin_kit.runtime import db_session, deployment

bp = Blueprint("staff", __name__, url_prefix="/staff", template_folder="templates")

LOGIN_KEY = "staff_login"  # the cookie holds only this login's random token
# Counted together over the password, the two-step code and switching two-step off (a
# two-step login is two tries), per address; the lock-out guards each account whatever the
# address.
LOGIN_PER_IP = "20 per minute;200 per hour"
PER_PAGE = 20


def today() -> dt.date:
    """Today in the deployment's time zone (a centre's day, not the server's)."""
    return deployment().today()


def current_user() -> StaffUser | None:
    """The user of this cookie's live login (checked on the server once per request)."""
    if "staff_checked" not in g:
        db = db_session()
        login = auth.current_login(db, session.get(LOGIN_KEY),
                                   current_app.permanent_session_lifetime)
        if db.dirty:  # last seen noted, or the login of a disabled user ended
            db.commit()
        g.staff_checked = db.get(StaffUser, login.user_id) if login is not None else None
    return g.staff_checked


def totp_missing(user: StaffUser) -> bool:
    """The deployment requires TOTP of administrators and this one has none yet."""
    return (deployment().settings["STAFF_TOTP_REQUIRED"] and not user.totp_enabled
            and user.role in accounts.MANAGER_ROLES)


def forbidden(reason: str = "role"):
    """Refuse with 403 and write the refusal to the audit log (committed on its own, since
    the request's own work is not going ahead)."""
    user = g.get("staff")
    if user is not None:
        db = db_session()
        db.rollback()
        accounts.audit(db, accounts.actor(user), "access.denied", request.path,
                       division_id=user.division_id, reason=reason,
                       endpoint=request.endpoint or "", method=request.method)
        db.commit()
    abort(403)


def requires(*capabilities: Can):
    """Logged in, password changed, TOTP set up where required, and a role granting every
    one of ``capabilities``; sets ``g.staff`` (the user) and ``g.area`` (division ids, or
    None for the whole country)."""
    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            user = current_user()
            if user is None:
                return redirect(url_for("staff.login"))
            if user.must_change_password:
                return redirect(url_for("staff.password"))
            if totp_missing(user):
                return redirect(url_for("staff.totp"))
            g.staff = user
            if not all(can(user, c) for c in capabilities):
                forbidden("role")
            g.area = accounts.area_division_ids(db_session(), user)
            if g.area == []:  # a role set up without its area: nothing to show
                forbidden("no area")
            g.staff_division = user.division_id and db_session().get(Division,
                                                                      user.division_id)
            return view(*args, **kwargs)
        return wrapper
    return decorate


# The centre-management pages (centres, sessions, imports): the administrators'.
staff_page = requires(Can.MANAGE_CENTRES)


class CsrfFailed(BadRequest):
    """A form without its CSRF token, or with an expired one."""


def submitted(form) -> bool:
    """Validate a POSTed form; a missing or stale CSRF token is a 400, not a field error."""
    if not form.is_submitted():
        return False
    valid = form.validate()
    if "csrf_token" in form.errors:
        raise CsrfFailed()
    return valid


# --- navigation --------------------------------------------------------------------------------

@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object  # a lazy string
    capability: Can | None  # None: every staff user
    also: tuple[str, ...] = ()  # other endpoints under this item (aria-current)


# In the order shown. An endpoint not (yet) built is left out, so a page can be added
# without touching this list twice.
NAV = (
    NavItem("staff.vaccinate", _l("Today"), Can.VACCINATE,
            ("staff.vaccinate_person", "staff.vaccinate_find")),
    NavItem("staff.walk_in", _l("Walk-in"), Can.REGISTER_WALK_IN,
            ("staff.walk_in_register", "staff.walk_in_book", "staff.walk_in_done")),
    NavItem("staff.assist", _l("Register for someone"), Can.ASSIST,
            ("staff.assist_code", "staff.assist_family", "staff.assist_register",
             "staff.assist_book")),
    NavItem("staff.my_centre", _l("My centre"), Can.RUN_FACILITY),
    NavItem("staff.centres", _l("Centres"), Can.MANAGE_CENTRES,
            ("staff.centre", "staff.facility_new", "staff.facility_edit")),
    NavItem("staff.import_sessions", _l("Import sessions"), Can.MANAGE_CENTRES),
    NavItem("staff.appointments", _l("Appointments"), Can.MANAGE_CENTRES),
    NavItem("staff.aefi_list", _l("Adverse events"), Can.FOLLOW_UP_AEFI, ("staff.aefi",)),
    NavItem("staff.certificates", _l("Certificates"), Can.CERTIFICATES,
            ("staff.certificate_person", "staff.certificate_revoke",
             "staff.certificate_correct")),
    NavItem("staff.reports", _l("Reports"), Can.VIEW_REPORTS,
            ("staff.report", "staff.report_export")),
    NavItem("staff.users", _l("Users"), Can.MANAGE_USERS, ("staff.user", "staff.user_new")),
    NavItem("staff.audit_log", _l("Audit log"), Can.VIEW_AUDIT),
    NavItem("verify.page", _l("Check certificates"), Can.VERIFY),
    NavItem("staff.password", _l("Password"), None),
    NavItem("staff.totp", _l("Two-step login"), None, ("staff.totp_off",)),
)


def navigation(user: StaffUser | None) -> list[tuple[str, object, bool]]:
    """(url, label, current) for the items the user's role may open."""
    if user is None:
        return []
    items = []
    for item in NAV:
        if item.capability is not None and not can(user, item.capability):
            continue
        if item.endpoint == "staff.my_centre" and can(user, Can.MANAGE_CENTRES):
            continue  # administrators reach every centre from "Centres"
        try:
            url = url_for(item.endpoint)
        except BuildError:
            continue
        current = request.endpoint in (item.endpoint, *item.also)
        items.append((url, item.label, current))
    return items


def certificate_url() -> str:
    """Where the family downloads certificates (the portal), for texts sent to them."""
    public = (deployment().settings.get("PUBLIC_URL") or "").rstrip("/")
    if public:
        return f"{public}/portal/"
    return url_for("portal.family", _external=True)


def home_url(user: StaffUser) -> str:
    """Where a user lands after logging in: the first page of the menu the role opens;
    administrators (who may also vaccinate, at a centre they choose) land on their centres."""
    if can(user, Can.MANAGE_CENTRES):
        return url_for("staff.centres")
    for url, _label, _current in navigation(user):
        return url
    return url_for("staff.password")
