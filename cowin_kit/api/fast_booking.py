"""appointment/schedule served before Flask: the lean booking path of issue 15.

On an opening day nearly every booking is the same request: a logged-in caller, a plain
JSON body, a session this process read a moment ago, people with nothing to close first.
For that request Flask's machinery (request context, routing, hooks, the ORM's session)
cost more CPU than the booking's own work, so this WSGI middleware books it on a pooled
DBAPI connection of PostgreSQL with :func:`cowin_kit.scheduling.booking.schedule_on_driver`:
the same rules and the same write as the view, in four round trips (BEGIN, the caller with
their people locked, the write, COMMIT).

It only ever answers a success. Anything else goes through Flask as if this middleware
were not there, with the body it read put back:

- a refusal, which Flask words in the caller's language with Co-WIN's error codes;
- a login that fails;
- a body the fast reader does not take (schemas.schedule_fast);
- an unknown session, or a missed appointment to close;
- a database error: nothing was committed, and Flask answers it (or books, if the error
  has passed).

A COMMIT whose answer was lost is handed over too. The person then has an appointment,
and Flask answers that they have one; nobody is booked twice, because one active
appointment per person is a unique index.

The success answer's status line and headers are the ones Flask sent for the last booking
it answered in this process. They are learned, so the security headers and whatever a
deployment adds stay the same; the body is Flask's JSON of the same dict (the app's JSON
provider). Nothing is served here until Flask has answered one booking, and an answer that
set a cookie, carried rate-limit headers or was compressed is never learned.
"""
from __future__ import annotations

import io
import json
import logging
import threading

from sqlalchemy.orm import Session

from cowin_kit import metrics
from cowin_kit.api.body import _constant
from cowin_kit.api.schemas import schedule_fast
from cowin_kit.errors import UserError
from cowin_kit.metrics.instruments import RequestMetrics
from cowin_kit.request_source import reset_source, set_source
from cowin_kit.runtime import EXTENSION as DEPLOYMENT
from cowin_kit.scheduling import booking

log = logging.getLogger("cowin_kit.api")

PATH = "/appointment/schedule"


