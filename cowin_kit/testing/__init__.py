"""Test helpers for cowin-kit and for plugin authors.

Installed as a pytest plugin (entry point ``pytest11: cowin_kit``), so these fixtures are
available in any test suite of an environment where cowin-kit is installed:

``cowin_kit_country``   the profile the fixtures provision (override it; default "PE")
``cowin_kit_database_url``  a fresh, empty database for this test (SQLite file, or a new
                        PostgreSQL database when COWIN_KIT_TEST_DATABASE_URL is set)
``cowin_kit_instance``  a provisioned instance folder (demo data, an administrator)
``database``            its :class:`cowin_kit.db.Database`, isolated per test
``db_session``          a session on it, rolled back after the test
``app`` / ``client``    the Flask app for that instance and its test client
``cowin_kit_config``    settings (and Flask config) the app is created with; override it
``change_settings``     ``change_settings(NAME=value)`` for the rest of one test, then restored
``sms_outbox``          the instance's SMS outbox: ``sms_outbox.last_code()`` is the OTP sent
``cli_runner``          a click CliRunner; ``run_cli(*args)`` runs `cowin-kit …` in-process
``cowin_kit_clock``     moves the kit's wall clock for one test (``.set(instant)``,
                        ``.set_local(timezone, naive datetime)``, ``.advance(timedelta)``)

Each test gets its own copy of a database provisioned once per test session, so tests
may commit freely and run concurrently against real connections.

The kit's wall clock (:mod:`cowin_kit.clock`: what day and hour it is in the deployment) is
pinned for the whole test process at :func:`pinned_now`, so the demo data a template was
seeded with ("today's" sessions) stays today however long the run takes, even across
midnight in a profile's time zone. Set ``COWIN_KIT_TEST_NOW`` (ISO 8601 with an offset) to
run the tests at a chosen instant, e.g. one second before midnight in Lima:
``COWIN_KIT_TEST_NOW=2031-03-03T23:59:59.5-05:00``. Stored timestamps (expiries, leases)
stay on the real time.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path

ADMIN_EMAIL = "admin@example.org"
ADMIN_PASSWORD = "test-admin-password-1"

# Where the ``file`` SMS gateway writes in a provisioned instance (the SMS_FILE default).
OUTBOX_FILE = "sms-outbox.jsonl"
_CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")
TEST_NOW_ENV = "COWIN_KIT_TEST_NOW"
_pinned: list[dt.datetime] = []


def pinned_now() -> dt.datetime:
    """The instant the kit's wall clock stands at in this test process (aware, UTC):
    ``$COWIN_KIT_TEST_NOW`` when set, else the real time when first asked. One value per
    process, so a test module may compute its "today" from it at import time.

    >>> pinned_now() == pinned_now() and pinned_now().tzinfo is dt.UTC
    True
    """
    if not _pinned:
        raw = os.environ.get(TEST_NOW_ENV, "").strip()
        if raw:
            instant = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
            if instant.tzinfo is None:
                raise ValueError(f"{TEST_NOW_ENV}={raw!r} needs an offset (Z, -05:00, …)")
        else:
            instant = dt.datetime.now(dt.UTC)
        _pinned.append(instant.astimezone(dt.UTC))
    return _pinned[0]


def pinned_today(timezone: str) -> dt.date:
    """The day in ``timezone`` at :func:`pinned_now`: the test process's "today" there."""
    from zoneinfo import ZoneInfo

    return pinned_now().astimezone(ZoneInfo(timezone)).date()


class Outbox:
    """The messages the ``file`` SMS gateway sent, read from an instance folder.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> box = Outbox(folder)
    >>> box.messages()
    []
    >>> _ = (folder / OUTBOX_FILE).write_text(
    ...     '{"to": "+51987654321", "text": "Su código es 123456"}\\n', encoding="utf-8")
    >>> box.sent_to(), box.last_code()
    (['+51987654321'], '123456')
    """

    def __init__(self, instance: Path):
        self.path = Path(instance) / OUTBOX_FILE

    def messages(self) -> list[dict]:
        """Every message sent so far, oldest first: {"to": "+51…", "text": "…"}."""
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text("utf-8").splitlines()]

    def sent_to(self) -> list[str]:
        return [m["to"] for m in self.messages()]

    def last_code(self, to: str | None = None) -> str:
        """The six-digit code of the last message (to the number ``to``, in E.164, if given)."""
        sent = [m for m in self.messages() if to is None or m["to"] == to]
        assert sent, f"no SMS was sent{' to ' + to if to else ''}"
        found = _CODE.search(sent[-1]["text"])
        assert found, f"no six-digit code in {sent[-1]['text']!r}"
        return found.group(1)


def last_otp(instance: Path, to: str | None = None) -> str:
    """The OTP last sent by SMS from the instance at ``instance`` (to ``to``, if given)."""
    return Outbox(instance).last_code(to)
