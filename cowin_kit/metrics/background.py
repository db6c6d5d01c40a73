"""What ``cowin-kit worker`` counts, and the small HTTP server that gives it to Prometheus.

The worker is one process apart from the web servers (often on another machine), so it
serves its own counters on its own port (``cowin-kit worker --metrics-port 9466``), as an
exporter does; the web's ``/metrics`` keeps the outbox's depth, read from the database. The
same rule decides who may read them: the bearer METRICS_TOKEN when set, else only this
machine (cowin_kit.metrics.views.refusal_of).
"""
from __future__ import annotations

import threading
import time
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import REGISTRY, Counter, Gauge, Histogram, make_wsgi_app

# A gateway answers in tens of milliseconds; SMS_HTTP_TIMEOUT is at most a minute.
SEND_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

MESSAGES = Counter("cowin_kit_worker_messages", "Outbox messages the worker handled, by "
                   "channel, kind (booking.confirmed, session.cancelled, …) and outcome: "
                   "sent, retried (a try failed, another follows), failed (for good).",
                   ["channel", "kind", "outcome"])
SEND_SECONDS = Histogram("cowin_kit_worker_send_duration_seconds", "Time the gateway took "
                         "to take (or refuse) one message, by channel.", ["channel"],
                         buckets=SEND_BUCKETS)
TASK_RUNS = Counter("cowin_kit_worker_task_runs", "Runs of the worker's background tasks "
                    "(queue_reminders, fold_rollups, build_report_exports), by outcome: ok, "
                    "error.", ["task", "outcome"])
TASK_ITEMS = Counter("cowin_kit_worker_task_items", "What the background tasks handled: "
                     "reminders queued, doses folded into the rollups, export rows written.",
                     ["task"])
TASK_LAST_SUCCESS = Gauge("cowin_kit_worker_task_last_success_timestamp_seconds",
                          "When each background task last ran without an error (Unix time).",
                          ["task"], multiprocess_mode="max")


def message(channel: str, kind: str, outcome: str, seconds: float | None) -> None:
    MESSAGES.labels(channel, kind or "other", outcome).inc()
    if seconds is not None:
        SEND_SECONDS.labels(channel).observe(seconds)


def task(name: str, items: int | None, ok: bool) -> None:
    TASK_RUNS.labels(name, "ok" if ok else "error").inc()
    if ok:
        if isinstance(items, int) and items > 0:
            TASK_ITEMS.labels(name).inc(items)
        TASK_LAST_SUCCESS.labels(name).set(time.time())


class _Quiet(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass  # scrapes every 15 s would fill the worker's log


class _ThreadingServer(WSGIServer):
    daemon_threads = True

    def process_request(self, request, client_address):
        # One scrape must not wait for another (nor a slow client stop the next).
        threading.Thread(target=self._handle, args=(request, client_address),
                         daemon=True).start()

    def _handle(self, request, client_address):
        try:
            self.finish_request(request, client_address)
        except Exception:  # noqa: BLE001 - a broken connection: the client's problem
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)


def guarded(app, token: str):
    """The exposition ``app``, answering only who may read the figures."""
    from cowin_kit.metrics.views import refusal_of

    def guard(environ, start_response):
        refused = refusal_of(token, environ)
        if refused is not None:
            status, reason, headers = refused
            body = (reason + "\n").encode()
            start_response(f"{status} {'Unauthorized' if status == 401 else 'Forbidden'}",
                           [("Content-Type", "text/plain; charset=utf-8"),
                            ("Cache-Control", "no-store"),
                            ("Content-Length", str(len(body))), *headers.items()])
            return [body]
        return app(environ, start_response)
    return guard


def serve(host: str, port: int, token: str = "", registry=REGISTRY):
    """Serve the process's counters at http://host:port/metrics in a daemon thread; returns
    the server (``.server_port``; ``.shutdown()`` to stop)."""
    server = make_server(host, port, guarded(make_wsgi_app(registry), token),
                         _ThreadingServer, handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return server


__all__ = ["MESSAGES", "SEND_SECONDS", "TASK_ITEMS", "TASK_LAST_SUCCESS", "TASK_RUNS",
           "guarded", "message", "serve", "task"]
