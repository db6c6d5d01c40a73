"""Built-in SMS gateways for development and tests."""
from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path

from cowin_kit.db import utcnow
from cowin_kit.plugins.interfaces import SmsError, SmsGateway


class ConsoleGateway(SmsGateway):
    """Prints each message on standard error. For development only: never in production."""

    def send(self, phone_number: str, text: str) -> str:
        ref = uuid.uuid4().hex
        print(f"[sms {ref}] to {phone_number}: {text}", file=sys.stderr, flush=True)
        return ref


class FileGateway(SmsGateway):
    """Appends each message as one JSON line to SMS_FILE, so demos and tests can read OTPs."""

    def send(self, phone_number: str, text: str) -> str:
        ref = uuid.uuid4().hex
        path = Path(str(self.settings["SMS_FILE"]))
        if not path.is_absolute() and self.settings.instance_path is not None:
            path = self.settings.instance_path / path
        line = json.dumps({"id": ref, "at": utcnow().isoformat(), "to": phone_number,
                           "text": text}, ensure_ascii=False)
        try:
            with path.open("a", encoding="utf-8") as fh:
                fh.write(line + "\n")
        except OSError as exc:
            raise SmsError(f"cannot append to {path}: {exc.strerror}") from None
        return ref
