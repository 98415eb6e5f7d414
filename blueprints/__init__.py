"""HTTP layers: each view parses input, calls one domain function and renders."""

from __future__ import annotations

import time

from flask import current_app, g
from flask_login import current_user

from extensions import limiter
from tracore.keys import PROVIDER_TEST_LIMIT, PROVIDER_TEST_SCOPE
from tracore.settings import Settings


def settings() -> Settings:
    """The domain settings built for this app."""
    return current_app.extensions["tracore"]


def signed_in_user():
    """The signed-in browser user or the API token's user, whichever this request carries."""
    return g.get("api_user") or current_user._get_current_object()


def rate_key(name: str) -> str:
    """A rate-limit bucket name under this deployment's key prefix (shared stores)."""
    return f"{current_app.config['TRACORE_RATELIMIT_KEY_PREFIX']}:{name}"


def user_rate_key() -> str:
    """Rate-limit bucket per user, shared by the UI and the API."""
    user = signed_in_user()
    return rate_key(f"user:{user.id}" if user and user.is_authenticated else "anonymous")


def retry_after_seconds() -> int:
    """Whole seconds until the breached rate-limit window resets (at least 1)."""
    current = limiter.current_limit
    if current is None:
        return 60
    return max(1, current.reset_at - int(time.time()))


def _signed_out() -> bool:
    user = signed_in_user()
    return not (user and user.is_authenticated)


def provider_test_limit(exempt_when=None):
    """The per-user ``provider-test`` budget (SPEC §4.3), for any route that calls a provider.

    ``exempt_when`` lets a route that only sometimes calls a provider spend only then.
    """
    return limiter.shared_limit(
        PROVIDER_TEST_LIMIT,
        scope=PROVIDER_TEST_SCOPE,
        key_func=user_rate_key,
        exempt_when=(lambda: _signed_out() or bool(exempt_when and exempt_when())),
    )
