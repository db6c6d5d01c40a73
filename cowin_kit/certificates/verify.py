"""Verifying a vaccination certificate: an EU DCC / WHO GDHCN ``HC1:`` payload or a SMART
Health Card (``shc:/`` numeric QR text, a compact JWS, or a ``.smart-health-card`` file's
content), ours or another issuer's, against a TrustList (cowin_kit.certificates.trust).

``verify`` never raises: every input, however damaged, hostile or large, gives a Result with
``valid`` False and a stable ``reason`` code (REASONS), whose message (an ``N_`` message id,
translated by the caller with ``Result.text``) tells a verifier what it means. ``checks``
records each step that was evaluated (True passed, False failed), so each of the EU DCC test
vectors' expectations can be checked on its own; steps after a failed decoding step are not
evaluated. No Flask, no database: the CLI, the API and the benchmark call it.

>>> r = verify("no certificate", TrustList())
>>> r.valid, r.format, r.reason
(False, None, 'unknown_format')
>>> verify("HC1:***", TrustList()).reason
'base45'
"""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import logging
import math
import re
import struct
import zlib
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field

from cowin_kit.certificates.dcc_schema import schema_problem
from cowin_kit.certificates.trust import TrustList
from cowin_kit.plugins.interfaces import N_

log = logging.getLogger(__name__)

HC1, SHC = "hc1", "shc"
MAX_INPUT = 256 * 1024  # characters: a QR code holds at most 4,296; a card file a few kB
MAX_INFLATED = 1024 * 1024  # what a compressed payload may grow to (a zip bomb stops here)

# COSE / CWT labels and algorithms.
COSE_ALG, COSE_KID = 1, 4
ES256, PS256 = -7, -37
COSE_SIGN1, CWT_TAG = 18, 61
CWT_ISS, CWT_EXP, CWT_IAT, CWT_HCERT = 1, 4, 6, -260
# EU DCC extended key usages of a DSC (both forms occur), by certificate type.
DCC_USAGES = {
    "t": {"1.3.6.1.4.1.1847.2021.1.1", "1.3.6.1.4.1.0.1847.2021.1.1"},
    "v": {"1.3.6.1.4.1.1847.2021.1.2", "1.3.6.1.4.1.0.1847.2021.1.2"},
    "r": {"1.3.6.1.4.1.1847.2021.1.3", "1.3.6.1.4.1.0.1847.2021.1.3"},
}
ALL_DCC_USAGES = frozenset().union(*DCC_USAGES.values())

MSG_VALID = N_("The certificate is valid: signed by a trusted issuer, within its validity and "
                "not revoked.")
REASONS = {
    "empty": N_("Nothing to check: paste or scan the certificate's QR code."),
    "too_large": N_("This is far larger than any certificate, so it is not one."),
    "unknown_format": N_("This is not a certificate this verifier reads: an EU Digital COVID "
                         "Certificate starts with HC1: and a SMART Health Card with shc:/."),
    "hc1_prefix": N_("The code does not start with HC1:, so it is not an EU Digital COVID "
                     "Certificate of a version this verifier reads."),
    "base45": N_("The code is damaged or incomplete (it is not valid Base45 text). Scan it "
                 "again."),
    "zlib": N_("The code is damaged or incomplete (its compressed content cannot be read). "
               "Scan it again."),
    "cbor": N_("The code is damaged: its content cannot be decoded."),
    "cose": N_("The code's content is not a signed certificate."),
    "cwt": N_("The signed content holds no health certificate, or lacks its issue or expiry "
              "date."),
    "shc_chunked": N_("This SMART Health Card is split over several QR codes; only cards in "
                      "a single QR code can be checked."),
    "shc_numeric": N_("The shc:/ code is damaged or incomplete (it must be pairs of digits). "
                      "Scan it again."),
    "jws": N_("The SMART Health Card is damaged or incomplete: its signed content cannot be "
              "read."),
    "jws_header": N_("The SMART Health Card is not signed as the specification requires "
                     "(ES256, compressed content, a key id)."),
    "unknown_issuer": N_("The issuer of this SMART Health Card is not in the trust list."),
    "kid_missing": N_("The certificate does not say which key signed it."),
    "unknown_kid": N_("The key that signed this certificate is not in the trust list: its "
                      "issuer is not trusted here."),
    "algorithm": N_("The certificate is signed with an algorithm this verifier does not "
                    "accept."),
    "signature": N_("The signature does not match: the certificate was altered or not signed "
                    "by its issuer's key."),
    "not_yet_valid": N_("The certificate is not valid yet: it says it was issued after the "
                        "time of this check."),
    "expired": N_("The certificate has expired."),
    "signer_validity": N_("The certificate's dates are outside the validity of the key that "
                          "signed it."),
    "key_usage": N_("The key that signed this certificate may not sign certificates of this "
                    "type."),
    "schema": N_("The certificate's content does not follow the EU DCC schema."),
    "value_set": N_("The certificate names a vaccine, manufacturer, disease or country by a "
                    "code that is not in the EU value sets."),
    "revoked": N_("The certificate has been revoked by its issuer."),
    "error": N_("The certificate could not be checked."),
}

