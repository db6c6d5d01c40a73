"""The counters and histograms a process adds to (imports prometheus_client: in a gunicorn
worker, PROMETHEUS_MULTIPROC_DIR is already set by then; see cowin_kit.metrics)."""
from __future__ import annotations

import threading
import time

from prometheus_client import Counter, Histogram
from sqlalchemy import event
from sqlalchemy.orm import Session

from cowin_kit.metrics import _PENDING

# Up to half a minute (gunicorn's --timeout): the fast public answers take about a
# millisecond, a booking tens, a big export seconds.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                   10.0, 30.0)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "(unmatched)"  # no route: a 404, a 405, a bad request

REQUESTS = Counter("cowin_kit_http_requests", "HTTP requests answered, by method, route "
                   "(URL rule) and status class (2xx, 3xx, 4xx, 5xx).",
                   ["method", "route", "status"])
LATENCY = Histogram("cowin_kit_http_request_duration_seconds",
                    "Time from receiving a request to its response, by route (URL rule).",
                    ["route"], buckets=LATENCY_BUCKETS)
BOOKINGS = Counter("cowin_kit_bookings", "Places taken and given back (committed), by action: "
                   "booked, walk_in, rescheduled, cancelled, session_cancelled.", ["action"])
SESSIONS_CANCELLED = Counter("cowin_kit_sessions_cancelled", "Vaccination sessions cancelled "
                             "by officials (committed).")
OTPS = Counter("cowin_kit_otps_sent", "Login and consent OTPs sent to the SMS gateway "
               "(committed), by purpose.", ["purpose"])
DOSES = Counter("cowin_kit_doses_recorded", "Doses recorded (committed; a retried "
                "recording counts once), by the appointment's source: online, assisted, "
                "walk_in; none for a dose recorded without one.", ["source"])
EXPORT_STREAMS = Counter("cowin_kit_export_streams_interrupted", "Streamed exports whose "
                         "read database failed partway, by export and outcome: restarted or "
                         "resumed on the primary, or aborted (the reader's transfer broken "
                         "off).", ["export", "outcome"])

_BY_EVENT = {"booking": BOOKINGS, "otp": OTPS, "dose": DOSES}
_UNLABELLED = {"session_cancelled": SESSIONS_CANCELLED}


def _commit(session) -> None:
    count(session.info.pop(_PENDING, None) or {})


def count(pending: dict) -> None:
    """Add {(event, label): amount} to the counters."""
    for (name, label), amount in pending.items():
        if name in _UNLABELLED:
            _UNLABELLED[name].inc(amount)
        else:
            _BY_EVENT[name].labels(label).inc(amount)


def _end(session, transaction) -> None:
    if transaction.parent is None:  # the outer transaction: rolled back or closed
        session.info.pop(_PENDING, None)


_listening = threading.Lock()
_listeners: list = []


def listen_for_commits() -> None:
    """Count what sessions noted when they commit (once per process, every Session)."""
    with _listening:
        if not _listeners:
            event.listen(Session, "after_commit", _commit)
            event.listen(Session, "after_transaction_end", _end)
            _listeners.append(True)


class RequestMetrics:
    """WSGI middleware: count each request and time it, labelled by the route that the app
    noted in the environ (ROUTE_KEY) or, for an answer FastAnswers gave before Flask, its
    path (one of a few fixed ones)."""

    ROUTE_KEY = "cowin_kit.metrics.route"

    def __init__(self, wsgi_app, fixed_paths=frozenset()):
        self.wsgi_app, self.fixed_paths = wsgi_app, frozenset(fixed_paths)

    def _route(self, environ) -> str:
        route = environ.get(self.ROUTE_KEY)
        if route is None:
            path = environ.get("PATH_INFO")
            route = path if path in self.fixed_paths else UNMATCHED
        return route

    def __call__(self, environ, start_response):
        start = time.perf_counter()
        status = ["500"]

        def observed(status_line, headers, exc_info=None):
            status[0] = status_line
            return start_response(status_line, headers, exc_info)

        try:
            return self.wsgi_app(environ, observed)
        finally:
            route = self._route(environ)
            method = environ.get("REQUEST_METHOD", "")
            REQUESTS.labels(method if method in METHODS else "other", route,
                            status[0][:1] + "xx").inc()
            LATENCY.labels(route).observe(time.perf_counter() - start)
