"""Co-WIN-style JSON errors: ``{"errorCode": "…", "error": "…"}`` in the caller's language."""
from __future__ import annotations

from flask import jsonify
from flask_babel import gettext
from werkzeug.exceptions import HTTPException

from cowin_kit.api import cowin_codes
from cowin_kit.errors import UserError
from cowin_kit.plugins.interfaces import N_
from cowin_kit.web.limits import MSG_TOO_MANY

CODES = {400: "BAD_REQUEST", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND",
         405: "METHOD_NOT_ALLOWED", 409: "CONFLICT", 413: "PAYLOAD_TOO_LARGE",
         429: "TOO_MANY_REQUESTS",
         500: "SERVER_ERROR", 503: "UNAVAILABLE"}

MESSAGES = {
    400: N_("The request is not valid."),
    401: N_("Log in first: send a valid token in the Authorization header."),
    403: N_("You may not do this."),
    404: N_("Not found."),
    405: N_("This method is not allowed here."),
    409: N_("This conflicts with the current state."),
    413: N_("The request body is too large."),
    429: MSG_TOO_MANY,  # the rate limits' own words (one msgid for pages, API and OTPs)
    500: N_("Something went wrong; nothing was changed."),
    503: N_("The service is temporarily unavailable; try again in a few minutes."),
}


class ApiError(UserError):
    """An input the API itself refuses (its shape, not a domain's rule): a message id (None:
    the status's general message), the field, params; the HTTP ``status``, the
    ``errorCode`` (None: the status's) and extra ``headers`` are given per instance."""

    def __init__(self, msgid: str | None = None, field: str | None = None, /, *,
                 status: int = 400, code: str | None = None, headers: dict | None = None,
                 **params):
        self.status, self.code, self.headers = status, code, headers or {}
        super().__init__(msgid or MESSAGES.get(status, MESSAGES[400]), field, **params)


def code_and_status(exc: UserError) -> tuple[str, int]:
    """The ``errorCode`` and HTTP status ``exc`` is answered with: a code an ApiError was
    given by its view; else Co-WIN's, from the table (cowin_kit.api.cowin_codes), with
    Co-WIN's status where it differed; else the error's own code, else its status's."""
    if isinstance(exc, ApiError) and exc.code:
        return exc.code, exc.status
    cowin = cowin_codes.lookup(exc)
    if cowin is not None:
        return cowin.code, cowin.status or exc.status
    return exc.code or CODES.get(exc.status, "ERROR"), exc.status


def answer(exc: UserError):
    """The one mapping of a user error to the Co-WIN JSON answer, in the request's language:
    ``{"errorCode": …, "error": …}`` with the status of code_and_status, and Retry-After
    when waiting is the fix. The text is the error's own message, translated."""
    code, status = code_and_status(exc)
    response = jsonify({"errorCode": code, "error": exc.text(gettext)})
    response.status_code = status
    for name, value in getattr(exc, "headers", {}).items():
        response.headers[name] = value
    if exc.retry_after:
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def error_response(status: int, message: str | None = None, code: str | None = None,
                   headers=None, **params):
    """An answer for an error that is not a UserError (an HTTP error, a database failure)."""
    return answer(ApiError(message, status=status, code=code, headers=headers, **params))


def register(bp) -> None:
    # Every user error raised under the API (a domain's refusal or the API's own) answers
    # the same way; HTTP errors keep their headers (a 405's Allow) under our body.
    bp.register_error_handler(UserError, answer)

    @bp.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        return error_response(exc.code or 500, headers=exception_headers(exc))


def exception_headers(exc: HTTPException) -> dict:
    """The headers an HTTP error carries besides its body's type (a 405's Allow, which
    RFC 9110 requires; a 503's Retry-After), kept when the body is replaced by ours."""
    return {name: value for name, value in exc.get_headers() if name.lower() != "content-type"}
