"""What the commands share: the --instance option, loading settings, clean failures."""
from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import click

from cowin_kit.instance import DEFAULT_INSTANCE, INSTANCE_ENV, resolve_instance_path

if TYPE_CHECKING:  # the CLI's root imports nothing it does not need
    from cowin_kit.errors import UserError

EXIT_USAGE = 2  # every refusal of bad input exits 2 (like click's usage errors)


class Refused(click.ClickException):
    """A clear refusal: one message, exit status 2, no traceback."""

    exit_code = EXIT_USAGE

    def format_message(self) -> str:
        return self.message

    def show(self, file=None) -> None:
        click.secho(f"Error: {self.format_message()}", err=True, fg="red")


def refusal(exc: UserError, *, file: str | None = None, lang: str | None = None) -> Refused:
    """The one mapping of a user error (cowin_kit.errors) to the command line: a Refused
    naming the file and the field to fix before the reason, e.g. ``sessions.csv: slots: Give
    at least one time slot.`` The reason is in ``lang``, else in the language of the
    operator's environment (LANGUAGE, LC_ALL, LC_MESSAGES, LANG, as gettext reads them),
    English when the kit has no catalogue for it."""
    from babel import default_locale

    from cowin_kit.catalogues import load_translations
    from cowin_kit.paths import locales_dir

    lang = lang or default_locale(("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"))
    gettext = load_translations(lang, [locales_dir()]).gettext if lang else None
    where = ": ".join(str(part) for part in (file, exc.field) if part)
    reason = exc.text(gettext)
    return Refused(f"{where}: {reason}" if where else reason)


def operator_gettext():
    """gettext in the language of the operator's environment (LANGUAGE, LC_ALL, LC_MESSAGES,
    LANG, as refusal reads them); English when the kit has no catalogue for it."""
    from babel import default_locale

    from cowin_kit.catalogues import load_translations
    from cowin_kit.paths import locales_dir

    lang = default_locale(("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"))
    return load_translations(lang, [locales_dir()]).gettext if lang else (lambda text: text)


instance_option = click.option(
    "--instance", "instance", metavar="DIR", default=None,
    help=f"Instance folder (default: ${INSTANCE_ENV}, else ./{DEFAULT_INSTANCE}).")


def load_instance(instance: str | None):
    """Settings of an initialised instance, or a Refused saying how to make one."""
    from cowin_kit.config import ConfigError, load_settings
    from cowin_kit.instance import is_initialised

    path = resolve_instance_path(instance)
    gettext = operator_gettext()
    try:
        initialised = is_initialised(path)
    except OSError as exc:
        raise Refused(gettext("cannot read the instance folder %(path)s: %(reason)s.")
                      % {"path": path, "reason": exc.strerror}) from None
    if not initialised:
        raise Refused(gettext("no cowin-kit instance in %(path)s. Create one with "
                              "`cowin-kit init --country XX`, or point to it with --instance "
                              "DIR or %(variable)s.") % {"path": path, "variable": INSTANCE_ENV})
    try:
        return load_settings(path)
    except ConfigError as exc:
        raise Refused(str(exc)) from None


def command_name() -> str:
    """The running command as the operator typed it (`cowin-kit db upgrade`), for messages."""
    ctx = click.get_current_context(silent=True)
    return f"`{ctx.command_path}`" if ctx is not None else "this command"


def direct_database(settings) -> tuple[str, str, str]:
    """(setting name, URL, pooler) of the primary for this command: DATABASE_DIRECT_URL,
    else DATABASE_URL, refused (naming DATABASE_DIRECT_URL) when that leads to PgBouncer in
    transaction mode (cowin_kit.config.direct_database)."""
    from cowin_kit.config import DirectURLMissing, direct_database as direct

    try:
        return direct(settings, command_name())
    except DirectURLMissing as exc:
        raise Refused(str(exc)) from None


