"""/profile: the provider key cards. Test swaps the badge; everything else swaps the card."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import login_required

from tracore import accounts, keys
from tracore.errors import DomainError, NotFound, RateLimited

from . import provider_test_limit, retry_after_seconds, settings, signed_in_user

bp = Blueprint("profile", __name__, url_prefix="/profile")
bp.before_request(login_required(lambda: None))


def _card(provider_id: str, *, mode: str = "view", error: DomainError | None = None,
          status: int = 200, note: str | None = None):
    card = keys.key_card(settings(), signed_in_user(), provider_id)
    return render_template("_card.html", card=card, mode=mode, error=error, note=note), status


def _badge(provider_id: str, *, error: DomainError | None = None, status: int = 200):
    card = keys.key_card(settings(), signed_in_user(), provider_id)
    return render_template("_badge.html", card=card, error=error, retest=False), status


def _tokens(*, new_token: str | None = None, error: DomainError | None = None,
            status: int = 200):
    tokens = accounts.list_tokens(signed_in_user())
    return render_template("_tokens.html", tokens=tokens, new_token=new_token,
                           error=error), status


@bp.get("")
def show():
    user = signed_in_user()
    return render_template("profile.html", cards=keys.key_cards(settings(), user),
                           tokens=accounts.list_tokens(user))


@bp.post("/tokens")
def create_token():
    _row, token = accounts.create_token(signed_in_user(), request.form.get("name", ""))
    return _tokens(new_token=token)


@bp.delete("/tokens/<int:token_id>")
def revoke_token(token_id: int):
    accounts.revoke_token(signed_in_user(), token_id)
    return _tokens()


@bp.get("/keys/<provider>")
def card(provider: str):
    return _card(provider)


@bp.get("/keys/<provider>/form")
def key_form(provider: str):
    return _card(provider, mode="form")


@bp.post("/keys/<provider>")
@provider_test_limit()
def save_key(provider: str):
    keys.save_key(
        settings(), signed_in_user(), provider,
        request.form.get("key"), request.form.get("default_model") or None,
    )
    if request.headers.get("HX-Request") != "true":  # a plain form post: back to the page
        return redirect(url_for("profile.show"))
    return _card(provider)


@bp.put("/keys/<provider>/default-model")
def set_default_model(provider: str):
    keys.set_default_model(settings(), signed_in_user(), provider,
                           request.form.get("default_model"))
    return _card(provider, note="Default model saved.")


@bp.post("/keys/<provider>/test")
@provider_test_limit()
def test_key(provider: str):
    keys.retest_key(settings(), signed_in_user(), provider)
    return _badge(provider)


@bp.get("/keys/<provider>/remove")
def confirm_remove(provider: str):
    return _card(provider, mode="remove")


@bp.delete("/keys/<provider>")
def remove_key(provider: str):
    keys.remove_key(settings(), signed_in_user(), provider)
    return _card(provider)


@bp.errorhandler(DomainError)
@bp.errorhandler(429)
def key_error(error):
    """Render the error inside the element the request would have replaced."""
    if request.endpoint in ("profile.create_token", "profile.revoke_token"):
        if isinstance(error, NotFound):
            return render_template("error.html", title="Not found", message=error.message), 404
        return _tokens(error=error, status=error.status)
    provider = (request.view_args or {}).get("provider", "")
    if isinstance(error, NotFound) or settings().registry.get(provider) is None:
        message = error.message if isinstance(error, NotFound) else "There is nothing here."
        return render_template("error.html", title="Not found", message=message), 404
    headers = {}
    if not isinstance(error, DomainError):  # Flask-Limiter's RateLimitExceeded
        error = RateLimited(retry_after_seconds())
        headers["Retry-After"] = str(error.retry_after)
    if request.endpoint == "profile.test_key":
        body, status = _badge(provider, error=error, status=error.status)
    else:
        mode = "form" if request.endpoint == "profile.save_key" else "view"
        body, status = _card(provider, mode=mode, error=error, status=error.status)
    return body, status, headers
