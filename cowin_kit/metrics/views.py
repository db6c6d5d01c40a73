"""GET /metrics: the Prometheus text exposition, for the scrapers allowed to read it.

Who may read it (the figures are operational, never personal: no label holds a number, an
id or a name): with METRICS_TOKEN set, whoever sends ``Authorization: Bearer <token>``;
without it, only a client on this machine (a loopback address, and no proxy's forwarding
header, so nobody reaches it through a reverse proxy on the same machine)."""
from __future__ import annotations

import hmac
import ipaddress
import logging
import os

from flask import Blueprint, Response, current_app, request

from cowin_kit.runtime import deployment

bp = Blueprint("metrics", __name__)

MULTIPROC_VAR = "PROMETHEUS_MULTIPROC_DIR"
_PROXY_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")
_COLLECTOR = "cowin_kit.metrics.collector"  # app.extensions key
_PROBLEM = "cowin_kit.metrics.problem"


def _plain(status: int, reason: str, headers=None) -> Response:
    # For scrapers and operators (like /healthz's answer): English, not translated.
    return Response(reason + "\n", status=status, mimetype="text/plain",
                    headers={"Cache-Control": "no-store", **(headers or {})})


def refusal_of(token: str, environ) -> tuple[int, str, dict] | None:
    """(status, reason, headers) refusing the request of this WSGI ``environ``, or None when
    it may read the figures (the web's /metrics and the worker's port alike)."""
    if token:
        scheme, _, given = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            return (401, "Metrics need a bearer token: send Authorization: Bearer "
                         "<METRICS_TOKEN>.", {"WWW-Authenticate": 'Bearer realm="metrics"'})
        if not hmac.compare_digest(given.strip().encode(), token.encode()):
            return 403, "This bearer token is not METRICS_TOKEN.", {}
        return None
    try:
        local = ipaddress.ip_address(environ.get("REMOTE_ADDR") or "").is_loopback
    except ValueError:
        local = False
    if not local or any(h in environ for h in _PROXY_HEADERS):
        return (403, "Metrics are served only to this machine (a loopback address, not "
                     "through a proxy) while METRICS_TOKEN is not set.", {})
    return None


def refusal(settings) -> Response | None:
    """The answer refusing this scrape, or None when it may read the figures."""
    refused = refusal_of(settings["METRICS_TOKEN"], request.environ)
    if refused is None:
        return None
    status, reason, headers = refused
    return _plain(status, reason, headers)


@bp.get("/metrics")
def metrics():
    """The counters of every process of this server and the database's figures."""
    from prometheus_client import (
        CONTENT_TYPE_LATEST,
        REGISTRY,
        CollectorRegistry,
        generate_latest,
    )

    dep = deployment()
    refused = refusal(dep.settings)
    if refused is not None:
        return refused
    problem = current_app.extensions.get(_PROBLEM)
    if problem:
        return _plain(503, problem)
    own = CollectorRegistry(auto_describe=False)
    own.register(current_app.extensions[_COLLECTOR])
    if os.environ.get(MULTIPROC_VAR):
        from prometheus_client import multiprocess

        every = CollectorRegistry()
        multiprocess.MultiProcessCollector(every)
        body = generate_latest(every)
    else:
        body = generate_latest(REGISTRY)
    return Response(body + generate_latest(own), mimetype=None,
                    content_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})


def init_app(app, dep) -> None:
    """Serve /metrics and count every request (the middleware wraps the whole WSGI stack
    built so far: call this last)."""
    from flask import request as current_request

    from cowin_kit.metrics.collector import DeploymentCollector
    from cowin_kit.metrics.instruments import RequestMetrics
    from cowin_kit.ratelimits import gunicorn_workers

    key = RequestMetrics.ROUTE_KEY

    @app.teardown_request
    def _note_route(exc):  # runs for every request, whatever answered it
        rule = current_request.url_rule
        if rule is not None:
            current_request.environ[key] = rule.rule

    workers = gunicorn_workers() or 1
    if workers > 1 and not os.environ.get(MULTIPROC_VAR):
        # Each worker would show only its own counts, and a scrape would jump between them.
        problem = (f"gunicorn serves this deployment with {workers} workers but "
                   f"{MULTIPROC_VAR} is not set, so no scrape could add their counts up: "
                   "start gunicorn with -c python:cowin_kit.metrics.gunicorn "
                   "(see docs/operators.md, Monitoring).")
        logging.getLogger("cowin_kit").warning("%s", problem)
        app.extensions[_PROBLEM] = problem
    app.extensions[_COLLECTOR] = DeploymentCollector(dep)
    app.register_blueprint(bp)
    fixed = getattr(app.wsgi_app, "queries", {})  # FastAnswers' paths (URL rules as well)
    app.wsgi_app = RequestMetrics(app.wsgi_app, fixed)