Gettext = Callable[[str], str]


@dataclass(frozen=True)
class Result:
    """What a verification found. ``kid``: base64 for HC1, the JWK ``kid`` for SHC;
    ``issuer``: the country for HC1 (the trusted signer's, else the CWT's), the ``iss`` URL
    for SHC; ``payload``: the decoded certificate (the EU DCC JSON, or the JWS claims),
    JSON-safe; ``checks``: step -> passed, for the steps evaluated."""

    valid: bool
    format: str | None = None
    kid: str | None = None
    issuer: str | None = None
    reason: str | None = None
    payload: dict | None = None
    issued_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None
    checks: dict = field(default_factory=dict, compare=False)

    @property
    def message(self) -> str:
        """The message id (``N_``) explaining the outcome to a verifier."""
        return MSG_VALID if self.valid else REASONS.get(self.reason or "error", REASONS["error"])

    def text(self, gettext: Gettext | None = None) -> str:
        return gettext(self.message) if gettext else self.message

    def as_json(self, gettext: Gettext | None = None) -> dict:
        """What the CLI's --json and the API answer."""
        return {"valid": self.valid, "format": self.format, "kid": self.kid,
                "issuer": self.issuer, "reason": self.reason, "payload": self.payload,
                "message": self.text(gettext)}


class RevocationList(frozenset):
    """Revoked certificates' hashes, as published: EU DCC UCI hashes and SMART Health Card
    ``rid``s; a ``rid.<timestamp>`` entry revokes the cards with that rid issued before
    the timestamp (the SMART Health Cards revocation scheme)."""

    def __new__(cls, hashes: Iterable[str] = ()):
        hashes = [h for h in hashes if isinstance(h, str)]
        self = super().__new__(cls, (h for h in hashes if "." not in h))
        self.until = {}
        for entry in hashes:
            rid, _, stamp = entry.partition(".")
            if stamp:
                try:
                    self.until[rid] = max(self.until.get(rid, 0), int(stamp))
                except ValueError:
                    continue
        return self

    @classmethod
    def from_document(cls, document) -> RevocationList:
        """From a published list (see ``entries``)."""
        return cls(cls.entries(document))

    @staticmethod
    def entries(document) -> list[str]:
        """The hashes of a published list: ours (``{"hashes": [...], "rids": [...]}``, as
        revocation.revocation_list writes it), a SMART Health Cards CRL (``{"rids":
        [...]}``), or a plain list of hashes. ValueError when it is none of these."""
        if isinstance(document, dict):
            items = [*(document.get("hashes") or []), *(document.get("rids") or [])]
        elif isinstance(document, list):
            items = document
        else:
            items = None
        if items is None or not all(isinstance(i, str) for i in items):
            raise ValueError("a revocation list is a JSON object with \"hashes\" or "
                             "\"rids\", lists of text")
        return items

    def __bool__(self) -> bool:
        return bool(len(self) or self.until)

    def revokes_rid(self, rid: str, issued: float | None) -> bool:
        if rid in self:
            return True
        stamp = self.until.get(rid)
        return stamp is not None and (issued is None or issued < stamp)