def open_database(settings, *, read: bool = False, web: bool = False):
    """The instance's Database, checked to answer. Commands reach the primary as
    ``direct_database`` says (never through PgBouncer in transaction mode); ``web``: as the
    web app does, through DATABASE_URL (`cowin-kit serve`'s check). ``read``: for reads that
    may be a little behind (exports): a read replica that answers and is at most
    REPLICA_MAX_LAG_SECONDS behind (DATABASE_REPLICA_URLS, READ_DATABASE_URL), else the
    primary."""
    from sqlalchemy.exc import SQLAlchemyError

    from cowin_kit.db import Database, DatabaseURLError, describe_db_error

    if web:
        name, url, pooler = "DATABASE_URL", settings["DATABASE_URL"], settings["DATABASE_POOLER"]
    else:
        name, url, pooler = direct_database(settings)

    def opened(name: str, url: str, pooler: str = settings["DATABASE_POOLER"]):
        try:
            return Database(url, settings["SQLITE_BUSY_TIMEOUT"], settings["DB_POOL_SIZE"],
                            must_exist=True, pooler=pooler)
        except DatabaseURLError as exc:
            raise Refused(f"{name} ({settings.sources[name]}): {exc}") from None

    if read:
        replica = _fit_replica(settings, lambda n, u: opened(n, u), opened(name, url, pooler))
        if replica is not None:
            return replica
    db = opened(name, url, pooler)
    try:
        db.ping()
    except SQLAlchemyError as exc:
        db.dispose()
        raise Refused(describe_db_error(exc, db.url) + ". Check that the database server runs "
                      f"and that {name} ({settings.sources[name]}) is right.") from None
    return db


def _fit_replica(settings, opened, primary):
    """The first read replica that answers and keeps up, or None. ``primary`` (disposed
    here) is where the primary's WAL position is read."""
    from sqlalchemy.exc import SQLAlchemyError

    from cowin_kit.config import replica_urls
    from cowin_kit.replicas import measure_lag, primary_lsn

    urls = replica_urls(settings)
    if not urls:
        primary.dispose()
        return None
    try:
        lsn = primary_lsn(primary)
    finally:
        primary.dispose()
    for url in urls:
        replica = opened("DATABASE_REPLICA_URLS", url)
        try:
            if measure_lag(replica, lsn) <= settings["REPLICA_MAX_LAG_SECONDS"]:
                return replica
        except SQLAlchemyError:
            pass
        replica.dispose()
    return None


def web_app(settings):
    """The instance's web app, built; a setting or profile it cannot start with is refused
    with the reason (`serve` and `web` check this before they listen)."""
    from cowin_kit.app import create_app
    from cowin_kit.config import ConfigError
    from cowin_kit.profiles import ProfileError

    try:
        return create_app({"INSTANCE_PATH": settings.instance_path})
    except (ConfigError, ProfileError) as exc:
        raise Refused(str(exc)) from None


def check_address(host: str, port: int) -> None:
    """Refuse, saying why, an address this machine cannot listen on (in use, not its own)."""
    import socket

    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            gettext = operator_gettext()
            raise Refused(gettext("cannot listen on %(address)s: %(reason)s; choose another "
                                  "--port or --host.")
                          % {"address": f"{host}:{port}", "reason": exc.strerror}) from None


def load_instance_profile(settings):
    from cowin_kit.profiles import ProfileError, UnknownCountry, load_profile

    try:
        return load_profile(settings["COUNTRY"], settings["PROFILE_PATH"] or None)
    except UnknownCountry as exc:
        gettext = operator_gettext()
        raise Refused(gettext("the instance's country %(code)s has no shipped profile")
                      % {"code": exc.code}) from None
    except ProfileError as exc:
        gettext = operator_gettext()
        raise Refused(gettext("the instance's profile is invalid:\n%(problems)s")
                      % {"problems": exc}) from None


def db_errors_refused(func):
    """Turn a database failure, or a user error, inside a command into one clear line,
    exit 2."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from sqlalchemy.exc import SQLAlchemyError

        from cowin_kit.errors import UserError
        from cowin_kit.migrate import MigrationError

        try:
            return func(*args, **kwargs)
        except UserError as exc:
            raise refusal(exc) from None
        except MigrationError as exc:
            raise Refused(str(exc)) from None
        except SQLAlchemyError as exc:
            orig = getattr(exc, "orig", None) or exc
            raise Refused(f"database error: {str(orig).strip().splitlines()[0]}") from None
    return wrapper
