"""The verify page without JavaScript: what was pasted or uploaded, turned into the text of a
QR code, checked by the server's verifier, and its answer put in the words the page's script
uses (the same reason keys as verify_views.REASONS). Knows nothing of Flask.
"""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass

from cowin_kit.certificates.summary import Summary, summarise

log = logging.getLogger("cowin_kit")

_JWS = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")
_IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"RIFF", b"BM")


@dataclass(frozen=True)
class Verdict:
    valid: bool
    reason: str = ""  # a REASONS key when not valid
    message: str = ""  # the reason in words
    detail: str = ""  # technical: what the verifier said
    summary: Summary | None = None
    format: str = ""
    expires: str = ""  # ISO date, when the certificate states one


def _numeric(jws: str) -> str:
    from cowin_kit.certificates.shc import numeric

    return numeric(jws)


def submitted_text(text: str | None, upload, limit: int) -> tuple[str, str]:
    """(the QR text to check, "") or ("", a reason key): the pasted text, else the uploaded
    file (``upload``: a file storage with ``read``, ``filename``, ``mimetype``, or None)."""
    text = (text or "").strip()
    if not text and upload is not None and getattr(upload, "filename", ""):
        data = upload.read(limit + 1)
        if (upload.mimetype or "").startswith("image/") or data.startswith(_IMAGE_MAGIC):
            return "", "image_needs_script"
        if len(data) > limit:
            return "", "file"
        try:
            text = data.decode("utf-8-sig").strip()
        except UnicodeDecodeError:
            return "", "file"
    if not text:
        return "", "empty"
    if len(text) > limit:
        return "", "damaged"
    if text.startswith("{"):  # a .smart-health-card file: its first card
        try:
            cards = json.loads(text).get("verifiableCredential") or []
            text = cards[0] if isinstance(cards[0], str) else ""
        except (ValueError, AttributeError, IndexError, TypeError):
            return "", "file"
    if _JWS.match(text):  # a card's JWS as such: as its QR code's text
        text = _numeric(text)
    return text, ""


# The server verifier's reason codes (cowin_kit.certificates.verify.REASONS) as the page's
# reason keys; a code not here is shown in the verifier's own (translated) words.
REASON_KEYS = {
    "empty": "empty", "too_large": "damaged", "unknown_format": "format",
    "hc1_prefix": "format", "base45": "damaged", "zlib": "damaged", "cbor": "damaged",
    "cose": "damaged", "cwt": "content", "shc_numeric": "damaged", "jws": "damaged",
    "jws_header": "content", "unknown_issuer": "untrusted", "kid_missing": "untrusted",
    "unknown_kid": "untrusted", "signature": "signature", "not_yet_valid": "not_yet_valid",
    "expired": "expired", "signer_validity": "signer", "key_usage": "key_usage",
    "schema": "content", "value_set": "content", "revoked": "revoked", "error": "unavailable",
}


def _iso_date(value) -> str:
    """An ISO date of a datetime or Unix time (a CWT ``exp``), "" for anything else."""
    import datetime as dt

    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return dt.datetime.fromtimestamp(value, dt.UTC).date().isoformat()
        except (OverflowError, OSError, ValueError):
            return ""
    return ""


def _expiry(result) -> str:
    """The certificate's expiry as an ISO date ("" when it states none)."""
    found = _iso_date(getattr(result, "expires_at", None))
    payload = getattr(result, "payload", None)
    if not found and isinstance(payload, dict):
        found = _iso_date(payload.get("exp"))
    return found


def check(text: str, *, ring, issuer_url: str, revocation_document: dict, reasons: dict,
          products: dict[str, str], date_text=str, gettext=str) -> Verdict:
    """The server verifier's answer on ``text`` as a Verdict (never raises). Trusted: the
    key ring's signers, and its JWK Set as the SMART Health Card issuer ``issuer_url``;
    ``revocation_document`` is the published revocation list. ``date_text`` writes an ISO
    date for the reader, ``gettext`` translates the verifier's own messages."""
    from importlib import import_module

    try:  # through sys.modules, where tests put stand-ins
        verifier = import_module("cowin_kit.certificates.verify")
        TrustList = import_module("cowin_kit.certificates.trust").TrustList  # noqa: N806
    except ImportError:
        return Verdict(False, "unavailable", str(reasons["unavailable"]))
    try:
        trust = TrustList.from_ring(ring, issuer_url) if ring is not None else TrustList()
        revoked = verifier.RevocationList.from_document(revocation_document)
        result = verifier.verify(text, trust, revoked=revoked)
    except Exception as exc:  # noqa: BLE001 - a verifier bug must not be a 500 for the reader
        log.error("certificate verifier failed: %s", type(exc).__name__)
        return Verdict(False, "unavailable", str(reasons["unavailable"]))
    summary = summarise(result.payload, products) if result.payload else None
    expiry = _expiry(result)
    if result.valid:
        return Verdict(True, summary=summary, format=result.format or "", expires=expiry)
    key = REASON_KEYS.get(result.reason or "")
    if key == "expired":
        message = str(reasons[key]) % {"date": date_text(expiry) if expiry else "?"}
    elif key is not None:
        message = str(reasons[key])
    else:
        message = gettext(result.message) if result.message else str(reasons["content"])
    detail = " · ".join(str(part) for part in (result.format, result.reason,
                                                 result.issuer, result.kid) if part)
    return Verdict(False, key or "other", message, detail, None, result.format or "")
