"""The Example Republic's national ID number, verified online against its national registry.

The Example Republic is invented (its ISO 3166-1 code is the user-assigned ``XA``), but the
shape of this provider is the one a real ministry needs:

* offline checks: 9 digits, the last a Luhn check digit (``stdnum.luhn``);
* online verification: ``POST {EXAMPLE_REGISTRY_URL}/v1/verify`` with a JSON body
  ``{"id_number": "...", "name": "...", "birth_year": 1980}``; the registry answers
  ``{"result": "match" | "mismatch" | "not_found", "reference": "..."}``. The URL must be
  https, except on the loopback interface (the fake registry of the tests and demos).

Whatever goes wrong on the way (no URL configured, DNS, refused connection, timeout, a
non-2xx status, an answer that is not that JSON) gives ``VerificationResult("unavailable",
reason)``: ``verify`` never raises, and a walk-in is never blocked by the registry.

Neither the number nor the name is ever logged: only the outcome and the HTTP status.

>>> p = RegistryNationalId()
>>> p.validate("123 456 782")
'123456782'
>>> p.validate("123456781")
Traceback (most recent call last):
cowin_kit.toolkit.InvalidIdNumber: The number's check digit does not match: ...
>>> p.mask("123456782")
'XXXXXX782'
"""
from __future__ import annotations

import json
import logging
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from stdnum import luhn

from cowin_kit.toolkit import N_, IdClaims, InvalidIdNumber, RegexProvider, VerificationResult

log = logging.getLogger(__name__)

#: The name of the setting (and of the environment variable) holding the registry's base URL.
URL_SETTING = "EXAMPLE_REGISTRY_URL"
VERIFY_PATH = "/v1/verify"
#: Answers larger than this are not from our registry; refuse them rather than read them.
MAX_ANSWER_BYTES = 64 * 1024
MAX_REFERENCE_CHARS = 100

#: Hosts that may be reached over plain http (the fake registry); all others need https.
LOOPBACK = ("127.0.0.1", "::1", "localhost")

# The registry's words, mapped to the kit's statuses (cowin_kit.toolkit.VERIFY_STATUSES).
RESULTS = {"match": "verified", "mismatch": "mismatch", "not_found": "not_found"}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A registry API does not redirect; following one would send our headers (and, with
    authentication added, our credentials) to wherever the redirect points."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # urllib then raises HTTPError for the 3xx: "unavailable"


_opener = urllib.request.build_opener(_NoRedirect)


