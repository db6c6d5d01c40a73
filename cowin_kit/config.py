"""Every setting of a deployment, declared once.

Values come, in order of precedence, from ``COWIN_KIT_<NAME>`` environment variables,
the instance's ``cowin-kit.toml``, the instance's ``secrets.toml`` (secrets only) and the
declared default. ``docs/configuration.md`` is generated from this list
(``cowin-kit config docs``) and a test fails when the two differ.
"""
from __future__ import annotations

import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ENV_PREFIX = "COWIN_KIT_"
DEVELOPMENT_URL = "http://127.0.0.1:5000"  # where `cowin-kit serve` listens by default
CONFIG_FILE = "cowin-kit.toml"
SECRETS_FILE = "secrets.toml"
POOLERS = ("", "pgbouncer")  # the values of DATABASE_POOLER


class ConfigError(ValueError):
    """A setting has a value that cannot be used; the message says which and why."""


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def _to_list(value: Any) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if str(v).strip()]
    return [part.strip() for part in str(value).split(",") if part.strip()]


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "str": str,
    "int": int,
    "bool": _to_bool,
    "list": _to_list,
}


@dataclass(frozen=True)
class Setting:
    name: str
    type: str  # one of _CONVERTERS
    default: Any
    help: str
    secret: bool = False  # masked by `config show`
    generated: bool = False  # a key `init` generates; the deployment cannot run without it
    # Shown in docs instead of the literal default, when the default is computed.
    default_doc: str | None = None
    minimum: int | None = None  # for int settings
    maximum: int | None = None

    @property
    def env_var(self) -> str:
        return ENV_PREFIX + self.name

    def convert(self, value: Any, source: str) -> Any:
        try:
            result = _CONVERTERS[self.type](value)
        except (TypeError, ValueError) as exc:
            raise ConfigError(
                f"{self.name} from {source} is not a valid {self.type}: {exc}"
            ) from None
        if self.type == "int":
            low = self.minimum if self.minimum is not None else -(2 ** 31)
            high = self.maximum if self.maximum is not None else 2 ** 31
            if not low <= result <= high:
                raise ConfigError(f"{self.name} from {source} is {result}; it must be between "
                                  f"{low} and {high}")
        return result


