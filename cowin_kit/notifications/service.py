"""Sending a text message in the reader's language through the configured gateway.

No Flask: the web app, the API, the CLI and workers all send the same way.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from cowin_kit.catalogues import load_translations
from cowin_kit.plugins.interfaces import N_, SmsError, SmsGateway

log = logging.getLogger("cowin_kit.notifications")

# The texts the kit sends. Kept short: one SMS segment in most scripts.
OTP_TEXT = N_("%(code)s is your %(service)s code. It expires in %(minutes)s minutes. "
              "Never share it.")


@dataclass
class Messenger:
    gateway: SmsGateway
    translation_dirs: list[Path]  # plugins' first, the core's last (it wins)
    default_language: str

    def render(self, lang: str | None, msgid: str, **params) -> str:
        translations = load_translations(lang or self.default_language, self.translation_dirs)
        text = translations.gettext(msgid)
        return text % params if params else text

    def send(self, phone_number: str, lang: str | None, msgid: str, **params) -> str | None:
        """Send; returns the gateway's reference, or None when the gateway failed (the
        failure is logged without the text, which may hold a code)."""
        text = self.render(lang, msgid, **params)
        try:
            return self.gateway.send(phone_number, text)
        except SmsError as exc:
            log.error("SMS not sent through %s: %s", type(self.gateway).__name__, exc)
            return None