def verify(text, trust: TrustList, *, at=None, revoked: Collection[str] | None = None) -> Result:
    """Verify ``text`` (str, or bytes of UTF-8) against ``trust`` at time ``at`` (an aware
    datetime or a Unix timestamp; now when None), with ``revoked`` the revocation hashes
    (revocation.uvci_hash of a DCC's ``ci``, revocation.rid of a card). Never raises."""
    try:
        return _verify(text, trust, _clock(at), revoked or ())
    except Exception:  # noqa: BLE001 - verifying untrusted input must never crash a caller
        log.exception("a certificate could not be checked")
        return Result(False, None, reason="error")


def _clock(at) -> float:
    if at is None:
        return dt.datetime.now(dt.UTC).timestamp()
    if isinstance(at, dt.datetime):
        return (at if at.tzinfo else at.replace(tzinfo=dt.UTC)).timestamp()
    return float(at)


_SHC_CHUNKED = re.compile(r"shc:/[0-9]+/[0-9]+/", re.IGNORECASE)
_JWS = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_CONTEXT = re.compile(r"[A-Z]{2}[0-9]:")  # HC1:, and the other context identifiers
_BASE45 = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")


def _verify(text, trust: TrustList, now: float, revoked) -> Result:
    if isinstance(text, (bytes, bytearray)):
        if len(text) > MAX_INPUT:
            return Result(False, None, reason="too_large")
        text = bytes(text).decode("utf-8", "replace")
    if not isinstance(text, str):
        return Result(False, None, reason="unknown_format")
    if len(text) > MAX_INPUT:
        return Result(False, None, reason="too_large")
    text = text.strip()
    if not text:
        return Result(False, None, reason="empty")
    if text.startswith("HC1:"):
        return _verify_hc1(text[4:], trust, now, revoked)
    lowered = text[:5].lower()
    if lowered == "shc:/":
        if _SHC_CHUNKED.match(text):
            return Result(False, SHC, reason="shc_chunked", checks={"numeric": False})
        jws = _numeric_to_jws(text[5:])
        if jws is None:
            return Result(False, SHC, reason="shc_numeric", checks={"numeric": False})
        return _verify_jws(jws, trust, now, revoked, {"numeric": True})
    if _JWS.fullmatch(text):
        return _verify_jws(text, trust, now, revoked, {})
    if text.startswith("{"):
        return _verify_card_file(text, trust, now, revoked)
    if _CONTEXT.match(text) or set(text) <= _BASE45:
        # An HC1 payload with another context identifier (HC2:), a damaged one, or none.
        return Result(False, HC1, reason="hc1_prefix", checks={"prefix": False})
    return Result(False, None, reason="unknown_format")


# --- EU DCC (HC1) ------------------------------------------------------------------------------

