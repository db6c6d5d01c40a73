"""SMS gateways for tests of the kit and of plugins (not registered by the kit: a test
registers them with an entry point, as a real plugin is, e.g. in a ``*.dist-info`` folder
on the path of a worker it starts; see tests/test_outbox.py)."""
from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path

from cowin_kit.plugins.interfaces import SmsGateway


class RecordingGateway(SmsGateway):
    """Records every message handed over as one JSON line in SMS_FILE (``reference``,
    ``to``, ``text``, ``pid``), like a provider's log: a message handed over twice shows
    twice, under one reference. The plugin setting ``RECORDING_DELAY_MS`` (environment
    ``COWIN_KIT_PLUGIN_RECORDING_DELAY_MS``) waits before accepting, as a provider's
    network round trip does."""

    def send(self, phone_number: str, text: str, reference: str | None = None) -> str:
        delay = int(self.settings.plugin("RECORDING_DELAY_MS", 0) or 0)
        if delay:
            time.sleep(delay / 1000)
        path = Path(str(self.settings["SMS_FILE"]))
        if not path.is_absolute() and self.settings.instance_path is not None:
            path = self.settings.instance_path / path
        line = json.dumps({"reference": reference, "to": phone_number, "text": text,
                           "pid": os.getpid()}, ensure_ascii=False) + "\n"
        # One write() of one line with O_APPEND: lines of several processes never interleave.
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode("utf-8"))
        finally:
            os.close(fd)
        return uuid.uuid4().hex
