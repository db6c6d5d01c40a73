"""The pytest fixtures described in :mod:`cowin_kit.testing`."""
from __future__ import annotations

import datetime as dt
import itertools
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from cowin_kit.testing import ADMIN_EMAIL, ADMIN_PASSWORD

TEST_DB_ENV = "COWIN_KIT_TEST_DATABASE_URL"
_counter = itertools.count()


def _pg_base_url():
    raw = os.environ.get(TEST_DB_ENV)
    if not raw:
        return None
    from cowin_kit.db import normalise_url

    return normalise_url(raw)


def _pg_admin(fn):
    from sqlalchemy import create_engine, text

    engine = create_engine(_pg_base_url(), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            return fn(conn, text)
    finally:
        engine.dispose()


def _create_pg_database(name: str, template: str | None = None) -> str:
    tpl = f" TEMPLATE {template}" if template else ""
    _pg_admin(lambda c, t: c.execute(t(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')))
    _pg_admin(lambda c, t: c.execute(t(f'CREATE DATABASE "{name}"{tpl}')))
    return _pg_base_url().set(database=name).render_as_string(hide_password=False)


def _drop_pg_database(name: str) -> None:
    _pg_admin(lambda c, t: c.execute(t(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')))


def _pg_name(label: str) -> str:
    """A database name no other test process uses at the same time.

    Every test process (a pytest-xdist worker is one) creates its own databases beside the
    configured one: named after it, the worker (``gw0``…, "main" without xdist) and the
    process, so parallel workers, and two suites sharing a server, never meet; a database
    left by a crashed run says whose it was. PostgreSQL cuts names at 63 bytes.
    """
    base = (_pg_base_url().database or "ck")[:20]
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return f"{base}_{label}_{worker}_{os.getpid()}_{next(_counter)}".lower()[:63]


def _new_database(tmp_dir: Path, label: str):
    """(url, cleanup) of a new empty database on the configured backend."""
    if _pg_base_url() is None:
        return f"sqlite:///{(tmp_dir / (label + '.db')).as_posix()}", lambda: None
    name = _pg_name(label)
    return _create_pg_database(name), lambda: _drop_pg_database(name)


@pytest.fixture(scope="session")
def cowin_kit_backend() -> str:
    """"postgresql" when COWIN_KIT_TEST_DATABASE_URL is set, else "sqlite"."""
    return "sqlite" if _pg_base_url() is None else "postgresql"


@pytest.fixture
def cowin_kit_country() -> str:
    return "PE"


@pytest.fixture
def cowin_kit_database_url(tmp_path):
    url, cleanup = _new_database(tmp_path, "empty")
    yield url
    cleanup()


@pytest.fixture(scope="session", autouse=True)
def _cowin_kit_wall_clock():
    """The kit's wall clock stands at pinned_now() for the whole test process: the day the
    templates' demo data is seeded for stays "today" in every time zone, however long the
    run takes (a run used to fail after midnight in Lima)."""
    from cowin_kit import clock
    from cowin_kit.testing import pinned_now

    previous = clock.set_source(pinned_now())
    yield
    clock.set_source(previous)


class WallClock:
    """The kit's wall clock for one test (see the ``cowin_kit_clock`` fixture)."""

    def set(self, instant: dt.datetime) -> dt.datetime:
        from cowin_kit import clock

        clock.set_source(instant)
        return instant

    def set_local(self, timezone: str, when: dt.datetime) -> dt.datetime:
        """Stop the clock at the naive local time ``when`` in ``timezone``."""
        from zoneinfo import ZoneInfo

        return self.set(when.replace(tzinfo=ZoneInfo(timezone)))

    def advance(self, delta: dt.timedelta) -> dt.datetime:
        from cowin_kit import clock

        return self.set(clock.now() + delta)

    @property
    def now(self) -> dt.datetime:
        from cowin_kit import clock

        return clock.now()


@pytest.fixture
def cowin_kit_clock(_cowin_kit_wall_clock):
    """Move the kit's wall clock during one test (``.set(aware instant)``,
    ``.set_local("America/Lima", naive datetime)``, ``.advance(timedelta)``); it stands at
    pinned_now() again after the test."""
    from cowin_kit import clock
    from cowin_kit.testing import pinned_now

    yield WallClock()
    clock.set_source(pinned_now())


@pytest.fixture(scope="session")
def _cowin_kit_templates(tmp_path_factory, _cowin_kit_wall_clock):
    """Provision each country once per test session and day of the wall clock (in the
    profile's time zone: its demo sessions start "today"); tests copy the result."""
    from cowin_kit import clock
    from cowin_kit.profiles import load_profile
    from cowin_kit.provisioning import provision

    built: dict[tuple[str, dt.date], tuple[Path, str, str | None]] = {}
    profiles: dict = {}
    cleanups = []

    def get(country: str):
        if country not in profiles:
            profiles[country] = load_profile(country)
        profile = profiles[country]
        day = clock.today(profile["timezone"])
        key = (country, day)
        if key not in built:
            folder = tmp_path_factory.mktemp(f"template-{country}-{day:%Y%m%d}")
            instance = folder / "instance"
            if _pg_base_url() is None:
                url = f"sqlite:///{(folder / 'template.db').as_posix()}"
                pg_name = None
            else:
                pg_name = _pg_name(f"tpl_{country}")
                url = _create_pg_database(pg_name)
                cleanups.append(lambda n=pg_name: _drop_pg_database(n))
            provision(profile, instance, database_url=url,
                      admin_email=ADMIN_EMAIL, admin_password=ADMIN_PASSWORD, demo=True,
                      update=False)
            built[key] = (instance, url, pg_name)
        return built[key]

    yield get
    for cleanup in cleanups:
        cleanup()


@pytest.fixture
def cowin_kit_instance(tmp_path, cowin_kit_country, _cowin_kit_templates):
    """A provisioned instance folder with its own database copy."""
    from cowin_kit.instance import write_config

    template_instance, template_url, pg_template = _cowin_kit_templates(cowin_kit_country)
    instance = tmp_path / "instance"
    instance.mkdir()
    for name in ("secrets.toml", "signing-key.pem"):
        shutil.copy2(template_instance / name, instance / name)
    shutil.copytree(template_instance / "signing", instance / "signing")
    if pg_template is None:
        src_path = template_url.removeprefix("sqlite:///")
        dst_path = instance / "cowin-kit.db"
        # The backup API copies a consistent snapshot, WAL included.
        with sqlite3.connect(src_path) as src, sqlite3.connect(dst_path) as dst:
            src.backup(dst)
        src.close()
        dst.close()
        url, pg_name = f"sqlite:///{dst_path.as_posix()}", None
    else:
        pg_name = _pg_name("t")
        url = _create_pg_database(pg_name, template=pg_template)
    write_config(instance, {"country": cowin_kit_country, "database_url": url})
    yield instance
    if pg_name is not None:
        _drop_pg_database(pg_name)


@pytest.fixture
def cowin_kit_config() -> dict:
    """What the ``app`` fixture's ``create_app`` is given besides the instance: settings by
    name (``{"OTP_TTL_SECONDS": 60}``) and Flask configuration. Override it, or parametrize
    it, for a test or a module; for a change in the middle of a test, see change_settings."""
    return {}


@pytest.fixture
def app(cowin_kit_instance, cowin_kit_config):
    from cowin_kit.app import create_app

    application = create_app({"TESTING": True, **cowin_kit_config,
                              "INSTANCE_PATH": cowin_kit_instance})
    yield application
    application.extensions["cowin_kit"].dispose()


@pytest.fixture
def change_settings(app, monkeypatch):
    """``change_settings(NAME=value, …)`` changes the app's settings for the rest of the test.

    For a change in the middle of a test; one for the whole test goes in
    ``cowin_kit_config``. Restored after the test, so a shared app cannot carry it over.
    """
    values = app.extensions["cowin_kit"].settings.values

    def change(**changes):
        for name, value in changes.items():
            if name not in values:
                raise KeyError(f"no setting {name}")
            monkeypatch.setitem(values, name, value)

    return change


@pytest.fixture
def sms_outbox(cowin_kit_instance):
    """The instance's SMS outbox (the ``file`` gateway): see :class:`cowin_kit.testing.Outbox`."""
    from cowin_kit.testing import Outbox

    return Outbox(cowin_kit_instance)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def database(app):
    """The instance's Database (the same engine the app uses)."""
    return app.extensions["cowin_kit"].db


@pytest.fixture
def db_session(database):
    session = database.Session()
    yield session
    session.rollback()
    session.close()


@pytest.fixture
def cli_runner():
    from click.testing import CliRunner

    return CliRunner()


@pytest.fixture
def run_cli(cli_runner, monkeypatch, tmp_path):
    """Run `cowin-kit ARGS…` in-process from tmp_path; returns click's Result.

    COWIN_KIT_* variables of the outer environment are removed so they cannot leak in.
    """
    from cowin_kit.cli import cli

    for key in list(os.environ):
        if key.startswith("COWIN_KIT_") and key != TEST_DB_ENV:
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)

    def run(*args, input=None, env=None):
        return cli_runner.invoke(cli, [str(a) for a in args], input=input, env=env,
                                 catch_exceptions=True)

    return run
