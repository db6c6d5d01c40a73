"""Where the current action comes from, for the audit log. No Flask.

The app sets the client's address at the start of each web request (after ProxyFix, so it is
the visitor's, not the proxy's) and clears it at the end; anything else (a CLI command, a
script, a worker) is the local operator, "cli:<OS user>". Services call ``audit()`` as before
and the audit row takes its source from here, so none of them needs to know about requests.
"""
from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token

MAX_LENGTH = 64  # AuditEvent.source

_source: ContextVar[str | None] = ContextVar("cowin_kit_request_source", default=None)


def _local_operator() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (some containers)
        user = "unknown"
    return f"cli:{user}"


def current_source() -> str:
    """The address of the web request being served, else ``cli:<OS user>``."""
    return (_source.get() or _local_operator())[:MAX_LENGTH]


def set_source(value: str | None) -> Token:
    return _source.set(value)


def reset_source(token: Token) -> None:
    _source.reset(token)


@contextmanager
def acting_from(value: str) -> Iterator[None]:
    """Run a block as if it came from ``value`` (tests, a worker acting for a request)."""
    token = _source.set(value)
    try:
        yield
    finally:
        _source.reset(token)
