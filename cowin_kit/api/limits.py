"""Per-IP rate limits (flask-limiter): Redis when REDIS_URL is set, memory otherwise."""
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

# Bound to each app by init_app; the storage comes from the app's settings.
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)

OTP_PER_IP = "20 per minute;200 per hour"
CONFIRM_PER_IP = "60 per minute"