def _verify_hc1(body: str, trust: TrustList, now: float, revoked) -> Result:
    import cbor2

    checks: dict[str, bool] = {"prefix": True}

    def failed(step: str, reason: str | None = None, **fields) -> Result:
        checks[step] = False
        return Result(False, HC1, reason=reason or step, checks=checks, **fields)

    compressed = b45decode(body)
    if compressed is None:
        return failed("base45")
    checks["base45"] = True
    cose_bytes = _inflate(compressed, wbits=15)
    if cose_bytes is None:
        return failed("zlib")
    checks["zlib"] = True
    try:
        cose = cbor2.loads(cose_bytes)
    except Exception:  # noqa: BLE001 - cbor2 raises many kinds on hostile input
        return failed("cbor")
    message = _sign1(cose)
    if message is None:
        return failed("cbor", "cose")
    protected_bytes, protected, unprotected, payload, signature = message
    try:
        claims = cbor2.loads(payload)
    except Exception:  # noqa: BLE001
        return failed("cbor")
    hcert = claims.get(CWT_HCERT) if isinstance(claims, Mapping) else None
    dcc = hcert.get(1) if isinstance(hcert, Mapping) else None
    if not isinstance(dcc, Mapping) or len(hcert) != 1:
        return failed("cbor", "cwt")
    checks["cbor"] = True
    checks["json"] = all(isinstance(k, str) for k in dcc)
    document = jsonable(dcc)
    iat, exp = claims.get(CWT_IAT), claims.get(CWT_EXP)
    dates_ok = all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                   for v in (iat, exp))
    checks["cwt"] = dates_ok
    issued = _datetime(iat) if dates_ok else None
    expires = _datetime(exp) if dates_ok else None

    kid = protected.get(COSE_KID, unprotected.get(COSE_KID))
    kid_text = base64.b64encode(kid).decode("ascii") if isinstance(kid, bytes) else None
    alg = protected.get(COSE_ALG, unprotected.get(COSE_ALG))
    claimed_country = claims.get(CWT_ISS) if isinstance(claims.get(CWT_ISS), str) else None
    reasons: list[str] = []
    if not dates_ok:
        reasons.append("cwt")

    # Who signed: the trusted DSC with that kid whose key verifies the signature.
    signer, candidates = None, trust.signers_for(kid) if isinstance(kid, bytes) else []
    if not isinstance(kid, bytes) or not kid:
        checks["signature"] = False
        reasons.append("kid_missing")
    elif not candidates:
        checks["signature"] = False
        reasons.append("unknown_kid")
    elif alg not in (ES256, PS256):
        checks["signature"] = False
        reasons.append("algorithm")
    else:
        to_be_signed = cbor2.dumps(["Signature1", protected_bytes, b"", payload])
        signer = next((c for c in candidates
                       if _cose_signature_ok(c.public_key, alg, signature, to_be_signed)), None)
        checks["signature"] = signer is not None
        if signer is None:
            reasons.append("signature")
    dsc = signer or (candidates[0] if candidates else None)

    if dates_ok:
        in_dsc = dsc is None or (
            (dsc.not_before is None or dsc.not_before.timestamp() <= iat)
            and (dsc.not_after is None or exp <= dsc.not_after.timestamp()))
        checks["expiry"] = in_dsc and iat <= now <= exp
        if now < iat:
            reasons.append("not_yet_valid")
        elif now > exp:
            reasons.append("expired")
        elif not in_dsc:
            reasons.append("signer_validity")

    kinds = [k for k in ("v", "t", "r") if k in dcc]
    if dsc is not None and len(kinds) == 1:
        usages = dsc.key_usage & ALL_DCC_USAGES
        checks["key_usage"] = not usages or bool(usages & DCC_USAGES[kinds[0]])
        if not checks["key_usage"]:
            reasons.append("key_usage")

    problem = "schema" if not checks["json"] or len(kinds) != 1 else schema_problem(document)
    checks["schema"] = problem is None
    if problem:
        reasons.append(problem)

    uvci = _uvci(dcc, kinds)
    if revoked and uvci is not None:
        from cowin_kit.certificates.revocation import uvci_hash

        checks["revocation"] = uvci_hash(uvci) not in revoked
        if not checks["revocation"]:
            reasons.append("revoked")

    country = signer.country if signer is not None and signer.country else claimed_country
    return Result(not reasons, HC1, kid=kid_text, issuer=country,
                  reason=reasons[0] if reasons else None, payload=document,
                  issued_at=issued, expires_at=expires, checks=checks)


def _sign1(cose):
    """(protected bytes, protected map, unprotected map, payload, signature) of a COSE_Sign1
    message: tagged (18), inside a CWT tag (61), or untagged; None when it is not one."""
    import cbor2

    if isinstance(cose, cbor2.CBORTag) and cose.tag == CWT_TAG:
        cose = cose.value
    if isinstance(cose, cbor2.CBORTag):
        if cose.tag != COSE_SIGN1:
            return None
        cose = cose.value
    # Inside a tag, cbor2 gives arrays as tuples and maps as frozendicts.
    if not isinstance(cose, (list, tuple)) or len(cose) != 4:
        return None
    protected_bytes, unprotected, payload, signature = cose
    if not (isinstance(protected_bytes, bytes) and isinstance(unprotected, Mapping)
            and isinstance(payload, bytes) and isinstance(signature, bytes)):
        return None
    try:
        protected = cbor2.loads(protected_bytes) if protected_bytes else {}
    except Exception:  # noqa: BLE001
        return None
    if not isinstance(protected, Mapping):
        return None
    return protected_bytes, protected, unprotected, payload, signature


