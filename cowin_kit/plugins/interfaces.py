"""The interfaces of the plugin groups, each declared once.

A plugin is a class registered under an entry-point group in its package metadata::

    [options.entry_points]
    cowin_kit.sms_gateways =
        mygateway = my_package.gateway:MyGateway

docs/plugins.md documents every method listed in ``required_members``; a test checks it.
"""
from __future__ import annotations

from typing import Any, ClassVar


class SmsGateway:
    """Sends a text message. Group ``cowin_kit.sms_gateways``.

    Built in: ``console`` (prints, for development) and ``file`` (appends JSON lines).
    """

    group: ClassVar[str] = "cowin_kit.sms_gateways"

    def __init__(self, settings: Any):
        """Receive the deployment's resolved settings (``cowin_kit.config.Settings``)."""
        self.settings = settings

    def send(self, phone_number: str, text: str) -> str:
        """Send ``text`` to ``phone_number`` (E.164, e.g. +51987654321).

        Returns the gateway's message reference. Raises ``SmsError`` when the message could
        not be handed over. Must never log the text (it may hold an OTP).
        """
        raise NotImplementedError

    @classmethod
    def required_members(cls) -> tuple[str, ...]:
        return ("send",)


class SmsError(RuntimeError):
    """A gateway could not send a message."""


class IdProvider:
    """Checks one kind of ID document. Group ``cowin_kit.id_providers``.

    The full contract (normalise, validate, mask, verify) is specified by the ID-provider
    issue; its attributes and methods are listed here so discovery can check a plugin.
    """

    group: ClassVar[str] = "cowin_kit.id_providers"
    code: ClassVar[str] = ""
    country: ClassVar[str] = ""

    def normalize(self, raw: str) -> str:
        """Strip separators and case the way people type the number."""
        raise NotImplementedError

    def validate(self, number: str) -> str:
        """Return the normalised number or raise ``InvalidIdNumber`` saying which rule failed."""
        raise NotImplementedError

    def mask(self, number: str) -> str:
        """The form shown on pages, revealing at most the last 4 characters."""
        raise NotImplementedError

    @classmethod
    def required_members(cls) -> tuple[str, ...]:
        return ("code", "country", "normalize", "validate", "mask")


class InvalidIdNumber(ValueError):
    """An ID number breaks a rule of its document type."""


GROUPS: dict[str, type] = {
    SmsGateway.group: SmsGateway,
    IdProvider.group: IdProvider,
}
