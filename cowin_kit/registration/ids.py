"""ID numbers: checked by their provider, found by a keyed hash, stored encrypted, shown masked.

No Flask here. A number in clear never leaves these functions except to the provider and
to the caller that asked for it; logs get the provider code and the outcome only.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time

from cryptography.fernet import Fernet, InvalidToken

from cowin_kit.plugins.builtin.ids.declared import DECLARED, declared_provider
from cowin_kit.plugins.interfaces import (
    N_,
    IdClaims,
    IdProvider,
    InvalidIdNumber,
    VerificationResult,
)
from cowin_kit.registration.models import IdVerificationStatus

# The registry did not answer (down, slow, broken): the person stays to be checked again.
UNAVAILABLE = IdVerificationStatus.UNAVAILABLE

log = logging.getLogger("cowin_kit.ids")


def check_id(provider: IdProvider, raw: str) -> str:
    """The canonical number, or InvalidIdNumber (from the provider) saying which rule failed."""
    try:
        return provider.validate(raw)
    except InvalidIdNumber:
        raise
    except Exception as exc:  # a third-party provider broke its contract
        # The type only: a traceback or message could hold the number.
        log.error("ID provider %s failed while validating: %s", provider.code,
                  type(exc).__name__)
        raise InvalidIdNumber("format", N_("The number could not be checked; try again.")) from None


def lookup_hash(hash_key: str, document_code: str, number: str) -> str:
    """A keyed hash (HMAC-SHA256) of the canonical number, unique per document type.

    Keyed on the profile's document code (``dni``), not on the plugin that checks it, so
    replacing the provider (e.g. by a registry-verifying one) keeps every hash valid.
    Stored instead of the number for look-ups, so "is this number already registered?"
    needs no decryption, and a stolen database alone cannot be searched for a number.
    """
    message = f"{document_code}:{number}".encode()
    return hmac.new(hash_key.encode("utf-8"), message, hashlib.sha256).hexdigest()


def encrypt_number(encryption_key: str, number: str) -> str:
    return Fernet(encryption_key.encode()).encrypt(number.encode("utf-8")).decode("ascii")


def decrypt_number(encryption_key: str, token: str) -> str:
    """The number in clear; raises ValueError when the key is not the one that encrypted it."""
    try:
        return Fernet(encryption_key.encode()).decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken:
        raise ValueError("the ID number cannot be decrypted with this instance's key") from None


def verify_online(provider: IdProvider, number: str, claims: IdClaims, *, timeout: float,
                  retries: int = 1) -> VerificationResult:
    """Ask the national registry, never waiting longer than ``timeout`` per attempt.

    A registry that is down, slow or broken gives ``unavailable``: a walk-in is never
    blocked by it; the person is kept unverified, to be checked again later.
    """
    if not getattr(provider, "can_verify", False):
        return VerificationResult(UNAVAILABLE, reason="offline provider")
    result = VerificationResult(UNAVAILABLE)
    for attempt in range(retries + 1):
        started = time.monotonic()
        result = _verify_once(provider, number, claims, timeout)
        log.info("ID verification by %s: %s in %.2f s (attempt %d)", provider.code,
                 result.status, time.monotonic() - started, attempt + 1)
        if result.status != UNAVAILABLE:
            break
    return result


def _verify_once(provider: IdProvider, number: str, claims: IdClaims,
                 timeout: float) -> VerificationResult:
    """One call in its own daemon thread, abandoned (not awaited) after ``timeout``: a
    registry client that ignores its timeout cannot hold the request or the next attempt."""
    box: list = []

    def call():
        try:
            box.append(provider.verify(number, claims, timeout))
        except Exception as exc:  # the registry client failed: same as unavailable
            box.append(VerificationResult(UNAVAILABLE, reason=type(exc).__name__))

    worker = threading.Thread(target=call, name=f"verify-{provider.code}", daemon=True)
    worker.start()
    worker.join(timeout)
    if not box:
        return VerificationResult(UNAVAILABLE, reason="timeout")
    result = box[0]
    if not isinstance(result, VerificationResult):
        return VerificationResult(UNAVAILABLE, reason="bad answer from provider")
    return result


def providers_for_profile(profile, registry, settings=None) -> tuple[dict[str, IdProvider],
                                                                     dict[str, str]]:
    """Map each of the profile's ID document codes to a ready provider.

    Returns (providers, missing) where ``missing`` maps a document code to the provider
    code no installed, enabled plugin supplies. ID_PROVIDER_MAP overrides the profile.
    """
    overrides = {}
    for pair in (settings.get("ID_PROVIDER_MAP") if settings else None) or []:
        doc, _, provider = pair.partition("=")
        if doc.strip() and provider.strip():
            overrides[doc.strip()] = provider.strip()
    installed = registry.group(IdProvider.group)
    providers, missing = {}, {}
    for doc in profile["id_documents"]:
        code = overrides.get(doc["code"], doc["provider"])
        if code == DECLARED and doc.get("format"):
            # Declared by the profile as data: no plugin to install.
            providers[doc["code"]] = declared_provider(
                doc["code"], {**doc["format"], "name": doc["name"]}, settings)
            continue
        plugin = installed.get(code)
        if plugin is None:
            missing[doc["code"]] = code
            continue
        try:
            providers[doc["code"]] = plugin.obj(settings)
        except Exception as exc:  # a plugin's constructor failed: report, do not crash
            log.error("ID provider %s could not start: %s", code, type(exc).__name__)
            missing[doc["code"]] = code
    return providers, missing
