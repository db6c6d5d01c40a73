"""The citizen portal: its blueprint and what all its pages share. The rules are the
services' (accounts.otp, registration, scheduling.booking/search/slots); these views only
read forms, call them and render.

The web login is the API's: a confirmed OTP issues the same kind of token, kept in the
signed session cookie, so expiry and logout (revocation) work the same way for both."""
from __future__ import annotations

import datetime as dt
import re
from functools import wraps

from flask import Blueprint, flash, g, redirect, request, session, url_for
from flask_babel import get_locale, gettext
from flask_wtf.csrf import generate_csrf

from cowin_kit.accounts import otp
from cowin_kit.portal import forms
from cowin_kit.runtime import db_session, deployment

bp = Blueprint("portal", __name__, url_prefix="/portal", template_folder="templates")

TOKEN_KEY = "citizen_token"
SEARCH_DAYS = 7


# --- helpers -------------------------------------------------------------------------------

def now() -> dt.datetime:
    return deployment().now()


def lang() -> str:
    return str(get_locale() or deployment().default_language)


def csrf_failed(form) -> bool:
    """A POST whose CSRF token is missing or stale: say so in our words, change nothing."""
    if form.is_submitted() and getattr(form, "csrf_token", None) is not None:
        form.csrf_token.validate(form)  # fills .errors without running the other fields
        if form.csrf_token.errors:
            flash(str(forms.MSG_CSRF), "error")
            return True
    return False


def field_attrs(field, hint="", direction="") -> dict:
    """HTML attributes that tie a field to its hint and error for screen readers (WTForms
    would write an attribute given None as "None", so only those that apply are set)."""
    attrs, described = {}, []
    if hint:
        described.append(f"{field.id}-hint")
    if field.errors:
        described.append(f"{field.id}-error")
        attrs["aria-invalid"] = "true"
    if described:
        attrs["aria-describedby"] = " ".join(described)
    if direction:
        attrs["dir"] = direction
    return attrs


@bp.app_context_processor
def _template_helpers():
    return {"csrf_token": generate_csrf, "field_attrs": field_attrs}


@bp.before_request
def _load_account():
    g.account = None
    token = session.get(TOKEN_KEY)
    if token:
        try:
            g.account = otp.authenticate(db_session(), token)
        except otp.LoginError:
            session.pop(TOKEN_KEY, None)
            flash(gettext("Your login has ended; please log in again."), "info")
            return
        if request.method == "POST" and g.account.language != lang():
            # SMS follow the language the person reads in; kept when they next act (a
            # POST), never on a GET, which a link from another site could trigger.
            g.account.language = lang()


@bp.after_request
def _no_store(response):
    """Pages of a logged-in person are never kept by shared caches or the back button."""
    if g.get("account") is not None:
        response.headers["Cache-Control"] = "private, no-store"
    return response


def login_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if g.account is None:
            return redirect(url_for("portal.login", next=request.full_path
                                    if request.method == "GET" else None))
        return view(*args, **kwargs)
    return wrapper


_PORTAL_PATH = re.compile(r"/portal/[\x21-\x5b\x5d-\x7e]*")  # printable ASCII, no "\\"


def safe_next(target: str | None, default: str) -> str:
    """Only a path inside the portal: never an open redirect to another site, and nothing
    (spaces, control characters) that could not go into a Location header."""
    if target and _PORTAL_PATH.fullmatch(target) and not target.startswith("//"):
        return target
    return default


# The routes, by what they are for; imported last, as they use what is above.
from cowin_kit.portal import (  # noqa: E402,F401,E501
    aefi_views,
    appointment_views,
    certificate_views,
    login_views,
    member_views,
    search_views,
)

