"""Contract tests that any ID provider or SMS gateway runs against itself.

In a plugin's test suite (``pip install cowin-kit[test]``, then ``pytest``)::

    from cowin_kit.testing.contract import IdProviderContract

    class TestKenyaNationalId(IdProviderContract):
        provider_class = KenyaNationalId
        valid = ["12345678", "23456789"]
        invalid = ["1234", "ABCDEFGH"]

Or, for every installed plugin at once, without writing a test: ``cowin-kit plugins check``.
The checks are plain functions (``check_id_provider``, ``check_sms_gateway``) so that both
paths run the same rules.
"""
from __future__ import annotations

import logging
import random
import string
import time
from collections.abc import Iterable
from typing import Any

from cowin_kit.plugins.builtin.ids.base import visible_chars
from cowin_kit.plugins.interfaces import (
    ID_RULES,
    IdClaims,
    IdProvider,
    InvalidIdNumber,
    SmsGateway,
    VerificationResult,
)

MAX_REVEALED = 4  # and never more than a third of the number: visible_chars
_FILL = set("X*•#")

# Text people and scripts send: other scripts' digits, look-alikes, controls, huge input.
_ALPHABET = (string.ascii_letters + string.digits + " -./_\t\n" + "ÄÉñçØ"
             + "АБВГДЕЖМКІ" + "٠١٢٣٤٥٦٧٨٩" + "०१२३४५६७८९" + "０１２３" + "\u200b\u00a0\u0000")


def random_texts(count: int, seed: int = 20261128) -> list[str]:
    rnd = random.Random(seed)
    texts = ["", " ", "0", "-", "\x00", "٣٤٥٦٧٨٩٠١٢٣٤", "9" * 10_000, "x" * 300]
    while len(texts) < count:
        texts.append("".join(rnd.choice(_ALPHABET) for _ in range(rnd.randint(1, 24))))
    return texts


class _Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[str] = []

    def emit(self, record):
        # The formatted record, traceback included: a number may hide in either.
        try:
            self.records.append(logging.Formatter("%(message)s").format(record))
        except Exception:
            self.records.append(f"{record.msg} {record.args}")


def check_id_provider(provider: IdProvider, valid: Iterable[str] = (),
                      invalid: Iterable[str] = (), random_count: int = 300) -> list[str]:
    """Every way ``provider`` breaks the IdProvider contract (empty when it keeps it)."""
    failures: list[str] = []
    cls = type(provider)
    missing = [m for m in IdProvider.required_members() if not hasattr(provider, m)]
    if missing:
        return [f"missing {', '.join(missing)}"]
    for attr in ("code", "name", "hint", "example"):
        if not isinstance(getattr(cls, attr), str) or not getattr(cls, attr):
            failures.append(f"{attr} must be a non-empty string")
    if not isinstance(cls.country, str) or len(cls.country) not in (0, 2):
        failures.append("country must be an ISO 3166-1 alpha-2 code or empty")
    valid = [cls.example, *valid] if cls.example else list(valid)
    capture = _Capture()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    try:
        canon = []
        for number in valid:
            try:
                result = provider.validate(number)
            except InvalidIdNumber as exc:
                failures.append(f"valid example {number!r} was refused: {exc.rule}: {exc}")
                continue
            canon.append(result)
            if not isinstance(result, str):
                failures.append(f"validate({number!r}) returned {type(result).__name__}, "
                                "not str")
            elif provider.validate(result) != result:
                failures.append(f"validate is not idempotent for {number!r}")
        for number in invalid:
            try:
                provider.validate(number)
            except InvalidIdNumber as exc:
                if exc.rule not in ID_RULES:
                    failures.append(f"{number!r}: rule {exc.rule!r} is not one of {ID_RULES}")
            except Exception as exc:
                failures.append(f"invalid example {number!r} raised {type(exc).__name__}")
            else:
                failures.append(f"invalid example {number!r} was accepted")
        for text in random_texts(random_count):
            try:
                provider.validate(text)
            except InvalidIdNumber:
                pass
            except Exception as exc:
                failures.append(f"validate({text[:30]!r}) raised {type(exc).__name__}: {exc}")
                break
            try:
                shown = provider.mask(text)
            except Exception as exc:
                failures.append(f"mask({text[:30]!r}) raised {type(exc).__name__}")
                break
            failures += _mask_problems(provider, text, shown)
        for number in canon:
            failures += _mask_problems(provider, number, provider.mask(number))
        if getattr(provider, "can_verify", False) and canon:
            failures += _check_verify(provider, canon[0])
        for secret in [*canon, *valid, *invalid, "Contract Test"]:
            if len(secret) >= 4 and any(secret in line for line in capture.records):
                failures.append("a log record contains an ID number (valid or not) or a "
                                "person's name")
                break
    finally:
        root.removeHandler(capture)
        root.setLevel(old_level)
    return failures