SETTINGS: tuple[Setting, ...] = (
    Setting("COUNTRY", "str", None,
            "ISO 3166-1 alpha-2 code of the country profile this deployment runs "
            "(written by `cowin-kit init`)."),
    Setting("PROFILE_PATH", "str", "",
            "Folder of a custom country profile to use instead of the shipped one for COUNTRY.",
            default_doc="(empty: the shipped profile)"),
    Setting("DATABASE_URL", "str", None,
            "SQLAlchemy URL of the database. `postgresql://user@host/db` uses psycopg 3; a "
            "relative SQLite path is relative to the instance folder.",
            default_doc="sqlite:///<instance>/cowin-kit.db"),
    Setting("DATABASE_REPLICA_URLS", "list", [],
            "URLs of PostgreSQL streaming replicas of DATABASE_URL, comma-separated. Public "
            "search, the home page's figures, dashboards, open data and exports read from "
            "one that answers and is at most REPLICA_MAX_LAG_SECONDS behind, each in turn; "
            "from the primary when none is. A person's own data, and anything read before "
            "a change, always comes from DATABASE_URL. See docs/operators.md, Replicas and "
            "connection pooling.", default_doc="(empty: every read uses DATABASE_URL)"),
    Setting("READ_DATABASE_URL", "str", "",
            "One read replica: the same as listing it in DATABASE_REPLICA_URLS (kept for "
            "configurations written before that setting; both may be set, and every URL "
            "they name is used).", default_doc="(empty)"),
    Setting("REPLICA_MAX_LAG_SECONDS", "int", 5,
            "Reads leave a replica whose replay is more than this many seconds behind the "
            "primary, and come back when it has caught up (measured by comparing its "
            "replayed WAL position with the primary's).", minimum=0, maximum=3600),
    Setting("REPLICA_CHECK_SECONDS", "int", 2,
            "How often each server process measures its replicas' lag (never per "
            "request). 0 measures before every read session: for tests only.",
            minimum=0, maximum=300),
    Setting("REPLICA_RETRY_SECONDS", "int", 5,
            "A replica that did not answer (down, unreachable, a read failed on it) is left "
            "alone this long, reads going to the primary, then checked again.",
            minimum=0, maximum=3600),
    Setting("DATABASE_POOLER", "str", "",
            "`pgbouncer` when DATABASE_URL and the replicas' URLs lead to PgBouncer (or a "
            "pooler like it) in transaction mode: the kit then prepares no statements on "
            "the server and sets no session settings (the timeouts), which such a pooler "
            "cannot keep; set DB_STATEMENT_TIMEOUT and DB_LOCK_TIMEOUT on the database role "
            "instead (docs/operators.md). Empty for a direct connection or a pooler in "
            "session mode.", default_doc="(empty: no pooler in transaction mode)"),
    Setting("DATABASE_DIRECT_URL", "str", "",
            "A URL straight to the primary PostgreSQL database of DATABASE_URL (or through a "
            "pooler in session mode), for `cowin-kit` commands and `cowin-kit worker`: "
            "migrations, imports and backups run long, and the worker holds a session-level "
            "advisory lock, which PgBouncer in transaction mode cannot keep. Required when "
            "DATABASE_POOLER is `pgbouncer` (the commands refuse to run without it); when "
            "set, the commands and the worker use it whatever DATABASE_POOLER says, and the "
            "web app keeps DATABASE_URL.",
            default_doc="(empty: commands use DATABASE_URL)"),
    Setting("SQLITE_BUSY_TIMEOUT", "int", 20,
            "Seconds a SQLite connection waits for a lock held by another writer. Keep it "
            "below gunicorn's --timeout (30 s), so a request that waits too long is answered "
            "503 instead of its worker being killed.",
            minimum=0, maximum=3600),
    Setting("DB_POOL_SIZE", "int", 10,
            "Connections kept open per process (PostgreSQL).", minimum=1, maximum=1000),
    Setting("DB_STATEMENT_TIMEOUT", "int", 10,
            "PostgreSQL: seconds one statement of a web or API request may run before it is "
            "cancelled and the request answered 503 (try again). Keep it below the server's "
            "worker timeout (gunicorn's --timeout, 30 s by default). 0 for none. Commands "
            "(`cowin-kit …`) run without it.", minimum=0, maximum=3600),
    Setting("DB_LOCK_TIMEOUT", "int", 5,
            "PostgreSQL: seconds a web or API request waits for a row another transaction "
            "holds (e.g. a session's places while they are booked) before it is answered "
            "503 (try again). 0 for none.", minimum=0, maximum=3600),
    Setting("MAX_CONTENT_LENGTH", "int", 1048576,
            "Largest request body, in bytes, that the web and the API accept; a larger one is "
            "answered 413 without being read. API bodies and forms are a few hundred bytes.",
            minimum=1024, maximum=1073741824),
    Setting("MAX_UPLOAD_LENGTH", "int", 16777216,
            "Largest CSV file, in bytes, that a logged-in staff member may upload on the "
            "session import page (MAX_CONTENT_LENGTH applies everywhere else). Larger files: "
            "`cowin-kit sessions import`.", minimum=1024, maximum=1073741824),
    Setting("SECRET_KEY", "str", None,
            "Key that signs session cookies and CSRF tokens. Generated by `init` into "
            "secrets.toml; there is no default.", secret=True, generated=True),
    Setting("ID_HASH_KEY", "str", None,
            "Key of the HMAC that lets the kit find a national ID number without storing it "
            "in clear. Generated by `init`; changing it makes existing records unfindable.",
            secret=True, generated=True),
    Setting("ID_ENCRYPTION_KEY", "str", None,
            "Fernet key that encrypts stored ID numbers and staff TOTP secrets. Generated by "
            "`init`.", secret=True, generated=True),
    Setting("SIGNING_KEY_FILE", "str", "signing-key.pem",
            "PEM file of the certificate-signing private key (ECDSA P-256), relative to the "
            "instance folder. Generated by `init` with mode 0600. It is the country signing "
            "CA's key: it signs the document signing certificates in `signing/`."),
    Setting("DSC_KEY", "str", None,
            "PEM of the newest document signing certificate's private key, when it is kept "
            "in a secrets store rather than in `signing/dsc-…-key.pem`.", secret=True),
    Setting("DEFAULT_LOCALE", "str", "",
            "Language used when neither the user nor the browser chooses one.",
            default_doc="(empty: the profile's first language)"),
    Setting("LANGUAGES", "list", [],
            "Languages offered on pages, comma-separated ISO 639 codes.",
            default_doc="(empty: the profile's languages, plus English)"),
    Setting("TIMEZONE", "str", "",
            "IANA time zone in which times are shown.",
            default_doc="(empty: the profile's time zone)"),
    Setting("ID_PROVIDERS", "list", [],
            "ID-provider plugins to enable (entry-point names in cowin_kit.id_providers).",
            default_doc="(empty: all installed)"),
    Setting("ID_PROVIDER_MAP", "list", [],
            "Overrides of the profile's mapping of ID document types to providers, as "
            "`document=provider` pairs (e.g. `dni=myregistry.dni`).",
            default_doc="(empty: the profile's mapping)"),
    Setting("ID_VERIFY_TIMEOUT", "int", 5,
            "Seconds to wait for a national registry to verify an ID before marking the "
            "person unverified.", minimum=1, maximum=120),
    Setting("ID_VERIFY_RETRIES", "int", 1,
            "How many times to retry a registry that did not answer.", minimum=0, maximum=5),
    Setting("OTP_TTL_SECONDS", "int", 180,
            "How long a login OTP stays valid.", minimum=30, maximum=3600),
    Setting("OTP_MAX_TRIES", "int", 3,
            "Wrong codes allowed per OTP before it is void.", minimum=1, maximum=10),
    Setting("OTP_RESEND_SECONDS", "int", 60,
            "Minimum wait before another OTP is sent to the same number.", minimum=0,
            maximum=3600),
    Setting("OTP_MAX_PER_NUMBER_PER_DAY", "int", 10,
            "OTPs one mobile number may receive in 24 hours.", minimum=1, maximum=1000),
    Setting("TOKEN_TTL_MINUTES", "int", 60,
            "How long a citizen's login (API token or web session) lasts.", minimum=5,
            maximum=10080),
    Setting("COWIN_WEB_SECRET", "str", "",
            "The `secret` that Co-WIN's web-app login (`auth/generateMobileOTP`) must send. "
            "Co-WIN's identified its web app, and clients written for it send one; empty "
            "accepts any secret or none. Set, a request with another one is refused (401).",
            default_doc="(empty: any secret, or none, is accepted)"),
    Setting("CAPTCHA_ON_SCHEDULE", "bool", False,
            "`appointment/schedule` requires the answer to a captcha from `auth/getRecaptcha` "
            "(one use, for the same account, within CAPTCHA_TTL_SECONDS, 3 tries). Off: "
            "`getRecaptcha` still answers and the `captcha` field is accepted and ignored."),
    Setting("CAPTCHA_TTL_SECONDS", "int", 300,
            "How long a captcha of `auth/getRecaptcha` may be answered.", minimum=30,
            maximum=3600),
    Setting("MAX_RESCHEDULES", "int", 3,
            "How many times one appointment may be rescheduled.", minimum=0, maximum=20),
    Setting("SMS_GATEWAY", "str", "file",
            "SMS gateway plugin (entry-point name in cowin_kit.sms_gateways). The default "
            "`file` keeps messages in the instance folder for demos; `console` prints them, "
            "for development only (messages hold OTPs, which must not reach logs)."),
    Setting("SMS_HTTP_URL", "str", "",
            "`http` SMS gateway: the provider's HTTPS endpoint that takes one message per POST."),
    Setting("SMS_HTTP_HEADERS", "list", [],
            "`http` SMS gateway: request headers as `Name: value` items (e.g. "
            "`Authorization: Bearer …`).", secret=True),
    Setting("SMS_HTTP_BODY", "str", '{"to": "$to", "text": "$text"}',
            "`http` SMS gateway: the request body, with `$to` and `$text` replaced by the "
            "number and the message (escaped for JSON, or URL-encoded for a form body)."),
    Setting("SMS_HTTP_CONTENT_TYPE", "str", "application/json",
            "`http` SMS gateway: `application/json` or `application/x-www-form-urlencoded`."),
    Setting("SMS_HTTP_TIMEOUT", "int", 10, "`http` SMS gateway: seconds to wait for the "
            "provider.", minimum=1, maximum=120),
    Setting("SMS_FILE", "str", "sms-outbox.jsonl",
            "File the `file` SMS gateway appends to, relative to the instance folder."),
    Setting("SMS_MAX_ATTEMPTS", "int", 8,
            "How many times `cowin-kit worker` tries to hand one message to the SMS gateway "
            "before marking it failed (a gateway's permanent refusal fails it at once).",
            minimum=1, maximum=100),
    Setting("SMS_RETRY_SECONDS", "int", 30,
            "The worker's wait before the second try of a message; each further try waits "
            "twice as long (with random jitter of ±50%), up to SMS_RETRY_MAX_SECONDS.",
            minimum=1, maximum=86400),
    Setting("SMS_RETRY_MAX_SECONDS", "int", 3600,
            "The longest wait between two tries of one message.", minimum=1, maximum=604800),
    Setting("WORKER_POLL_SECONDS", "int", 2,
            "How often `cowin-kit worker` (and `serve`'s built-in worker) looks for messages "
            "to send when the queue is empty.", minimum=1, maximum=3600),
    Setting("WORKER_BATCH_SIZE", "int", 50,
            "How many messages a worker claims at once. Several workers may run; each claims "
            "its own messages.", minimum=1, maximum=10000),
    Setting("WORKER_LEASE_SECONDS", "int", 300,
            "How long a worker's claim on a batch lasts. A worker that dies mid-batch leaves "
            "its messages to another worker after this time; a worker never starts sending a "
            "message whose claim has less than SMS_HTTP_TIMEOUT + 5 seconds (at most half "
            "the lease) left, so two workers never hold one message.",
            minimum=2, maximum=86400),
    Setting("REMINDER_DAYS_BEFORE", "int", 3,
            "Days before a person's next dose becomes due that the worker texts them a "
            "reminder (once; people with an appointment for that dose get none). 0 sends it "
            "on the day.", minimum=0, maximum=365),
    Setting("REMINDER_SCAN_MINUTES", "int", 60,
            "How often the worker looks for people to remind (also `cowin-kit notifications "
            "remind`). 0: never (run `notifications remind` from cron instead).",
            minimum=0, maximum=10080),
    Setting("ROLLUP_SECONDS", "int", 5,
            "How often the worker folds newly recorded doses into the dashboard's rollups "
            "(also `cowin-kit reports fold`). 0: never (run `reports fold` from cron "
            "instead).", minimum=0, maximum=3600),
    Setting("REPORTS_CACHE_SECONDS", "int", 30,
            "How long each server process keeps a computed dashboard or reports-API answer "
            "(and how long browsers and proxies may cache it). 0: compute every request.",
            minimum=0, maximum=3600),
    Setting("REDIS_URL", "str", "",
            "Redis URL (redis://HOST:6379/0) for the rate limits, so that every worker and "
            "machine counts together. If Redis stops answering, each process falls back to "
            "its own memory until it is back, rather than refusing requests.",
            default_doc="(empty: no Redis)"),
    Setting("RATE_LIMIT_STORAGE", "str", "auto",
            "Where rate limits are counted: `redis` (REDIS_URL), `database` (a table of the "
            "deployment's database; on SQLite a file next to it), or `memory` (each "
            "process on its own: for one process only). `auto` is Redis when REDIS_URL is "
            "set, memory otherwise. With more than one worker or machine the limits must be "
            "shared: the app refuses to start with memory."),
    Setting("MEMBER_TRIES_PER_ACCOUNT", "str", "20 per hour;50 per day",
            "How many members one citizen account may try to register (every try counts, "
            "refused ones too, so ID numbers cannot be probed), in flask-limiter's notation."),
    Setting("MEMBER_TRIES_PER_ADDRESS", "str", "60 per hour;300 per day",
            "The same for one network address (an IPv6 /64), whatever the accounts. Raise it "
            "where a mobile carrier puts many people behind one address."),
    Setting("WORKERS", "int", 1,
            "How many processes serve this deployment, on all machines together. The app "
            "also reads gunicorn's own worker count and WEB_CONCURRENCY; the largest counts. "
            "Set it when several machines serve, so that memory-counted limits are refused.",
            minimum=1, maximum=10000),
    Setting("STAFF_TOTP_REQUIRED", "bool", False,
            "Administrators (national, state and district) must set up two-step login (a "
            "TOTP code from an authenticator app) before they can use the staff pages. Off: "
            "each may choose to."),
    Setting("SESSION_COOKIE_SECURE", "bool", False,
            "Send the session cookie over HTTPS only. Set to true behind TLS in production."),
    Setting("HSTS_SECONDS", "int", 31536000,
            "Strict-Transport-Security max-age sent on answers served over HTTPS (behind a "
            "TLS proxy, with PROXY_FIX_HOPS set), telling browsers to use only HTTPS for the "
            "site. 0 sends none. Never sent over plain HTTP.", minimum=0, maximum=63072000),
    Setting("PUBLIC_URL", "str", "",
            "The address people use to reach the deployment, scheme and host only (e.g. "
            "`https://vacunas.example.gob`). `init` prints the portal, staff and API "
            "addresses from it, and `config check` warns when it is not on this machine and "
            "SESSION_COOKIE_SECURE is off.",
            default_doc=f"(empty: the development server, {DEVELOPMENT_URL})"),
    Setting("PROXY_FIX_HOPS", "int", 0,
            "How many reverse proxies (TLS terminator, load balancer) stand in front of the "
            "app. Their X-Forwarded-For/-Proto headers are then trusted, so that per-address "
            "limits see each visitor's address instead of the proxy's. Leave at 0 when the "
            "app is reached directly: the headers could then be forged.",
            minimum=0, maximum=5),
    Setting("METRICS_ENABLED", "bool", True,
            "Serve Prometheus metrics at /metrics (requests, latencies, bookings, OTPs, doses, "
            "the SMS outbox, the report rollups, replica lag; see docs/operators.md, "
            "Monitoring). Off: /metrics is a 404 and requests are not counted."),
    Setting("METRICS_TOKEN", "str", "",
            "Bearer token a Prometheus server sends to read /metrics (`Authorization: Bearer "
            "…`; refused with 401 without it, 403 with another). Empty: /metrics answers only "
            "clients on this machine (a loopback address, not through a proxy).",
            default_doc="(empty: this machine only)", secret=True),
    Setting("METRICS_CACHE_SECONDS", "int", 5,
            "How long each server process keeps the figures /metrics reads from the "
            "database (outbox depth, rollup backlog, replica lag) before reading them again.",
            minimum=0, maximum=300),
    Setting("LOG_LEVEL", "str", "INFO", "Python logging level."),
    Setting("LOG_FILE", "str", "",
            "File the kit's log lines (security events: OTPs sent and refused, wrong codes, "
            "logins, lock-outs, rate limits hit) are appended to, relative to the instance "
            "folder; created mode 0600, reopened when logrotate moves it.",
            default_doc="(empty: gunicorn's error log under gunicorn, else standard error)"),
)

