"""Per-address rate limits (flask-limiter), counted where cowin_kit.ratelimits says: Redis,
the database, or (one process only) memory.

Limits that guard the same thing share one scope, so that an attacker meets the documented
number in total, not once per endpoint: every way of sending a login code (the API's public
and partner generateOTP, the portal's login and resend forms) counts against OTP_PER_IP, and
every way of typing one against CONFIRM_PER_IP.
"""
import logging

from flask import request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

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


def client_key() -> str:
    """The visitor's address as the limits count it (an IPv6 address by its /64)."""
    return address_key(get_remote_address())


limiter = AppLimiter(key_func=client_key, default_limits=[], headers_enabled=True)

OTP_PER_IP = "20 per minute;200 per hour"
CONFIRM_PER_IP = "60 per minute"

# Decorators: a view takes the one of what it does. Only POSTs count (a GET shows a form).
otp_sends = limiter.shared_limit(OTP_PER_IP, scope="otp-send", methods=["POST"])
otp_confirms = limiter.shared_limit(CONFIRM_PER_IP, scope="otp-confirm", methods=["POST"])


def log_breach(request_limit) -> None:
    """flask-limiter's on-breach callback: a security log line (the address, not the body)."""
    log.warning("rate limit %s hit by %s at %s %s", request_limit.limit, request.remote_addr,
                request.method, request.endpoint)