class FastBooking:
    """WSGI middleware (see the module's text). ``app``: the Flask app, for its deployment
    and JSON provider; ``prefix``: the API's (``/api/v2``)."""

    EXTENSION = "cowin_kit.fast_booking"  # app.extensions[...]: this middleware

    def __init__(self, wsgi_app, app, prefix: str):
        self.wsgi_app, self.app, self.path = wsgi_app, app, prefix + PATH
        self._sent: tuple[str, list] | None = None  # Flask's last success: status, headers
        self._lock = threading.Lock()
        self.enabled = True  # False: every booking goes through Flask (tests of that path)
        self.served = 0  # bookings answered here
        app.extensions[self.EXTENSION] = self

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != self.path or environ.get("REQUEST_METHOD") != "POST":
            return self.wsgi_app(environ, start_response)
        if not self._eligible(environ):  # decided before reading the body
            return self._flask(environ, start_response)
        body = self._body(environ)
        if body is None:  # chunked, too long, or no body: Flask reads it
            return self._flask(environ, start_response)
        made = self._book(environ, body)
        environ["wsgi.input"] = io.BytesIO(body)  # for Flask, as it came
        if made is None:
            return self._flask(environ, start_response)
        # jsonify's bytes: compact, then a new line (debug mode never comes here)
        answer = self.app.json.dumps({"appointment_confirmation_no": made[0],
                                      "appointment_ids": made},
                                     separators=(",", ":")).encode() + b"\n"
        status_line, headers = self._sent
        # Counted under the view's URL rule, as Flask's teardown notes it (cowin_kit.metrics)
        environ[RequestMetrics.ROUTE_KEY] = self.path
        start_response(status_line, [*headers, ("Content-Length", str(len(answer)))])
        return [answer]

    def _body(self, environ) -> bytes | None:
        try:
            length = int(environ.get("CONTENT_LENGTH") or -1)
        except ValueError:
            return None
        limit = self.app.config.get("MAX_CONTENT_LENGTH") or 0
        if length <= 0 or (limit and length > limit) or "HTTP_TRANSFER_ENCODING" in environ:
            return None
        body = environ["wsgi.input"].read(length)
        if len(body) != length:  # the client stopped short: Flask answers as it would
            environ["wsgi.input"] = io.BytesIO(body)
            return None
        return body

    def _eligible(self, environ) -> bool:
        """Whether this middleware may book the request (its body not read yet). The body
        is read as JSON whatever type it declares, as api.body.json_body does."""
        if not self.enabled or self._sent is None or self.app.debug:
            return False
        dep = self.app.extensions[DEPLOYMENT]
        return (not dep.settings["CAPTCHA_ON_SCHEDULE"]
                and dep.db.engine.dialect.name == "postgresql"
                and "HTTP_COOKIE" not in environ
                and environ.get("HTTP_AUTHORIZATION", "")[:7].lower() == "bearer ")

    def _book(self, environ, body: bytes) -> list[str] | None:
        """The appointments' ids, or None when Flask should answer (nothing written)."""
        dep = self.app.extensions[DEPLOYMENT]
        settings = dep.settings
        try:
            data = json.loads(body, parse_constant=_constant)
        except (ValueError, RecursionError):
            return None
        # A captcha is ignored here, as by the view: the deployment does not ask for one
        # (Co-WIN's clients send one anyway).
        data = schedule_fast(data) if isinstance(data, dict) else None
        if data is None:
            return None
        token = environ["HTTP_AUTHORIZATION"][7:].strip()
        engine = dep.db.engine
        source = set_source(environ.get("REMOTE_ADDR") or "web")  # the audit entries'
        raw = None
        try:
            # The connection is taken from the pool even for a refusal decided before any
            # SQL (a sold-out mark): checking out an idle pooled connection sends nothing.
            raw = engine.raw_connection()
            conn = raw.driver_connection
            now = dep.now()
            made = booking.schedule_on_driver(
                conn, engine, token=token, settings=settings,
                beneficiary_refs=data["beneficiaries"], session_id=data["session_id"],
                slot=data["slot"], dose=data["dose"], today=now.date(), now=now.time(),
                zone_of=_zones(dep, engine))
            raw.commit()
        except (UserError, booking.HandOver):
            _end(raw)
            return None  # a refusal or a case for schedule(): Flask answers it
        except Exception:  # noqa: BLE001 - a database error: Flask answers it (see above)
            log.warning("fast booking handed over after an error", exc_info=True)
            _end(raw)
            return None
        finally:
            reset_source(source)
        raw.close()
        metrics.count_now("booking", "booked", len(made))
        with self._lock:
            self.served += 1
        return made

    def _flask(self, environ, start_response):
        """Flask's answer; a booking's success teaches this middleware its headers."""
        def learn(status_line, headers, exc_info=None):
            if status_line.startswith("200 "):
                names = {name.lower() for name, _value in headers}
                # Never learned: a cookie, rate-limit headers, or an encoded body (the
                # answers given here are plain JSON).
                if "set-cookie" not in names and "content-encoding" not in names and not any(
                        n.startswith("x-ratelimit") or n == "retry-after" for n in names):
                    with self._lock:
                        self._sent = (status_line, [(n, v) for n, v in headers
                                                    if n.lower() != "content-length"])
            return start_response(status_line, headers, exc_info)
        return self.wsgi_app(environ, learn)


def _zones(dep, engine):
    """The view's zone_of (division id -> its centres' zone) for a profile of several time
    zones, None for one zone. The zones are kept per process; a division not seen yet is
    looked up on a connection of its own."""
    if not dep.several_zones:
        return None

    def zone_of(division_id):
        known = dep.zone_cache.get(division_id)
        if known is not None:
            return known
        with Session(bind=engine) as session:
            return dep.zone_of(session, division_id)
    return zone_of


def _end(raw) -> None:
    """Give a connection back after a failure: rolled back, or dropped when broken."""
    if raw is None:
        return
    try:
        raw.rollback()
        raw.close()
    except Exception:  # noqa: BLE001 - a dead connection: the pool replaces it
        raw.invalidate()

