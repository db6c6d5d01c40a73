"""Metrics for monitoring: a Prometheus ``/metrics`` endpoint beside ``/healthz``.

What is counted, and where:

- every HTTP request, by method, route (the URL rule, never the path: e.g.
  ``/api/v2/admin/location/districts/<id:state_id>``) and status class, with its latency:
  a WSGI middleware around the whole app (so the public searches FastAnswers serves before
  Flask count too);
- business events (places taken and given back: bookings, walk-ins, reschedules,
  cancellations, sessions cancelled; OTPs sent; doses recorded, by how the person came): the
  service that causes one calls :func:`note`, which only adds to the database session's
  ``info``; the counter moves when that transaction commits (a rollback forgets it), so a
  refused or failed booking counts nothing and the hot path pays no SQL;
- what ``cowin-kit worker`` does (messages sent, retried and failed by channel and kind, the
  gateway's latency, its background tasks' runs): :func:`worker_message` and
  :func:`worker_task`, served by the worker's own port (cowin_kit.metrics.background);
- the outbox's depth, the report rollups' backlog and replicas' lag: read when scraped, one
  small indexed query each, kept METRICS_CACHE_SECONDS (cowin_kit.metrics.collector).

Under gunicorn with several workers each process counts in its own memory, so a scrape
(answered by one of them) would see only its share: prometheus_client's multiprocess mode
adds them up from files in PROMETHEUS_MULTIPROC_DIR, which gunicorn's master must set before
the workers start and clean when it starts, and whose dead workers' files it must mark:
``gunicorn -c python:cowin_kit.metrics.gunicorn …`` does all three
(cowin_kit.metrics.gunicorn). This module does not import prometheus_client, so services
can import it before the directory is chosen.
"""
from __future__ import annotations

_PENDING = "cowin_kit.metrics"  # key of a session's uncommitted counts in session.info
_enabled = False  # set once an app with metrics has started in this process


def note(session, event: str, label: str = "", amount: int = 1) -> None:
    """Count ``amount`` of a business event when ``session`` commits: ``booking`` (``label``:
    booked, walk_in, rescheduled, cancelled, session_cancelled), ``otp`` (its purpose),
    ``dose`` (the appointment's source: online, assisted, walk_in; none without one),
    ``session_cancelled`` (no label)."""
    if _enabled and amount:
        pending = session.info.setdefault(_PENDING, {})
        pending[event, label] = pending.get((event, label), 0) + amount


def count_now(event: str, label: str = "", amount: int = 1) -> None:
    """Count a business event that has just committed, where no ORM session carried it
    (the booking path served before Flask, cowin_kit.api.fast_booking)."""
    if _enabled and amount:
        from cowin_kit.metrics import instruments

        instruments.count({(event, label): amount})


def worker_message(channel: str, kind: str, outcome: str, seconds: float | None = None) -> None:
    """A message the worker handled: ``outcome`` sent, retried (a try failed; another
    follows) or failed (for good); ``seconds``: the gateway's call."""
    if _enabled:
        from cowin_kit.metrics import background

        background.message(channel, kind, outcome, seconds)


def worker_task(task: str, items: int | None, ok: bool) -> None:
    """A run of one of the worker's background tasks (``items`` it handled, e.g. reminders
    queued), or its failure."""
    if _enabled:
        from cowin_kit.metrics import background

        background.task(task, items, ok)


def export_stream(export: str, outcome: str) -> None:
    """A streamed export whose database failed partway (cowin_kit.streamed): ``outcome``
    restarted (on the primary, nothing sent yet), resumed (on the primary, after the last
    row sent) or aborted (the transfer broken off, the reader's file incomplete)."""
    if _enabled:
        from cowin_kit.metrics import instruments

        instruments.EXPORT_STREAMS.labels(export, outcome).inc()


def init_app(app, dep) -> None:
    """Count the app's requests and serve /metrics (METRICS_ENABLED), as app.py asks."""
    if not dep.settings["METRICS_ENABLED"]:
        return
    global _enabled
    from cowin_kit.metrics import instruments, views

    instruments.listen_for_commits()
    _enabled = True
    views.init_app(app, dep)