SETTINGS_BY_NAME = {s.name: s for s in SETTINGS}


@dataclass
class Settings:
    """Resolved values plus where each came from (for `config show`)."""

    values: dict[str, Any]
    sources: dict[str, str] = field(default_factory=dict)
    instance_path: Path | None = None
    # Plugins' own settings: the [plugins] table of cowin-kit.toml, overridden by
    # COWIN_KIT_PLUGIN_<KEY> environment variables. Keys are upper-case.
    plugin_values: dict[str, Any] = field(default_factory=dict)

    def plugin(self, key: str, default: Any = None) -> Any:
        """A plugin's own setting, e.g. ``settings.plugin("EXAMPLE_REGISTRY_URL")``."""
        return self.plugin_values.get(key.upper(), default)

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def get(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path} cannot be read: {exc.strerror}") from None
    plugins = data.pop("plugins", {})
    if not isinstance(plugins, dict):
        raise ConfigError(f"{path}: [plugins] must be a table of plugin settings")
    data["__plugins__"] = {k.upper(): v for k, v in plugins.items()}
    unknown = sorted(k for k in data if k != "__plugins__" and k.upper() not in SETTINGS_BY_NAME)
    if unknown:
        raise ConfigError(
            f"{path}: unknown setting(s) {', '.join(unknown)}; "
            "see docs/configuration.md for the settings there are"
        )
    return {k if k == "__plugins__" else k.upper(): v for k, v in data.items()}


