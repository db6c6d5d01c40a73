"""Sending a text message in the reader's language through the configured gateway.

No Flask: the web app, the API, the CLI and the worker all send the same way. The OTP is
sent at once (``Messenger.send``: a login cannot wait for a queue); every other text goes
through the outbox and the worker (cowin_kit.notifications.worker), which calls
``Messenger.deliver``. Both end in the same gateway call.
"""
from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass, field
from pathlib import Path

from cowin_kit.catalogues import load_translations
from cowin_kit.plugins.interfaces import N_, SmsError, SmsGateway

log = logging.getLogger("cowin_kit.notifications")

# The texts the kit sends. Kept short: one SMS segment in most scripts.
OTP_TEXT = N_("%(code)s is your %(service)s code. It expires in %(minutes)s minutes. "
              "Never share it.")


def takes_reference(gateway: SmsGateway) -> bool:
    """Whether the gateway's ``send`` accepts the optional ``reference`` keyword (gateways
    written before it existed do not, and keep working without it)."""
    try:
        parameters = inspect.signature(gateway.send).parameters
    except (TypeError, ValueError):
        return False
    return "reference" in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())


@dataclass
class Messenger:
    gateway: SmsGateway
    translation_dirs: list[Path]  # plugins' first, the core's last (it wins)
    default_language: str
    # Catalogues by language, loaded once per process (a worker renders thousands of texts).
    _catalogues: dict = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self):
        self._takes_reference = takes_reference(self.gateway)

    def render(self, lang: str | None, msgid: str, **params) -> str:
        lang = lang or self.default_language
        translations = self._catalogues.get(lang)
        if translations is None:
            translations = self._catalogues[lang] = load_translations(lang,
                                                                       self.translation_dirs)
        text = translations.gettext(msgid)
        if not params:
            return text
        try:
            return text % params
        except (KeyError, ValueError, TypeError):
            # A translation with a broken placeholder must not stop the message: English.
            log.warning("translation of an SMS text into %s has bad placeholders", lang)
            return msgid % params

    def deliver(self, phone_number: str, lang: str | None, msgid: str, params: dict,
                reference: str | None = None) -> str:
        """Render and hand over one text; returns the gateway's reference. Raises SmsError
        (``permanent`` says whether trying again can help). ``reference`` goes to gateways
        that take it, so that they can drop a second copy of one message."""
        text = self.render(lang, msgid, **params)
        if reference is not None and self._takes_reference:
            return self.gateway.send(phone_number, text, reference=reference)
        return self.gateway.send(phone_number, text)

    def send(self, phone_number: str, lang: str | None, msgid: str, **params) -> str | None:
        """Send at once (the OTP); returns the gateway's reference, or None when the gateway
        failed (the failure is logged without the text, which may hold a code)."""
        try:
            return self.deliver(phone_number, lang, msgid, params)
        except SmsError as exc:
            log.error("SMS not sent through %s: %s", type(self.gateway).__name__, exc)
            return None
