"""The interfaces of the plugin groups, each declared once.

A plugin is a class registered under an entry-point group in its package metadata::

    [options.entry_points]
    cowin_kit.sms_gateways =
        mygateway = my_package.gateway:MyGateway

docs/plugins/ documents every method listed in ``required_members``; a test checks it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from cowin_kit.errors import UserError


class SmsGateway:
    """Sends a text message. Group ``cowin_kit.sms_gateways``.

    Built in: ``console`` (prints, for development) and ``file`` (appends JSON lines).
    """

    group: ClassVar[str] = "cowin_kit.sms_gateways"

    def __init__(self, settings: Any):
        """Receive the deployment's resolved settings (``cowin_kit.config.Settings``)."""
        self.settings = settings

    def send(self, phone_number: str, text: str, reference: str | None = None) -> str:
        """Send ``text`` to ``phone_number`` (E.164, e.g. +51987654321).

        Returns the gateway's message reference. Raises ``SmsError`` when the message could
        not be handed over (``permanent=True`` when trying again cannot help, e.g. the
        provider refuses the number). Must never log the text (it may hold an OTP).

        ``reference`` (optional keyword; a gateway written without it still works) is the
        kit's own id of the message, e.g. ``outbox-42``: the same for every try of one
        message. A gateway whose provider accepts a client reference passes it on, so the
        provider drops a second copy when a worker crashed after the first was accepted
        (see docs/operators.md, "Sending notifications").
        """
        raise NotImplementedError

    @classmethod
    def required_members(cls) -> tuple[str, ...]:
        return ("send",)

    @classmethod
    def optional_members(cls) -> tuple[str, ...]:
        return ()


class SmsError(RuntimeError):
    """A gateway could not send a message.

    ``permanent`` says that trying again cannot help (an invalid or barred number, a
    message the provider refuses): the worker marks the message failed at once. Otherwise
    (timeouts, HTTP 5xx, rate limits) it tries again later, with back-off. The message
    must not contain the text sent (it is stored and logged)."""

    def __init__(self, message: str = "", *, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


def N_(message: str) -> str:
    """Mark ``message`` for translation without translating it now.

    Plugins know nothing of the request's language: they return English text marked with
    ``N_``, and the caller translates it with the reader's gettext (see ``InvalidIdNumber``).
    """
    return message


ID_RULES = ("length", "format", "checksum")


class InvalidIdNumber(UserError, ValueError):
    """An ID number breaks one rule of its document type.

    ``rule`` is one of ID_RULES; ``message`` is an English text marked with ``N_`` that may
    hold %(name)s placeholders filled from ``params``. Show it with ``translate(gettext)``.
    (A user error of the kit's one family, cowin_kit.errors; its arguments keep the order
    plugins have always used.)
    """

    def __init__(self, rule: str, message: str, **params):
        if rule not in ID_RULES:
            raise ValueError(f"rule must be one of {ID_RULES}, not {rule!r}")
        self.rule = rule
        super().__init__(message, None, **params)

    @property
    def message(self) -> str:
        return self.text()

    def translate(self, gettext) -> str:
        return self.text(gettext)


# Plugins (and their doctests) know it by its stable, public name.
InvalidIdNumber.__module__ = "cowin_kit.toolkit"

VERIFY_STATUSES = ("verified", "mismatch", "not_found", "unavailable")


@dataclass(frozen=True)
class IdClaims:
    """What a person says about themselves, checked against a national registry."""

    name: str
    birth_year: int | None = None


@dataclass(frozen=True)
class VerificationResult:
    status: str  # one of VERIFY_STATUSES
    reference: str = ""  # the registry's reference for this check, if it gives one
    reason: str = ""  # why the answer is "unavailable" (timeout, HTTP 503, …), for operators
    checked_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __post_init__(self):
        if self.status not in VERIFY_STATUSES:
            raise ValueError(f"status must be one of {VERIFY_STATUSES}, not {self.status!r}")


class IdProvider:
    """Checks one kind of ID document. Group ``cowin_kit.id_providers``; the entry-point
    name is the provider's ``code``.

    Offline checks (``normalize``, ``validate``, ``mask``) are required; online
    verification against a national registry (``verify``) is optional and declared with
    ``can_verify = True``. Providers never log a number or a name.
    """

    group: ClassVar[str] = "cowin_kit.id_providers"
    code: ClassVar[str] = ""  # e.g. "pe.dni"
    country: ClassVar[str] = ""  # ISO 3166-1 alpha-2; "" for international documents
    name: ClassVar[str] = ""  # English, marked with N_; shown translated
    hint: ClassVar[str] = ""  # how to type it, English, marked with N_
    example: ClassVar[str] = ""  # a valid number, shown in forms and used by contract tests
    can_verify: ClassVar[bool] = False

    def __init__(self, settings: Any = None):
        """Receive the deployment's settings (None in offline use and in doctests)."""
        self.settings = settings

    def normalize(self, raw: str) -> str:
        """Strip separators, spaces and case the way people type the number."""
        raise NotImplementedError

    def validate(self, number: str) -> str:
        """Return the normalised number, or raise ``InvalidIdNumber`` naming the rule broken
        (length, format or checksum). Raises nothing else, whatever the input."""
        raise NotImplementedError

    def mask(self, number: str) -> str:
        """The form shown on pages and certificates, revealing at most the last 4 characters
        and at most a third of them (``toolkit.visible_chars``; ``toolkit.mask_tail`` does it)."""
        raise NotImplementedError

    def verify(self, number: str, claims: IdClaims, timeout: float) -> VerificationResult:
        """Check the number and the claims against the national registry within ``timeout``
        seconds. ``number`` is always one that ``validate`` returned. Returns a
        ``VerificationResult``; a registry that cannot be reached gives status
        ``unavailable`` (with a ``reason``), never an exception."""
        return VerificationResult("unavailable", reason="offline provider")

    @classmethod
    def required_members(cls) -> tuple[str, ...]:
        return ("code", "country", "name", "hint", "example", "normalize", "validate", "mask",
                "verify")

    @classmethod
    def optional_members(cls) -> tuple[str, ...]:
        return ("verify", "country")  # country is empty for international documents


GROUPS: dict[str, type] = {
    SmsGateway.group: SmsGateway,
    IdProvider.group: IdProvider,
}