def load_settings(instance_path: Path | None, overrides: dict[str, Any] | None = None,
                  environ: dict[str, str] | None = None) -> Settings:
    """Resolve every declared setting for the instance at ``instance_path``."""
    environ = os.environ if environ is None else environ
    layers: list[tuple[str, dict[str, Any]]] = []
    if instance_path is not None:
        config_file = instance_path / CONFIG_FILE
        secrets_file = instance_path / SECRETS_FILE
        if config_file.exists():
            layers.append((str(config_file), _read_toml(config_file)))
        if secrets_file.exists():
            layers.append((str(secrets_file), _read_toml(secrets_file)))
    env_layer = {s.name: environ[s.env_var] for s in SETTINGS if s.env_var in environ}
    layers.append(("environment", env_layer))
    if overrides:
        unknown = sorted(k for k in overrides if k not in SETTINGS_BY_NAME)
        if unknown:
            raise ConfigError(f"unknown setting(s) {', '.join(unknown)}")
        layers.append(("arguments", dict(overrides)))

    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for setting in SETTINGS:
        values[setting.name] = setting.default
        sources[setting.name] = "default"
        for source, layer in layers:
            if setting.name in layer and layer[setting.name] is not None:
                values[setting.name] = setting.convert(layer[setting.name], source)
                sources[setting.name] = source
    plugin_values: dict[str, Any] = {}
    for _source, layer in layers:
        plugin_values.update(layer.get("__plugins__", {}))
    prefix = ENV_PREFIX + "PLUGIN_"
    plugin_values.update({k[len(prefix):]: v for k, v in environ.items() if k.startswith(prefix)})
    if values["DATABASE_URL"] is None and instance_path is not None:
        values["DATABASE_URL"] = f"sqlite:///{(instance_path / 'cowin-kit.db').as_posix()}"
        sources["DATABASE_URL"] = "default"
    elif values["DATABASE_URL"] and instance_path is not None:
        values["DATABASE_URL"] = _anchor_sqlite(values["DATABASE_URL"], instance_path)
    if values["DATABASE_DIRECT_URL"] and instance_path is not None:
        values["DATABASE_DIRECT_URL"] = _anchor_sqlite(values["DATABASE_DIRECT_URL"],
                                                       instance_path)
    if values["READ_DATABASE_URL"] and instance_path is not None:
        values["READ_DATABASE_URL"] = _anchor_sqlite(values["READ_DATABASE_URL"],
                                                     instance_path)
    if values["DATABASE_REPLICA_URLS"] and instance_path is not None:
        values["DATABASE_REPLICA_URLS"] = [_anchor_sqlite(url, instance_path)
                                           for url in values["DATABASE_REPLICA_URLS"]]
    return Settings(values=values, sources=sources, instance_path=instance_path,
                    plugin_values=plugin_values)