class RegistryNationalId(RegexProvider):
    """The Example Republic's national ID card number: 9 digits, the last a Luhn check digit.

    Source: invented for this example. People type it with spaces or hyphens in groups of
    three ("123 456 782"), which ``normalize`` strips.
    """

    code = "example.national-id"
    country = "XA"  # ISO 3166-1 user-assigned: no real country has it
    name = N_("National identity card (Example Republic)")
    hint = N_("The 9 digits on the front of the card; spaces and hyphens are ignored.")
    example = "123456782"
    lengths = (9,)
    pattern = r"[0-9]{9}"
    checksum = staticmethod(luhn.is_valid)
    can_verify = True

    # -- configuration ---------------------------------------------------------------

    def registry_url(self) -> str:
        """The registry's base URL: the plugin setting ``example_registry_url`` (the
        ``[plugins]`` table of cowin-kit.toml, or COWIN_KIT_PLUGIN_EXAMPLE_REGISTRY_URL),
        else the environment variable EXAMPLE_REGISTRY_URL, else ""."""
        value: Any = None
        # cowin-kit Settings have .plugin(); a plain dict (tests, scripts) has .get().
        getter = (getattr(self.settings, "plugin", None)
                  or getattr(self.settings, "get", None))  # None offline
        if callable(getter):
            try:
                value = getter(URL_SETTING)
            except Exception:  # an odd settings object must not break verification
                value = None
        if not value:
            value = os.environ.get(URL_SETTING, "")
        return str(value).strip().rstrip("/")

    # -- online verification -----------------------------------------------------------

    def verify(self, number: str, claims: IdClaims, timeout: float) -> VerificationResult:
        try:
            result, http_status = self._verify(number, claims, timeout)
        except Exception as exc:  # the contract: never raise, whatever happened
            result, http_status = VerificationResult("unavailable", reason="error"), None
            log.warning("registry verification failed unexpectedly: %s", type(exc).__name__)
        # The outcome and the HTTP status only: never the number, the name or the answer body.
        if result.status == "unavailable":
            reason = result.reason  # our own words (see _verify), never the registry's
            if http_status and reason != f"HTTP {http_status}":
                reason = f"{reason}, HTTP {http_status}"
            log.warning("registry verification: unavailable (%s)", reason)
        else:
            log.info("registry verification: %s (HTTP %s)", result.status, http_status)
        return result

    def _verify(self, number: str, claims: IdClaims,
                timeout: float) -> tuple[VerificationResult, int | None]:
        try:
            number = self.validate(number)
        except InvalidIdNumber:
            # No such number can exist, so no such person: do not bother the registry.
            return VerificationResult("not_found", ""), None
        base = self.registry_url()
        if not base:
            return VerificationResult("unavailable", reason="registry URL not configured"), None
        parts = urllib.parse.urlsplit(base)
        if parts.scheme not in ("http", "https"):
            return VerificationResult("unavailable", reason="registry URL is not http(s)"), None
        if parts.scheme == "http" and parts.hostname not in LOOPBACK:
            # Names and ID numbers never cross a network in clear.
            return VerificationResult("unavailable", reason="registry URL must use https"), None
        if not timeout or timeout <= 0:
            return VerificationResult("unavailable", reason="timeout"), None

        deadline = time.monotonic() + timeout
        body = json.dumps({
            "id_number": number,
            "name": claims.name,
            "birth_year": claims.birth_year,
        }).encode("utf-8")
        request = urllib.request.Request(
            base + VERIFY_PATH, data=body, method="POST",
            headers={"Content-Type": "application/json", "Accept": "application/json",
                     "User-Agent": "cowin-kit-example-registry/0.1"},
        )
        # A real registry needs authentication here: see the README ("Adapting it").
        try:
            # urllib's timeout bounds each blocking step (connect, each read), not the
            # whole exchange; the deadline check below catches a registry that trickles.
            with _opener.open(request, timeout=timeout) as response:
                http_status = response.status
                raw = response.read(MAX_ANSWER_BYTES + 1)
        except urllib.error.HTTPError as exc:  # non-2xx, including a refused redirect
            exc.close()
            return VerificationResult("unavailable", reason=f"HTTP {exc.code}"), exc.code
        except TimeoutError:
            return VerificationResult("unavailable", reason="timeout"), None
        except urllib.error.URLError as exc:
            reason = "timeout" if isinstance(exc.reason, TimeoutError) else "connection failed"
            return VerificationResult("unavailable", reason=reason), None
        except OSError:  # reset or closed mid-answer (RemoteDisconnected is one too)
            return VerificationResult("unavailable", reason="connection failed"), None
        except Exception:  # http.client.HTTPException (a garbled status line) and the like
            return VerificationResult("unavailable", reason="bad HTTP answer"), None
        if time.monotonic() > deadline:
            return VerificationResult("unavailable", reason="timeout"), http_status
        if not 200 <= http_status < 300:  # 1xx are handled by http.client; 3xx are refused
            return VerificationResult("unavailable", reason=f"HTTP {http_status}"), http_status
        return self._read_answer(raw), http_status

    @staticmethod
    def _read_answer(raw: bytes) -> VerificationResult:
        malformed = VerificationResult("unavailable", reason="malformed answer")
        if len(raw) > MAX_ANSWER_BYTES:
            return malformed
        try:
            answer = json.loads(raw)
        except (ValueError, RecursionError):
            return malformed
        if not isinstance(answer, dict) or not isinstance(answer.get("result"), str) \
                or answer["result"] not in RESULTS:
            return malformed
        reference = answer.get("reference", "")
        if reference is None:
            reference = ""
        if (not isinstance(reference, str) or len(reference) > MAX_REFERENCE_CHARS
                or not reference.isprintable()):
            return malformed
        return VerificationResult(RESULTS[answer["result"]], reference)
