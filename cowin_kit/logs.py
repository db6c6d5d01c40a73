"""Where the kit's log lines go: LOG_FILE, else gunicorn's error log, else standard error.

Without a handler of its own, the ``cowin_kit`` logger's INFO lines (OTPs sent, wrong codes,
logins, rate limits hit: the ``cowin_kit.security`` logger) reached no log at all under
gunicorn, which configures only its own loggers. What is logged never holds an OTP, an ID
number or a whole mobile number (the services mask them); the file is still created 0600.
"""
from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s"
_MARK = "_cowin_kit_handler"  # our handlers, replaced when an app is built again


def log_path(settings) -> Path | None:
    raw = str(settings.get("LOG_FILE") or "")
    if not raw:
        return None
    path = Path(raw).expanduser()
    if not path.is_absolute() and settings.instance_path is not None:
        path = settings.instance_path / path
    return path


def configure_logging(settings) -> None:
    """Give the ``cowin_kit`` logger its level and its destination (once per process:
    logging is global, so building another app replaces what the previous one set)."""
    logger = logging.getLogger("cowin_kit")
    logger.setLevel(str(settings["LOG_LEVEL"]).upper())
    for old in [h for h in logger.handlers if getattr(h, _MARK, False)]:
        logger.removeHandler(old)
        old.close()
    path = log_path(settings)
    if path is not None:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.close(fd)  # created private; WatchedFileHandler reopens it after logrotate
        handlers = [logging.handlers.WatchedFileHandler(path, encoding="utf-8")]
    else:
        gunicorn = logging.getLogger("gunicorn.error")
        if gunicorn.handlers:  # under gunicorn: its --error-logfile (standard error by default)
            handlers = [_Forward(gunicorn)]
        else:
            handlers = [_StandardError()]
    for handler in handlers:
        if not isinstance(handler, _Forward):
            handler.setFormatter(logging.Formatter(FORMAT))
        setattr(handler, _MARK, True)
        logger.addHandler(handler)


class _StandardError(logging.StreamHandler):
    """Standard error as it is when a line is written (test runners and servers swap it)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


class _Forward(logging.Handler):
    """Hands records to gunicorn's error-log handlers (their format, their file)."""

    def __init__(self, target: logging.Logger):
        super().__init__()
        self.target = target

    def emit(self, record: logging.LogRecord) -> None:
        for handler in self.target.handlers:
            if record.levelno >= handler.level:
                handler.handle(record)
