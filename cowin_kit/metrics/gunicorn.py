"""gunicorn settings that make /metrics add up every worker's counts:

    gunicorn -c python:cowin_kit.metrics.gunicorn --workers 4 … 'cowin_kit:create_app()'

(or ``from cowin_kit.metrics.gunicorn import *`` in your own gunicorn.conf.py).
prometheus_client's multiprocess mode: each worker writes its counters to files in
PROMETHEUS_MULTIPROC_DIR and a scrape, whichever worker answers it, adds them all up. The
directory is chosen here, in the master, before any worker imports prometheus_client: the
one in the environment if set (emptied when gunicorn starts, so old counts never come back),
else a new temporary one (removed when gunicorn stops). A dead worker's files stay, so its
counts are kept (counters never go down); ``child_exit`` tells prometheus_client it is gone.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

_VAR = "PROMETHEUS_MULTIPROC_DIR"
_made_here = not os.environ.get(_VAR)
if _made_here:
    os.environ[_VAR] = tempfile.mkdtemp(prefix="cowin-kit-metrics-")


def on_starting(server):
    folder = Path(os.environ[_VAR])
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.db"):
        old.unlink()
    server.log.info("metrics of all workers are added up in %s", folder)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _made_here:
        shutil.rmtree(os.environ[_VAR], ignore_errors=True)
