"""Built-in SMS gateways for development and tests."""
from __future__ import annotations

import fcntl
import json
import os
import sys
import uuid
from pathlib import Path

from cowin_kit.db import utcnow
from cowin_kit.plugins.interfaces import SmsError, SmsGateway


class ConsoleGateway(SmsGateway):
    """Prints each message on standard error. For development only: never in production."""

    def send(self, phone_number: str, text: str, reference: str | None = None) -> str:
        ref = uuid.uuid4().hex
        print(f"[sms {reference or ref}] to {phone_number}: {text}", file=sys.stderr, flush=True)
        return ref


class FileGateway(SmsGateway):
    """Appends each message as one JSON line to SMS_FILE, so demos and tests can read OTPs.
    The line carries the kit's ``reference`` (the outbox message's) when there is one.

    Like a provider that deduplicates on a client reference, it accepts a reference once:
    a message sent again after a worker died between the send and marking it sent is not
    written twice (the check and the append hold the file's lock, so several workers
    agree). Each process reads the lines appended since its last look, not the whole file.
    """

    def __init__(self, settings):
        super().__init__(settings)
        self._seen: dict[str, str] = {}  # reference -> the id it was accepted under
        self._read_to = 0  # how far this process has read the file

    def _path(self) -> Path:
        path = Path(str(self.settings["SMS_FILE"]))
        if not path.is_absolute() and self.settings.instance_path is not None:
            path = self.settings.instance_path / path
        return path

    def _catch_up(self, fh) -> None:
        """Note the references of the lines appended since the last look."""
        fh.seek(0, os.SEEK_END)
        end = fh.tell()
        if end < self._read_to:  # the file was emptied or replaced: read it all
            self._seen.clear()
            self._read_to = 0
        fh.seek(self._read_to)
        for raw in fh.read(end - self._read_to).splitlines():
            if b'"reference"' in raw:
                try:
                    record = json.loads(raw)
                except ValueError:
                    continue
                self._seen[record["reference"]] = record.get("id", "")
        self._read_to = end

    def send(self, phone_number: str, text: str, reference: str | None = None) -> str:
        ref = uuid.uuid4().hex
        path = self._path()
        record = {"id": ref, "at": utcnow().isoformat(), "to": phone_number, "text": text}
        if reference:
            record["reference"] = reference
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        try:
            # The messages hold login codes: only the deployment's own user may read them.
            # Created 0600; a file left readable by an older version is narrowed on append.
            fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(fd, "r+b") as fh:
                if os.fstat(fd).st_mode & 0o077:
                    os.fchmod(fd, 0o600)
                fcntl.flock(fd, fcntl.LOCK_EX)
                if reference:
                    self._catch_up(fh)
                    if reference in self._seen:
                        return self._seen[reference]  # sent already: accepted, not again
                fh.write(line)
                fh.flush()
                if reference:
                    self._seen[reference] = ref
                    self._read_to = fh.tell()
        except OSError as exc:
            raise SmsError(f"cannot append to {path}: {exc.strerror}") from None
        return ref


class HttpGateway(SmsGateway):
    """POSTs each message to an SMS provider's HTTP API, configured by the SMS_HTTP_* settings.

    Most providers take one JSON or form request per message with an API key in a header;
    the body template fits their field names, e.g.
    ``{"from": "MINSA", "to": "$to", "body": "$text", "client_ref": "$reference"}``
    (``$reference`` is the kit's id of the message, the same on every try: a provider that
    deduplicates on a client reference then never delivers one message twice).

    HTTP 4xx answers other than 408 and 429 are permanent refusals (the worker does not try
    again); other failures are temporary.
    """

    def send(self, phone_number: str, text: str, reference: str | None = None) -> str:
        import string
        import urllib.error
        import urllib.parse
        import urllib.request

        url = str(self.settings["SMS_HTTP_URL"])
        host = urllib.parse.urlsplit(url).hostname or ""
        # Messages hold OTPs: only TLS leaves the machine (plain http for local relays).
        if not (url.startswith("https://") or (url.startswith("http://") and host in
                                                 ("127.0.0.1", "::1", "localhost"))):
            raise SmsError("SMS_HTTP_URL must be an https:// URL (plain http only to "
                           "127.0.0.1 or localhost)")
        content_type = str(self.settings["SMS_HTTP_CONTENT_TYPE"])
        if content_type == "application/x-www-form-urlencoded":
            def quote(value):
                return urllib.parse.quote_plus(value)
        else:
            def quote(value):
                return json.dumps(value)[1:-1]  # JSON-escaped, without the quotes
        body = string.Template(str(self.settings["SMS_HTTP_BODY"])).safe_substitute(
            to=quote(phone_number), text=quote(text), reference=quote(reference or ""))
        request = urllib.request.Request(url, data=body.encode("utf-8"), method="POST",
                                         headers={"Content-Type": content_type})
        for header in self.settings["SMS_HTTP_HEADERS"] or []:
            name, _, value = header.partition(":")
            if name.strip():
                request.add_header(name.strip(), value.strip())
        try:
            with urllib.request.urlopen(request, timeout=self.settings["SMS_HTTP_TIMEOUT"]) as r:
                answer = r.read(65536)
        except urllib.error.HTTPError as exc:
            # A client error is the request's fault (a barred number, a text refused): the
            # same request would be refused again. Timeouts and rate limits pass.
            permanent = 400 <= exc.code < 500 and exc.code not in (408, 425, 429)
            raise SmsError(f"the SMS provider answered HTTP {exc.code}",
                           permanent=permanent) from None
        except (urllib.error.URLError, OSError) as exc:
            raise SmsError(f"the SMS provider could not be reached: "
                           f"{getattr(exc, 'reason', exc)}") from None
        try:
            data = json.loads(answer)
            reference = next((str(data[k]) for k in ("id", "message_id", "messageId", "sid",
                                                      "reference") if k in data), "")
        except (ValueError, TypeError):
            reference = ""
        return reference or uuid.uuid4().hex
