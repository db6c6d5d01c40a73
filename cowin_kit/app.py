"""The application factory: settings, databases, middleware and blueprints, put together
once per app. What a request reads (the deployment, its sessions) is in runtime.py."""
from __future__ import annotations

import logging

from flask import Flask, request
from werkzeug.routing import IntegerConverter

from cowin_kit.config import (
    SETTINGS_BY_NAME,
    ConfigError,
    Settings,
    check_settings,
    direct_database,
    load_settings,
    replica_urls,
)
from cowin_kit.db import MAX_INT, Database, DatabaseURLError
from cowin_kit.instance import resolve_instance_path
from cowin_kit.plugins import discover
from cowin_kit.profiles import load_profile
from cowin_kit.runtime import EXTENSION, Deployment, close_sessions, retry_on_disconnect

# Seconds a replica has to accept a connection before the read goes to the primary.
REPLICA_CONNECT_TIMEOUT = 3


class IdConverter(IntegerConverter):
    """``<id:name>`` in a route: a row id, from 1 to the largest integer every database
    holds; any other number is a 404 before the view runs (never a database error)."""

    def __init__(self, url_map):
        super().__init__(url_map, min=1, max=MAX_INT)


def create_app(config: dict | None = None) -> Flask:
    """Build the app for an instance.

    ``config`` may hold ``INSTANCE_PATH``, any declared setting (overriding the instance's
    files and the environment) and plain Flask keys such as ``TESTING``. ``DIRECT_DATABASE``
    (the command's name, e.g. "`cowin-kit worker`"): the app of a command, whose primary is
    reached as config.direct_database says, never through PgBouncer in transaction mode
    (DirectURLMissing, a ConfigError, when DATABASE_DIRECT_URL is needed and not set).
    Raises ConfigError when the deployment cannot run, with every reason.
    """
    from cowin_kit.i18n import available_languages, init_app as init_i18n
    from cowin_kit.web import views as web_views

    config = dict(config or {})
    instance = resolve_instance_path(config.pop("INSTANCE_PATH", None))
    direct = config.pop("DIRECT_DATABASE", None)
    flask_config = {k: config.pop(k) for k in list(config) if k not in SETTINGS_BY_NAME}
    settings = load_settings(instance, overrides=config)
    problems = check_settings(settings)
    if problems:
        raise ConfigError("the deployment cannot start:\n  - " + "\n  - ".join(problems))
    profile = load_profile(settings["COUNTRY"], settings["PROFILE_PATH"] or None)

    app = Flask("cowin_kit", instance_path=str(instance), instance_relative_config=False,
                template_folder="web/templates", static_folder="web/static")
    app.config.update(
        SECRET_KEY=settings["SECRET_KEY"],
        SESSION_COOKIE_SECURE=settings["SESSION_COOKIE_SECURE"],
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # A web login lasts as long as an API token; the token's own expiry is what counts.
        PERMANENT_SESSION_LIFETIME=60 * settings["TOKEN_TTL_MINUTES"],
        JSON_SORT_KEYS=False,
        # Bodies beyond this are refused (413) before they are read; see MAX_UPLOAD_LENGTH.
        MAX_CONTENT_LENGTH=settings["MAX_CONTENT_LENGTH"],
    )
    app.config.update(flask_config)
    from cowin_kit.web import compression, security

    app.session_interface = security.EncryptedSessionInterface()
    # Hooks run last-registered first: compression, registered first, sees every answer
    # as the others left it.
    app.after_request(compression.compress_response)
    app.after_request(security.protective_headers)
    from cowin_kit.logs import configure_logging

    configure_logging(settings)

    if direct:
        name, url, pooler = direct_database(settings, direct)
        db = _open_database(settings, name, url, pooler=pooler, replica=False)
    else:
        db = _open_database(settings, "DATABASE_URL", replica=False)
    _verify_database(db, settings)
    # Public reads go to a replica that answers and keeps up (cowin_kit.replicas); none
    # configured: the primary.
    replica_dbs = [_open_database(settings, "DATABASE_REPLICA_URLS", url)
                   for url in replica_urls(settings)]
    enabled = {"cowin_kit.id_providers": settings["ID_PROVIDERS"]}
    deployment = Deployment(
        settings=settings, profile=profile,
        db=db, replica_dbs=replica_dbs,
        plugins=discover(enabled),
        languages=available_languages(profile.languages, settings["LANGUAGES"]),
    )
    from cowin_kit.registration.ids import providers_for_profile

    deployment.id_providers, missing = providers_for_profile(profile, deployment.plugins,
                                                             settings)
    for doc, provider in missing.items():
        logging.getLogger("cowin_kit").warning(
            "no ID provider %s for document type %s: registering with it is refused",
            provider, doc)
    deployment.messenger = _messenger(deployment)
    app.extensions[EXTENSION] = deployment
    init_i18n(app, deployment.plugins.translation_dirs())
    app.teardown_appcontext(close_sessions)

    from cowin_kit import ratelimits, request_source
    from cowin_kit.api import auth as api_auth, citizen as api_citizen, public as api_public
    from cowin_kit.web.limits import limiter, log_breach

    @app.before_request
    def _note_source():  # the audit log's source (ProxyFix has set the visitor's address)
        request_source.set_source(request.remote_addr or "web")

    @app.teardown_request
    def _forget_source(exc):
        request_source.set_source(None)

    uri, options = ratelimits.storage_config(settings, db)
    app.config.setdefault("RATELIMIT_STORAGE_URI", uri)
    app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", options)
    app.config.setdefault("RATELIMIT_ON_BREACH_CALLBACK", log_breach)
    if app.config["RATELIMIT_STORAGE_URI"] != "memory://":
        # A store outage must not take the service down: each process counts in its own
        # memory meanwhile (flask-limiter checks the store again and goes back to it).
        app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
        app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    limiter.init_app(app)
    # The services' own limits (member registrations) count in the same store.
    deployment.limits = ratelimits.RateLimits(
        ratelimits.storage_from_string(app.config["RATELIMIT_STORAGE_URI"],
                                       **app.config["RATELIMIT_STORAGE_OPTIONS"]),
        prefix=app.config.get("RATELIMIT_KEY_PREFIX", ""),
        rules=ratelimits.configured_rules(settings))
    app.url_map.converters["id"] = IdConverter
    from cowin_kit.scheduling.models import AppointmentStatus

    app.jinja_env.globals["AppointmentStatus"] = AppointmentStatus  # templates compare with it
    app.register_blueprint(web_views.bp)
    app.register_blueprint(api_public.bp)
    app.register_blueprint(api_auth.bp)
    app.register_blueprint(api_citizen.bp)
    from cowin_kit.api import openapi as api_openapi

    app.register_blueprint(api_openapi.bp)
    from cowin_kit.api import certificates as api_certificates

    app.register_blueprint(api_certificates.bp)
    from cowin_kit.api import reports as api_reports

    app.register_blueprint(api_reports.bp)
    from cowin_kit.portal import views as portal_views

    app.register_blueprint(portal_views.bp)
    from cowin_kit.staff import views as staff_views

    app.register_blueprint(staff_views.bp)
    from cowin_kit.web import trust_views, verify_views

    app.register_blueprint(trust_views.bp)
    app.register_blueprint(verify_views.bp)
    from cowin_kit.reporting import dashboard_views, open_data_views

    app.register_blueprint(dashboard_views.bp)
    app.register_blueprint(open_data_views.bp)
    # Every view runs again once if it met a pooled connection the database had dropped.
    for endpoint, view in list(app.view_functions.items()):
        app.view_functions[endpoint] = retry_on_disconnect(view)
    # The middleware, innermost first, so the app's whole WSGI stack is read here:
    # plain bookings are served before Flask (FastBooking), inside ProxyFix (the audit log
    # records the visitor's address); repeated public searches too (FastAnswers).
    from cowin_kit.api.fast_booking import FastBooking

    app.wsgi_app = FastBooking(app.wsgi_app, app, api_citizen.bp.url_prefix)
    if settings["PROXY_FIX_HOPS"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = settings["PROXY_FIX_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.wsgi_app = api_public.FastAnswers(app.wsgi_app, api_public.bp.url_prefix)
    from cowin_kit import metrics  # /metrics, and every request counted (outermost)

    metrics.init_app(app, deployment)
    return app


def _open_database(settings: Settings, name: str, url: str | None = None, *,
                   pooler: str | None = None, replica: bool = True) -> Database:
    """The Database at the URL of setting ``name`` (or ``url``, one of that setting's), with
    the deployment's limits. A replica gives up connecting sooner than the primary: reads
    then go to the primary instead of waiting."""
    try:
        return Database(url or settings[name], settings["SQLITE_BUSY_TIMEOUT"],
                        settings["DB_POOL_SIZE"], must_exist=True,
                        statement_timeout=settings["DB_STATEMENT_TIMEOUT"],
                        lock_timeout=settings["DB_LOCK_TIMEOUT"],
                        pooler=settings["DATABASE_POOLER"] if pooler is None else pooler,
                        connect_timeout=REPLICA_CONNECT_TIMEOUT if replica else 10)
    except DatabaseURLError as exc:
        raise ConfigError(f"the deployment cannot start: {name}: {exc}") from None


def _messenger(dep: Deployment):
    """The configured SMS gateway, in a Messenger that writes in each person's language."""
    from cowin_kit.notifications.service import Messenger
    from cowin_kit.paths import locales_dir

    gateway_cls = dep.plugins.get("cowin_kit.sms_gateways", dep.settings["SMS_GATEWAY"])
    if gateway_cls is None:
        raise ConfigError(f"SMS_GATEWAY {dep.settings['SMS_GATEWAY']!r} is not an installed SMS "
                          "gateway; see `cowin-kit plugins list`.")
    try:
        gateway = gateway_cls(dep.settings)
    except Exception as exc:  # a third-party gateway's constructor failed
        raise ConfigError(f"the SMS gateway {dep.settings['SMS_GATEWAY']!r} could not start: "
                          f"{type(exc).__name__}: {exc}") from None
    return Messenger(gateway, [*dep.plugins.translation_dirs(), locales_dir()],
                     dep.default_language)


def _verify_database(db: Database, settings: Settings) -> None:
    """Refuse to serve a database provisioned for another country or with other keys.

    A database that is down at start is only logged: /healthz reports it, and the app
    serves as soon as it is back (an orchestrator may start us before the database).
    """
    from sqlalchemy.exc import SQLAlchemyError

    from cowin_kit.provisioning import deployment_problems, read_deployment_facts

    try:
        facts = read_deployment_facts(db)
    except SQLAlchemyError as exc:
        logging.getLogger("cowin_kit").warning("database not reachable at start: %s",
                                               type(exc).__name__)
        return
    problems = deployment_problems(facts, settings)
    if not facts.get("country"):
        problems.append("the database holds no provisioned deployment; run "
                        "`cowin-kit init --update` for this instance.")
    if problems:
        db.dispose()
        raise ConfigError("the deployment cannot start:\n  - " + "\n  - ".join(problems))