def replica_urls(settings: Settings) -> list[str]:
    """Every read replica's URL: DATABASE_REPLICA_URLS, then READ_DATABASE_URL (its
    one-replica form), each once."""
    urls = list(settings["DATABASE_REPLICA_URLS"])
    if settings["READ_DATABASE_URL"]:
        urls.append(settings["READ_DATABASE_URL"])
    return list(dict.fromkeys(urls))


class DirectURLMissing(ConfigError):
    """DATABASE_POOLER is pgbouncer and DATABASE_DIRECT_URL is not set: a command or the
    worker would reach PostgreSQL through PgBouncer in transaction mode."""


def direct_database(settings: Settings, what: str = "this command") -> tuple[str, str, str]:
    """Where `cowin-kit` commands and the worker reach the primary database: (the setting's
    name, its URL, the pooler to tell the Database). DATABASE_DIRECT_URL when set, else
    DATABASE_URL, unless that leads to PgBouncer in transaction mode (DATABASE_POOLER =
    pgbouncer): then DirectURLMissing, naming the setting to set. ``what`` is named in the
    message ("`cowin-kit db upgrade`", "`cowin-kit worker`").

    Why refuse rather than warn: through transaction pooling a migration's lock_timeout,
    `db restore`'s session and the worker's pg_try_advisory_lock would each land on whatever
    server connection the next transaction gets: the worker's lock would be held by a
    connection other clients then use, and released by none (two workers scanning at once),
    and a migration half run. It fails later and obscurely; here it fails at once, clearly."""
    if settings["DATABASE_DIRECT_URL"]:
        return "DATABASE_DIRECT_URL", settings["DATABASE_DIRECT_URL"], ""
    if settings["DATABASE_POOLER"] == "pgbouncer":
        raise DirectURLMissing(
            f"DATABASE_POOLER is 'pgbouncer' ({settings.sources['DATABASE_POOLER']}): "
            f"DATABASE_URL leads to PgBouncer in transaction mode, which cannot keep the "
            f"database session {what} needs. Set DATABASE_DIRECT_URL to a URL straight to "
            "PostgreSQL (database_direct_url in cowin-kit.toml, or the environment variable "
            f"{ENV_PREFIX}DATABASE_DIRECT_URL), e.g. postgresql://cowin_admin@db1:5432/cowin; "
            "see docs/operators.md, PgBouncer in transaction mode.")
    return "DATABASE_URL", settings["DATABASE_URL"], settings["DATABASE_POOLER"]


