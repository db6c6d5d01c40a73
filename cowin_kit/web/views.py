"""Routes only: the public home page and /healthz."""
from __future__ import annotations

from babel.numbers import get_currency_name
from flask import Blueprint, jsonify, render_template
from flask_babel import get_locale, gettext, lazy_gettext as _l
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from cowin_kit.runtime import deployment, read_session
from cowin_kit.web import service

bp = Blueprint("web", __name__)


@bp.app_template_global("mobile_sms_hint")
def mobile_sms_hint() -> str:
    """The hint forms show beside a mobile number where a landline cannot be told from a
    mobile (accounts.otp.mobile_type_uncertain), translated; else empty."""
    from cowin_kit.accounts import otp

    if not otp.mobile_type_uncertain(deployment().profile["phone_region"]):
        return ""
    return gettext(otp.MSG_SMS_MOBILE_HINT)


@bp.get("/")
def home():
    dep = deployment()
    lang = str(get_locale())
    overview = dep.figures_cache.get(
        ("home", lang), dep.settings["REPORTS_CACHE_SECONDS"],
        lambda: service.deployment_overview(read_session(), dep.profile, lang, dep.languages))
    currency_name = get_currency_name(overview.currency, locale=lang)
    return render_template("home.html", o=overview, currency_name=currency_name)


@bp.get("/healthz")
def healthz():
    """For load balancers and monitoring: 200 when the database answers, else 503."""
    try:
        deployment().db.ping()
    except SQLAlchemyError as exc:
        return jsonify({"status": "error", "database": "unreachable",
                        "error": type(exc).__name__}), 503
    return jsonify({"status": "ok", "database": "ok",
                    "country": deployment().profile.code})


_ERRORS = {
    400: (_l("Bad request"),
          _l("The request could not be understood. Check the address and try again.")),
    404: (_l("Page not found"),
          _l("There is no page at this address. It may have moved; start again from the "
             "home page.")),
    405: (_l("Not allowed"), _l("This page cannot be used that way.")),
    409: (_l("Changed meanwhile"),
          _l("Someone changed this at the same moment. Go back, reload the page and try "
             "again.")),
    413: (_l("Too large"),
          _l("What was sent is larger than this service accepts. Send a smaller file or less "
             "text.")),
    429: (_l("Too many attempts"),
          _l("There were too many attempts from your connection. Wait a minute and try "
             "again.")),
    500: (_l("Something went wrong"),
          _l("The service had a problem and nothing was changed. Please try again in a few "
             "minutes.")),
    503: (_l("Service temporarily unavailable"),
          _l("The service cannot reach its data right now. Nothing was changed; please try "
             "again in a few minutes.")),
}


@bp.app_errorhandler(SQLAlchemyError)
def database_error(error: SQLAlchemyError):
    """A database error as its status (cowin_kit.db.error_status): when the database is
    down, overloaded or a statement or lock timeout ran out, 503 with Retry-After instead
    of a bare 500; a value it refused is the request's fault (400), never an outage."""
    import logging

    from flask import request

    from cowin_kit.db import error_status

    status = error_status(error)
    logging.getLogger("cowin_kit").error("database error (answered %s): %s", status,
                                         type(getattr(error, "orig", None) or error).__name__)
    headers = {"Retry-After": "30"} if status == 503 else {}
    if request.path.startswith("/api/"):
        from cowin_kit.api.errors import MESSAGES, error_response

        return error_response(status, MESSAGES[status], headers=headers)
    title, text = _ERRORS.get(status, _ERRORS[400])
    return render_template("error.html", code=status, title=title, text=text), status, headers


@bp.app_errorhandler(HTTPException)
def http_error(error: HTTPException):
    """Every HTTP error as a page in the reader's language (the API answers in JSON)."""
    from flask import request

    from cowin_kit.api.errors import MESSAGES, error_response, exception_headers

    headers = exception_headers(error)  # e.g. a 405's Allow
    if request.path.startswith("/api/"):  # e.g. an unknown API path: JSON, not a page
        return error_response(error.code or 500, MESSAGES.get(error.code or 500, MESSAGES[400]),
                              headers=headers)
    title, text = _ERRORS.get(error.code or 500, _ERRORS[500] if (error.code or 500) >= 500
                              else _ERRORS[400])
    return render_template("error.html", code=error.code, title=title, text=text), \
        error.code, headers
