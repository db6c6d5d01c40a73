"""Fixtures the kit's test modules share. The basic ones (an instance, its app, client and
database, the SMS outbox, settings) come from cowin_kit.testing, a pytest plugin; plain
helper functions are in helpers.py."""
from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest

from helpers import WebServer, api_login, dni_type_id, redis_or_skip, staff_login


@pytest.fixture
def cowin_kit_config() -> dict:
    """The kit's tests log the same number in several times within a second: no wait between
    codes. The resend throttle's own tests ask for the default back (test_otp, test_api_auth)."""
    return {"OTP_RESEND_SECONDS": 0}


def assert_refused(result, *fragments: str) -> None:
    """A CLI refusal: exit status 2, no traceback, a message naming what is wrong."""
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in result.output, (fragment, result.output)


@pytest.fixture
def refused():
    return assert_refused


@pytest.fixture
def english(client):
    """Read the pages in English (the PE deployment's default is Spanish)."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


# --- the citizen API -----------------------------------------------------------------------

@pytest.fixture
def ana(client, cowin_kit_instance):
    """Headers of a citizen logged in over the API."""
    return api_login(client, cowin_kit_instance, "987654321")


@pytest.fixture
def other(client, cowin_kit_instance):
    """Headers of another citizen."""
    return api_login(client, cowin_kit_instance, "987000999")


@pytest.fixture
def dni_type(database):
    return dni_type_id(database)


# --- the staff pages -----------------------------------------------------------------------

@pytest.fixture
def admin(client):
    """The test client, logged in as the instance's administrator."""
    r = staff_login(client)
    assert r.status_code == 302 and r.headers["Location"].endswith("/staff/"), r.data
    return client


# --- services ------------------------------------------------------------------------------

@pytest.fixture
def redis_url():
    return redis_or_skip()


# --- a real browser ------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright, started once per test module.

    Without Chromium the tests are skipped locally; in CI (CI=true) that is a failure.
    """
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing; .ci/run installs it with apt-get")
        pytest.skip("Chromium is not installed (apt-get install chromium fonts-noto-core)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield b
        b.close()


@pytest.fixture
def live_url(app):
    """The app served on a free port of 127.0.0.1 for the test."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def shots(tmp_path):
    """Where screenshots go: $COWIN_KIT_SCREENSHOTS when set (look at them), else tmp."""
    folder = Path(os.environ.get("COWIN_KIT_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def web_server(cowin_kit_instance, app):
    """`cowin-kit web` serving the test's instance, stopped after the test. One process: each
    starts a fresh interpreter with the app (seconds on a loaded machine); the tests of what
    several processes share start their own (WebServer(instance, workers=2))."""
    running = WebServer(cowin_kit_instance, workers=1)
    yield running
    running.stop()