def _anchor_sqlite(raw: str, instance_path: Path) -> str:
    """A relative SQLite path means a file in the instance folder, wherever one runs from."""
    from cowin_kit.db import DatabaseURLError, normalise_url

    try:
        url = normalise_url(raw, base_dir=instance_path)
    except DatabaseURLError:
        return raw  # reported when the database is opened
    if url.get_backend_name() == "sqlite":
        return f"sqlite:///{url.database}"
    return raw


def check_settings(settings: Settings) -> list[str]:
    """Return the problems that stop this deployment from running (empty when fine)."""
    problems = []
    if not settings.get("COUNTRY"):
        problems.append("COUNTRY is not set; run `cowin-kit init --country XX` first.")
    for s in SETTINGS:
        if s.generated and not settings.get(s.name):
            problems.append(
                f"{s.name} is not set; `cowin-kit init` writes it to secrets.toml, "
                f"or set {s.env_var}."
            )
    if settings.get("SECRET_KEY") and len(str(settings["SECRET_KEY"])) < 32:
        problems.append("SECRET_KEY is shorter than 32 characters; use a long random value.")
    if settings.get("ID_ENCRYPTION_KEY"):
        from cryptography.fernet import Fernet

        try:
            Fernet(settings["ID_ENCRYPTION_KEY"])
        except (ValueError, TypeError):
            problems.append(
                "ID_ENCRYPTION_KEY is not a valid Fernet key (32 url-safe base64 bytes).")
    if settings.instance_path is not None:
        key_file = settings.instance_path / str(settings["SIGNING_KEY_FILE"])
        if not key_file.exists():
            problems.append(f"signing key {key_file} is missing; restore it from backup, or "
                            "on a new deployment run `cowin-kit init --update`.")
        for private in (key_file, settings.instance_path / SECRETS_FILE):
            if private.exists() and private.stat().st_mode & 0o077:
                problems.append(f"{private} is readable by others; run chmod 600 on it.")
        config_file = settings.instance_path / CONFIG_FILE
        if (config_file.exists() and config_file.stat().st_mode & 0o077
                and _has_password(config_file)):
            problems.append(f"{config_file} holds a password and is readable by others; run "
                            "chmod 600 on it.")
    if settings.get("TIMEZONE"):
        import zoneinfo

        try:
            zoneinfo.ZoneInfo(settings["TIMEZONE"])
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            problems.append(f"TIMEZONE {settings['TIMEZONE']!r} is not an IANA time zone "
                            "(e.g. America/Lima).")
    from cowin_kit.catalogues import babel_knows

    for lang in settings.get("LANGUAGES") or []:
        if not babel_knows(lang):
            problems.append(f"LANGUAGES lists {lang!r}, which is not a language code Babel "
                            "knows (e.g. es, ar, qu).")
    from limits import parse_many

    for name in ("MEMBER_TRIES_PER_ACCOUNT", "MEMBER_TRIES_PER_ADDRESS"):
        try:
            parse_many(str(settings.get(name) or ""))
        except ValueError:
            problems.append(f"{name} {settings.get(name)!r} is not a rate limit like "
                            "'20 per hour;50 per day'.")
    redis_url = settings.get("REDIS_URL") or ""
    if redis_url and not redis_url.startswith(("redis://", "rediss://", "unix://")):
        problems.append(f"REDIS_URL {redis_url.split('@')[-1]!r} is not a Redis URL; write "
                        "redis://HOST:6379/0 (rediss:// with TLS, unix:// for a socket).")
    from cowin_kit.ratelimits import store_problems

    problems.extend(store_problems(settings))
    public_url = settings.get("PUBLIC_URL") or ""
    if public_url and public_url_problem(public_url):
        problems.append(f"PUBLIC_URL {public_url!r}: {public_url_problem(public_url)}")
    if settings.get("DATABASE_POOLER", "") not in POOLERS:
        problems.append(f"DATABASE_POOLER {settings['DATABASE_POOLER']!r} is not one of "
                        f"{', '.join(repr(p) for p in POOLERS)} (empty: none in transaction "
                        "mode).")
    if (settings.get("DATABASE_POOLER") == "pgbouncer" and settings.get("DATABASE_DIRECT_URL")
            and settings["DATABASE_DIRECT_URL"] == settings.get("DATABASE_URL")):
        problems.append("DATABASE_DIRECT_URL is DATABASE_URL, which DATABASE_POOLER says leads "
                        "to PgBouncer in transaction mode; give the URL straight to PostgreSQL "
                        "(its own host and port) for the commands and the worker.")
    for lvl in ("LOG_LEVEL",):
        if str(settings[lvl]).upper() not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            problems.append(f"{lvl} must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL.")
    return problems