def _cose_signature_ok(public_key, alg: int, signature: bytes, data: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

    try:
        if alg == ES256 and isinstance(public_key, ec.EllipticCurvePublicKey):
            der = _der_signature(signature)
            if der is None:
                return False
            public_key.verify(der, data, ec.ECDSA(hashes.SHA256()))
            return True
        if alg == PS256 and isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, data, padding.PSS(
                mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO),
                hashes.SHA256())
            return True
    except (InvalidSignature, ValueError):
        return False
    return False


def _der_signature(raw: bytes) -> bytes | None:
    """A raw ES256 signature (r and s, 32 bytes each) as the DER cryptography verifies."""
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    if len(raw) != 64:
        return None
    return encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))


def _uvci(dcc: dict, kinds: list[str]) -> str | None:
    for kind in kinds:
        entries = dcc.get(kind)
        if isinstance(entries, list) and entries and isinstance(entries[0], dict):
            ci = entries[0].get("ci")
            if isinstance(ci, str):
                return ci
    return None


_B45_ALPHABET = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_B45_VALUES = bytes.maketrans(_B45_ALPHABET, bytes(range(45)))


def b45decode(text: str) -> bytes | None:
    """Base45 (RFC 9285) decoded, or None when ``text`` is not Base45. (The characters are
    mapped and sliced by C code: twice as fast as a loop over them.)"""
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError:
        return None
    if raw.translate(None, _B45_ALPHABET):  # a character outside the alphabet is left
        return None
    values = raw.translate(_B45_VALUES)
    rest = len(values) % 3
    if rest == 1:
        return None
    full = len(values) - rest
    numbers = [a + 45 * b + 2025 * c for a, b, c in
               zip(values[0:full:3], values[1:full:3], values[2:full:3], strict=True)]
    if numbers and max(numbers) > 0xFFFF:
        return None
    out = struct.pack(f">{len(numbers)}H", *numbers)
    if rest:
        last = values[full] + 45 * values[full + 1]
        if last > 0xFF:
            return None
        out += bytes((last,))
    return out


def _inflate(data: bytes, *, wbits: int) -> bytes | None:
    """Decompressed ``data`` (zlib with wbits 15, raw DEFLATE with -15), or None when it is
    not complete compressed data or would grow beyond MAX_INFLATED."""
    decompressor = zlib.decompressobj(wbits)
    try:
        out = decompressor.decompress(data, MAX_INFLATED)
    except zlib.error:
        return None
    if decompressor.unconsumed_tail or not decompressor.eof:
        return None
    return out


# --- SMART Health Cards -------------------------------------------------------------------

def _numeric_to_jws(digits: str) -> str | None:
    """The JWS of a ``shc:/`` QR code: each pair of digits is a character's code minus 45
    (the pairs are read by slicing in C, not one by one)."""
    if not digits or len(digits) % 2 or not digits.isascii() or not digits.isdigit():
        return None
    raw = digits.encode("ascii")
    codes = [10 * tens + ones - 483 for tens, ones in zip(raw[0::2], raw[1::2], strict=True)]
    if max(codes) > ord("z"):
        return None
    return bytes(codes).decode("ascii")


def _verify_card_file(text: str, trust: TrustList, now: float, revoked) -> Result:
    """A .smart-health-card file: valid when every card in it is; the Result is the first
    card's, or the first invalid one's."""
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        return Result(False, None, reason="unknown_format")
    cards = document.get("verifiableCredential") if isinstance(document, dict) else None
    if not isinstance(cards, list) or not cards:
        return Result(False, None, reason="unknown_format")
    results = [_verify_jws(c, trust, now, revoked, {}) if isinstance(c, str) and c else
               Result(False, SHC, reason="jws", checks={"jws": False}) for c in cards]
    return next((r for r in results if not r.valid), results[0])


def _b64url(text: str) -> bytes | None:
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text) or len(text) % 4 == 1:
        return None
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


