"""Flask extensions, created once and bound to an app in ``create_app``."""

from flask import current_app, request
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
login_manager = LoginManager()


def _ip_key() -> str:
    # The prefix lives in the key: the limiter outlives any one app (tests build many).
    return f"{current_app.config['TRACORE_RATELIMIT_KEY_PREFIX']}:ip:{request.remote_addr}"


limiter = Limiter(key_func=_ip_key, headers_enabled=True)