def public_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be PUBLIC_URL (None when it can): http(s), a host, no path."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError on a bad port
    except ValueError:
        return "not a URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "write the scheme and host, e.g. https://vacunas.example.gob"
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        return "write only the scheme, host and port, without a path"
    return None


def is_local_url(url: str) -> bool:
    """Whether ``url`` (PUBLIC_URL; empty: the development server) is on this machine."""
    from urllib.parse import urlsplit

    host = urlsplit(url or DEVELOPMENT_URL).hostname or ""
    return host == "localhost" or host.endswith(".localhost") or host.startswith("127.") \
        or host == "::1"


def _has_password(config_file: Path) -> bool:
    try:
        data = tomllib.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return False
    from urllib.parse import urlsplit

    values = [v for value in data.values()
              for v in (value if isinstance(value, list) else [value])]
    for value in values:
        if isinstance(value, str) and "://" in value:
            try:
                if urlsplit(value).password or "password=" in value:
                    return True
            except ValueError:
                continue
    return False


def mask_url(value: str) -> str:
    """A URL with any password (in user-info or ?password=) replaced by ***."""
    import re
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value)
        if parts.password:
            value = value.replace(f":{parts.password}@", ":***@", 1)
    except ValueError:
        return "(unparseable URL)"
    return re.sub(r"(?i)(password=)[^&]*", r"\1***", value)