def _verify_jws(jws: str, trust: TrustList, now: float, revoked, checks: dict) -> Result:
    def failed(step: str, reason: str | None = None, **fields) -> Result:
        checks[step] = False
        return Result(False, SHC, reason=reason or step, checks=checks, **fields)

    parts = jws.split(".")
    if len(parts) != 3:
        return failed("jws")
    raw_header, raw_body, raw_signature = (_b64url(p) for p in parts)
    if raw_header is None or raw_body is None or raw_signature is None:
        return failed("jws")
    try:
        header = json.loads(raw_header)
    except ValueError:
        return failed("jws")
    if not isinstance(header, dict):
        return failed("jws")
    kid = header.get("kid") if isinstance(header.get("kid"), str) else None
    inflated = _inflate(raw_body, wbits=-15) if header.get("zip") == "DEF" else None
    try:  # JSON without NaN or infinities: the claims are answered as they are
        claims = (json.loads(inflated, parse_constant=_no_constant, parse_float=_finite)
                  if inflated is not None else None)
    except (ValueError, RecursionError):
        claims = None
    if not isinstance(claims, dict):
        if header.get("zip") != "DEF":
            return failed("header", "jws_header", kid=kid)
        return failed("jws", kid=kid)
    checks["jws"] = True
    iss = claims.get("iss") if isinstance(claims.get("iss"), str) else None
    nbf = claims.get("nbf")
    nbf = nbf if isinstance(nbf, (int, float)) and not isinstance(nbf, bool) \
        and math.isfinite(nbf) else None
    exp = claims.get("exp")
    exp = exp if isinstance(exp, (int, float)) and not isinstance(exp, bool) \
        and math.isfinite(exp) else None
    fields = dict(kid=kid, issuer=iss, payload=claims,
                  issued_at=_datetime(nbf), expires_at=_datetime(exp))
    reasons: list[str] = []
    checks["header"] = header.get("alg") == "ES256" and kid is not None
    if not checks["header"]:
        reasons.append("jws_header")

    keys = trust.issuer_keys(iss) if iss else None
    key = keys.get(kid) if keys and kid else None
    if keys is None:
        checks["signature"] = False
        reasons.append("unknown_issuer")
    elif key is None:
        checks["signature"] = False
        reasons.append("unknown_kid" if kid else "kid_missing")
    else:
        checks["signature"] = header.get("alg") == "ES256" and _jws_signature_ok(
            key.public_key, raw_signature, f"{parts[0]}.{parts[1]}".encode("ascii"))
        if not checks["signature"]:
            reasons.append("signature")

    checks["expiry"] = nbf is not None and nbf <= now and (exp is None or now <= exp)
    if nbf is None:
        reasons.append("jws")
    elif now < nbf:
        reasons.append("not_yet_valid")
    elif exp is not None and now > exp:
        reasons.append("expired")

    vc = claims.get("vc")
    rid = vc.get("rid") if isinstance(vc, dict) and isinstance(vc.get("rid"), str) else None
    if revoked and rid:
        gone = (revoked.revokes_rid(rid, nbf) if isinstance(revoked, RevocationList)
                else rid in revoked)
        checks["revocation"] = not gone
        if gone:
            reasons.append("revoked")
    return Result(not reasons, SHC, reason=reasons[0] if reasons else None, checks=checks,
                  **fields)


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400
        raise ValueError(f"{text} is beyond what JSON numbers carry")
    return value


def _jws_signature_ok(public_key, raw: bytes, data: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    der = _der_signature(raw)
    if der is None:
        return False
    try:
        public_key.verify(der, data, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return False
    return True


# --- JSON-safe values --------------------------------------------------------------------------

def _datetime(stamp) -> dt.datetime | None:
    if stamp is None:
        return None
    try:
        return dt.datetime.fromtimestamp(stamp, dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None


def jsonable(value, depth: int = 0):
    """``value`` (decoded CBOR or JSON) with only JSON types: bytes as base64, dates and
    times as ISO 8601 text (UTC, as the EU's test suite reads them), tags as their
    content, map keys as text, NaN and infinities as null."""
    import cbor2

    if depth > 64:
        return None
    if isinstance(value, Mapping):
        return {str(k): jsonable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v, depth + 1) for v in value]
    if isinstance(value, (str, bool, int)) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dt.datetime):
        value = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, cbor2.CBORTag):
        return jsonable(value.value, depth + 1)
    return None
