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


# The server verifier's reasons, by a word they contain, as the page's reason keys.
_REASON_WORDS = (
    ("revok", "revoked"), ("usage", "key_usage"), ("not yet", "not_yet_valid"),
    ("future", "not_yet_valid"), ("expir", "expired"), ("trust", "untrusted"),
    ("kid", "untrusted"), ("unknown key", "untrusted"), ("issuer", "untrusted"),
    ("signature", "signature"), ("prefix", "format"), ("format", "format"),
    ("base45", "damaged"), ("zlib", "damaged"), ("compress", "damaged"), ("cbor", "damaged"),
    ("cose", "damaged"), ("decode", "damaged"), ("truncat", "damaged"), ("corrupt", "damaged"),
    ("schema", "content"), ("payload", "content"),
)


def reason_key(reason: str) -> str | None:
    """The page's reason key for a reason of the server's verifier (None: unknown)."""
    low = (reason or "").lower()
    return next((key for word, key in _REASON_WORDS if word in low), None)


def _expiry(payload) -> str:
    """The certificate's expiry (CWT ``exp``) as an ISO date, "" when not stated."""
    if isinstance(payload, dict):
        for key in (4, "4", "exp"):
            value = payload.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                import datetime as dt

                return dt.datetime.fromtimestamp(value, dt.UTC).date().isoformat()
    return ""


def check(text: str, *, trust, revoked, reasons: dict, products: dict[str, str],
          date_text=str) -> Verdict:
    """The server verifier's answer on ``text`` as a Verdict (never raises): ``trust`` and
    ``revoked`` are what cowin_kit.certificates.verify.verify takes; ``date_text`` writes an
    ISO date for the reader."""
    try:
        from cowin_kit.certificates import verify as verifier
    except ImportError:
        return Verdict(False, "unavailable", str(reasons["unavailable"]))
    try:
        result = verifier.verify(text, trust, revoked=revoked)
    except Exception as exc:  # noqa: BLE001 - a verifier bug must not be a 500 for the reader
        log.error("certificate verifier failed: %s", type(exc).__name__)
        return Verdict(False, "unavailable", str(reasons["unavailable"]))
    summary = summarise(result.payload, products) if result.payload else None
    if result.valid:
        return Verdict(True, summary=summary, format=result.format or "",
                       expires=_expiry(result.payload))
    key = reason_key(result.reason or "") or reason_key(result.message or "")
    if key == "expired":
        expiry = _expiry(result.payload)
        message = str(reasons[key]) % {"date": date_text(expiry) if expiry else "?"}
    elif key is not None:
        message = str(reasons[key])
    else:
        message = result.message or result.reason or str(reasons["content"])
    detail = " · ".join(str(part) for part in (result.reason, result.message) if part)
    return Verdict(False, key or "other", message, detail, summary, result.format or "")