def mask_secret(value: Any) -> str:
    if not value:
        return "(not set)"
    return "******** (set)"


def render_docs() -> str:
    """The configuration reference, generated from SETTINGS."""
    lines = [
        "# Configuration reference",
        "",
        "<!-- Generated by `cowin-kit config docs` from cowin_kit/config.py; do not edit. -->",
        "",
        "Each setting is read, highest precedence first, from the environment variable "
        f"`{ENV_PREFIX}<NAME>`, the instance's `{CONFIG_FILE}` (lower-case key), the "
        f"instance's `{SECRETS_FILE}` and the default below. Lists are comma-separated in "
        "the environment and TOML arrays in files; booleans are true/false.",
        "",
        "Plugins read their own settings from the `[plugins]` table of `cowin-kit.toml`, "
        f"overridden by `{ENV_PREFIX}PLUGIN_<KEY>` environment variables "
        "(`settings.plugin(\"KEY\")`).",
        "",
        "| Setting | Environment variable | Type | Default | Description |",
        "| --- | --- | --- | --- | --- |",
    ]
    for s in SETTINGS:
        if s.generated:
            default = "(generated by init)"
        elif s.default_doc is not None:
            default = s.default_doc
        else:
            default = f"`{s.default!r}`" if s.default not in (None, "", []) else "(none)"
        lines.append(f"| `{s.name}` | `{s.env_var}` | {s.type} | {default} | {s.help} |")
    lines.append("")
    return "\n".join(lines)