def _mask_problems(provider: IdProvider, number: str, shown: Any) -> list[str]:
    if not isinstance(shown, str):
        return [f"mask returned {type(shown).__name__}, not str"]
    normal = provider.normalize(number) if isinstance(number, str) else ""
    # Count the characters of the number the mask shows in place, aligned from the end;
    # a fill character ("X", "*", "•", "#") may coincide with the number's own and is not
    # counted as revealed.
    from_end = sum(1 for a, b in zip(reversed(normal), reversed(shown), strict=False)
                   if a == b and b not in _FILL)
    from_start = sum(1 for a, b in zip(normal, shown, strict=False) if a == b and b not in _FILL)
    revealed = max(from_end, from_start)
    allowed = min(MAX_REVEALED, visible_chars(len(normal)))
    if revealed > allowed:
        return [f"mask reveals {revealed} characters of {number[:12]!r}…, more than "
                f"{allowed} (a third of its {len(normal)}, at most {MAX_REVEALED})"]
    return []


def _check_verify(provider: IdProvider, number: str) -> list[str]:
    timeout = 1.0
    started = time.monotonic()
    try:
        result = provider.verify(number, IdClaims(name="Contract Test", birth_year=1980), timeout)
    except Exception as exc:
        return [f"verify raised {type(exc).__name__}; it must return 'unavailable' instead"]
    elapsed = time.monotonic() - started
    problems = []
    if not isinstance(result, VerificationResult):
        problems.append("verify did not return a VerificationResult")
    if elapsed > timeout + 0.5:
        problems.append(f"verify took {elapsed:.1f} s with a {timeout:.0f} s timeout")
    return problems


def check_sms_gateway(gateway: SmsGateway, phone_number: str = "+15550000000") -> list[str]:
    """Every way ``gateway`` breaks the SmsGateway contract (empty when it keeps it)."""
    failures = []
    capture = _Capture()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)  # a leak at DEBUG is a leak all the same
    text = "Your code is 493817"
    try:
        reference = gateway.send(phone_number, text)
        if not isinstance(reference, str) or not reference:
            failures.append("send must return the gateway's reference as a non-empty str")
    except Exception as exc:
        if type(exc).__name__ != "SmsError":
            failures.append(f"send raised {type(exc).__name__}; failures must be SmsError")
    finally:
        root.removeHandler(capture)
        root.setLevel(old_level)
    if any("493817" in line for line in capture.records):
        failures.append("a log record contains the message text (it may hold an OTP)")
    return failures


class IdProviderContract:
    """Subclass in a plugin's tests: set ``provider_class``, ``valid`` and ``invalid``."""

    provider_class: type[IdProvider] | None = None
    valid: list[str] = []
    invalid: list[str] = []
    settings: Any = None

    def make_provider(self) -> IdProvider:
        return self.provider_class(self.settings)

    def test_keeps_the_id_provider_contract(self):
        failures = check_id_provider(self.make_provider(), self.valid, self.invalid)
        assert failures == [], "\n".join(failures)

    def test_arbitrary_text_only_raises_the_declared_error(self):
        from hypothesis import given, settings, strategies as st

        provider = self.make_provider()

        @settings(max_examples=300, deadline=None)
        @given(st.text(max_size=40))
        def run(text):
            try:
                provider.validate(text)
            except InvalidIdNumber:
                pass
            assert isinstance(provider.mask(text), str)

        run()


class SmsGatewayContract:
    """Subclass in a gateway's tests: implement ``make_gateway()``."""

    def make_gateway(self) -> SmsGateway:
        raise NotImplementedError

    def test_keeps_the_sms_gateway_contract(self):
        failures = check_sms_gateway(self.make_gateway())
        assert failures == [], "\n".join(failures)
