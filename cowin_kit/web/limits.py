"""Per-address rate limits (flask-limiter), counted where cowin_kit.ratelimits says: Redis,
the database, or (one process only) memory.

Limits that guard the same thing share one scope, so that an attacker meets the documented
number in total, not once per endpoint: every way of sending a login code (the API's public
and partner generateOTP, the portal's login and resend forms) counts against OTP_PER_IP, and
every way of typing one against CONFIRM_PER_IP.

Retry-After goes only on answers that ask the client to wait (429, 503, and an API's throttled
403): flask-limiter's own headers put it on every answer of a limited endpoint, a success too,
and clients that honour it stalled (rate_limit_headers replaces them). On the API's login
endpoints a breach is the domain's throttling refusal (accounts.otp.OtpThrottled, see
api_throttled), answered in Co-WIN's JSON shape by the API's one error mapping; the portal's
pages keep their 429 page.
"""
import logging
import math
import time
from functools import wraps

from flask import request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address

from cowin_kit.accounts.otp import OtpThrottled
from cowin_kit.plugins.interfaces import N_
from cowin_kit.ratelimits import address_key

log = logging.getLogger("cowin_kit.security")

class AppLimiter(Limiter):
    """One limiter for the process (the views' decorators are bound to it), bound to each
    app by init_app with the storage of the app's settings. flask-limiter keeps some choices
    of the first app it was bound to (whether it is enabled, the key prefix, the storage
    options, swallowing store errors, the breach callback); a process that builds several
    apps (the tests, the CLI) must not carry one app's choices into the next, so each
    binding starts from the constructor's values."""

    def init_app(self, app) -> None:
        self.enabled = True
        self._storage_options = {}
        self._key_prefix = ""
        self._swallow_errors = None
        self._in_memory_fallback_enabled = False
        self._on_breach = None
        self._storage_dead = False
        super().init_app(app)
        app.after_request(rate_limit_headers)


def client_key() -> str:
    """The visitor's address as the limits count it (an IPv6 address by its /64)."""
    return address_key(get_remote_address())


# flask-limiter's headers are off: rate_limit_headers writes them, Retry-After only on waits.
limiter = AppLimiter(key_func=client_key, default_limits=[], headers_enabled=False)
WAITS = (429, 503)  # statuses that ask the client to come back later
# The one text of a 429, wherever it is answered (api.errors.MESSAGES[429] is this).
MSG_TOO_MANY = N_("Too many requests; wait and try again.")


def _seconds_to_reset(limit) -> int:
    return max(1, math.ceil(limit.reset_at - time.time()))


def rate_limit_headers(response):
    """X-RateLimit-Limit/-Remaining/-Reset of the request's tightest limit, as flask-limiter
    sent them; Retry-After only when the answer asks to wait (and then never shorter than
    the limit's window, nor than the wait the answer already gives)."""
    current = limiter.current_limit if limiter.enabled else None
    if current is None:
        return response
    try:
        reset_at = current.reset_at
        response.headers["X-RateLimit-Limit"] = str(current.limit.amount)
        response.headers["X-RateLimit-Remaining"] = str(current.remaining)
        response.headers["X-RateLimit-Reset"] = str(reset_at)
    except Exception:  # the store is down: no headers rather than no answer
        log.warning("rate limit headers left out: the limits' store did not answer")
        return response
    if current.breached and (response.status_code in WAITS
                             or "Retry-After" in response.headers):
        given = response.headers.get("Retry-After", "")
        wait = _seconds_to_reset(current)
        response.headers["Retry-After"] = str(max(wait, int(given) if given.isdigit() else 0))
    return response


OTP_PER_IP = "20 per minute;200 per hour"
CONFIRM_PER_IP = "60 per minute"

# Decorators: a view takes the one of what it does. Only POSTs count (a GET shows a form).
otp_sends = limiter.shared_limit(OTP_PER_IP, scope="otp-send", methods=["POST"])
otp_confirms = limiter.shared_limit(CONFIRM_PER_IP, scope="otp-confirm", methods=["POST"])
CAPTCHA_PER_IP = "30 per minute"
captcha_fetches = limiter.shared_limit(CAPTCHA_PER_IP, scope="captcha")


def api_throttled(limit):
    """``limit`` (one of the decorators above) for an API endpoint: a breach raises the
    domain's OtpThrottled, with Retry-After the seconds until the address's window ends, so
    that the API's one error mapping answers it (Co-WIN answered OTP throttling 403)."""
    def decorate(view):
        limited = limit(view)

        @wraps(view)
        def wrapper(*args, **kwargs):
            try:
                return limited(*args, **kwargs)
            except RateLimitExceeded:
                current = limiter.current_limit
                wait = _seconds_to_reset(current) if current is not None else 60
                raise OtpThrottled(MSG_TOO_MANY, retry_after=wait) from None
        return wrapper
    return decorate


def log_breach(request_limit) -> None:
    """flask-limiter's on-breach callback: a security log line (the address, not the body)."""
    log.warning("rate limit %s hit by %s at %s %s", request_limit.limit, request.remote_addr,
                request.method, request.endpoint)
