"""`cowin-kit web`: the production web server.

granian (HTTP in Rust, the app in Python threads) serves the WSGI app in --workers
processes of --threads threads each. Measured beside gunicorn's threaded workers on this
kit (benchmarks/opening_day.py, docs/scaling.md), it spends a fraction of the CPU a request
costs gunicorn in Python (parsing, keep-alive, the thread pool), which at a national opening
day is most of what a cached search or a booking costs the app.

What this command does besides starting granian, so that the app behaves as under
gunicorn with ``-c python:cowin_kit.metrics.gunicorn``:

- checks the instance, its database and the address first, and refuses with the reason;
- /metrics adds up every worker: prometheus_client's multiprocess folder
  (PROMETHEUS_MULTIPROC_DIR, emptied at start; a temporary one, removed at the end, when
  not set);
- the rate limits know how many processes serve (WEB_CONCURRENCY = --workers), so a
  per-process store is refused as it is under several gunicorn workers;
- a worker that dies is started again (its counts stay in the folder);
- workers start from a fresh interpreter (spawn), never from a copy of this process.

There is no per-request kill timer (gunicorn's --timeout): the database's statement
timeouts (DB_STATEMENT_TIMEOUT, DB_LOCK_TIMEOUT) are what end a request that waits too long.
"""
from __future__ import annotations

import os

import click

from cowin_kit.cli.common import instance_option, load_instance, operator_gettext

METRICS_VAR = "PROMETHEUS_MULTIPROC_DIR"
# Connections a worker takes on at once (granian's "backpressure"; the rest wait in the
# kernel's queue, BACKLOG). granian's default, backlog / workers (512 a worker for 2), let
# a new connection wait 8-25 s behind a thousand idle keep-alive ones (benchmarks/
# opening_day.py at 1,000 clients: logins, which open a connection each, p50 8 s); with
# room for many, a new connection waits its turn among the requests, as under gunicorn.
BACKPRESSURE = 4096
BACKLOG = 2048
# granian's access log line without the query string (granian's default has none either;
# named here so that a change of its default cannot bring one in): a query may hold what a
# person searched for (a name, a mobile number), which never goes to a log.
ACCESS_LOG_FORMAT = ('[%(time)s] %(addr)s - "%(method)s %(path)s %(protocol)s" '
                     '%(status)d %(dt_ms).3f')


@click.command()
@instance_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (the reverse proxy's side: keep it on loopback).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535),
              help="Port to listen on.")
@click.option("--workers", type=click.IntRange(1, 512), default=None,
              help="Processes (default: one per CPU core).")
@click.option("--threads", type=click.IntRange(1, 64), default=2, show_default=True,
              help="Threads per process that run requests (each holds a database "
                   "connection while it works).")
@click.option("--access-log", is_flag=True,
              help="Log each request: time, client address, method, path, status and "
                   "milliseconds. Never its query string, which may hold what a person "
                   "searched for.")
def web(instance, host, port, workers, threads, access_log):
    """Serve the deployment in production (granian; put nginx or a load balancer in front
    for HTTPS). Run `cowin-kit worker` beside it to send the SMS outbox."""
    import multiprocessing
    import shutil
    import tempfile
    from pathlib import Path

    from granian import Granian
    from granian.constants import Interfaces

    from cowin_kit.cli.common import check_address, open_database, web_app

    settings = load_instance(instance)
    workers = workers or os.cpu_count() or 1
    open_database(settings, web=True).dispose()  # refuses, with the reason, when it does not answer
    check_address(host, port)

    made_here = not os.environ.get(METRICS_VAR)
    folder = Path(os.environ.get(METRICS_VAR) or tempfile.mkdtemp(prefix="cowin-kit-metrics-"))
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.db"):  # old counts never come back
            old.unlink()
        os.environ.update({METRICS_VAR: str(folder), "WEB_CONCURRENCY": str(workers),
                           "COWIN_KIT_INSTANCE": str(settings.instance_path)})
        # Built once here, so that a setting or profile the workers would fail on is
        # refused with its reason before anything listens; then its connections let go.
        web_app(settings).extensions["cowin_kit"].dispose()
        multiprocessing.set_start_method("spawn", force=True)
        gettext = operator_gettext()
        click.echo(gettext("Serving on %(address)s with %(workers)s processes of %(threads)s "
                           "threads (metrics added up in %(folder)s)") % {
            "address": f"http://{host}:{port}/", "workers": workers, "threads": threads,
            "folder": folder})
        Granian("cowin_kit:create_app", factory=True, interface=Interfaces.WSGI,
                address=host, port=port, workers=workers, blocking_threads=threads,
                backlog=BACKLOG, backpressure=BACKPRESSURE, respawn_failed_workers=True,
                log_access=access_log, log_access_format=ACCESS_LOG_FORMAT).serve()
    finally:
        if made_here:
            shutil.rmtree(folder, ignore_errors=True)
