"""Co-WIN-style JSON errors: ``{"errorCode": "…", "error": "…"}`` in the caller's language."""
from __future__ import annotations

from flask import jsonify
from flask_babel import gettext
from werkzeug.exceptions import HTTPException

from cowin_kit.plugins.interfaces import N_

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
    429: N_("Too many requests; wait and try again."),
    500: N_("Something went wrong; nothing was changed."),
    503: N_("The service is temporarily unavailable; try again in a few minutes."),
}


class ApiError(Exception):
    """An error answered as JSON. ``message`` is an English msgid (N_) with %(…)s params."""

    def __init__(self, status: int, message: str | None = None, code: str | None = None,
                 headers: dict | None = None, **params):
        self.status = status
        self.message = message or MESSAGES.get(status, MESSAGES[400])
        self.code = code or CODES.get(status, "ERROR")
        self.headers = headers or {}
        self.params = params
        super().__init__(self.message)


def error_response(status: int, message: str, code: str | None = None, headers=None, **params):
    text = gettext(message, **params) if params else gettext(message)
    response = jsonify({"errorCode": code or CODES.get(status, "ERROR"), "error": text})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def register(bp) -> None:
    @bp.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return error_response(exc.status, exc.message, exc.code, exc.headers, **exc.params)

    @bp.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        status = exc.code or 500
        return error_response(status, MESSAGES.get(status, MESSAGES[400]),
                              headers=exception_headers(exc))


def exception_headers(exc: HTTPException) -> dict:
    """The headers an HTTP error carries besides its body's type (a 405's Allow, which
    RFC 9110 requires; a 503's Retry-After), kept when the body is replaced by ours."""
    return {name: value for name, value in exc.get_headers() if name.lower() != "content-type"}
