"""What every answer tells the browser to protect people, and a session cookie its holder
cannot read.

The headers: pages run only the kit's own scripts and styles (Content-Security-Policy, no
inline code anywhere), are never framed (clickjacking), send no address to other sites
(personal data sits in some URLs), and are not sniffed into another type. HSTS goes out only
on HTTPS answers, for HSTS_SECONDS.

The session: Flask's default cookie is signed but readable (base64 of JSON); the portal keeps
a citizen's bearer token and mobile number in it. Here the whole session is encrypted and
authenticated (Fernet) with a key derived from SECRET_KEY, so the cookie shows nothing, and a
tampered, truncated or expired one is an empty session: a logged-out visitor, never an error.
"""
from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature

from cowin_kit.runtime import deployment

# Pages: only files served by this deployment. The inline QR code is SVG markup with
# presentation attributes, which CSP does not restrict.
PAGE_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
# Everything else (JSON, PDF, CSS): nothing in it may load or run anything, nor be framed.
OTHER_POLICY = "default-src 'none'; frame-ancestors 'none'"
# Same-origin pages keep the full referrer (flask-wtf's CSRF check needs it over HTTPS);
# other sites get none: search and appointment addresses hold personal data.
REFERRER_POLICY = "same-origin"


def protective_headers(response):
    """after_request hook: the headers above on every answer (a view may set its own)."""
    headers = response.headers
    html = response.mimetype == "text/html"
    headers.setdefault("Content-Security-Policy", PAGE_POLICY if html else OTHER_POLICY)
    headers.setdefault("X-Frame-Options", "DENY")  # for browsers without frame-ancestors
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", REFERRER_POLICY)
    seconds = deployment().settings["HSTS_SECONDS"]
    # Over HTTP browsers ignore it; behind a TLS proxy is_secure needs PROXY_FIX_HOPS.
    if seconds and request.is_secure:
        headers.setdefault("Strict-Transport-Security", f"max-age={seconds}")
    return response


# --- the encrypted session cookie ------------------------------------------------------------

_KEY_INFO = b"cowin-kit session cookie v1"  # a key of its own, not the one that signs CSRF


def cookie_fernet(secret_keys: list[str]) -> MultiFernet:
    """The cookie cipher: encrypts with the first key, opens cookies of any (key rotation)."""
    def derive(secret: str) -> Fernet:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                   info=_KEY_INFO).derive(secret.encode("utf-8"))
        return Fernet(base64.urlsafe_b64encode(key))

    return MultiFernet([derive(k) for k in secret_keys])


class _EncryptingSerializer:
    """The dumps/loads pair Flask's cookie session expects, with Fernet inside."""

    def __init__(self, fernet: MultiFernet, serializer):
        self.fernet, self.serializer = fernet, serializer

    def dumps(self, data) -> str:
        return self.fernet.encrypt(self.serializer.dumps(data).encode("utf-8")).decode("ascii")

    def loads(self, value: str, max_age: int | None = None):
        try:
            clear = self.fernet.decrypt(value.encode("ascii"), ttl=max_age)
            return self.serializer.loads(clear.decode("utf-8"))
        except (InvalidToken, ValueError, TypeError, KeyError):  # forged, cut, old or odd
            raise BadSignature("not a session cookie of this deployment") from None


class EncryptedSessionInterface(SecureCookieSessionInterface):
    """Flask's cookie session (same cookie flags, expiry and refresh), encrypted."""

    def __init__(self):
        self._ciphers: dict[tuple[str, ...], MultiFernet] = {}

    def get_signing_serializer(self, app: Flask):
        if not app.secret_key:
            return None
        keys = (str(app.secret_key), *map(str, app.config.get("SECRET_KEY_FALLBACKS") or ()))
        if keys not in self._ciphers:
            self._ciphers[keys] = cookie_fernet(list(keys))
        return _EncryptingSerializer(self._ciphers[keys], self.serializer)
