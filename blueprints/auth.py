"""Register, sign in, sign out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user

from extensions import limiter
from tracore import accounts
from tracore.errors import ValidationError

from . import rate_key, retry_after_seconds

bp = Blueprint("auth", __name__)

GENERIC_LOGIN_ERROR = "That email and password don't match an account."


def _login_limit() -> str:
    return current_app.config["TRACORE_LOGIN_LIMIT"]


def _email_key() -> str:
    return rate_key("login-email:" + accounts.normalise_email(request.form.get("email", "")))


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths; anything else lands on the profile."""
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("profile.show")


def _signup_allowed() -> bool:
    return bool(current_app.config["TRACORE_ALLOW_SIGNUP"])


@bp.get("/register")
def register_form():
    if not _signup_allowed():
        abort(404)
    return render_template("register.html")


@bp.post("/register")
@limiter.limit(_login_limit, scope="register-ip")
def register():
    if not _signup_allowed():
        abort(404)
    email = request.form.get("email", "")
    try:
        user = accounts.create_user(email, request.form.get("password", ""))
    except ValidationError as error:
        return render_template(
            "register.html", error=error.message, error_code=error.code, email=email
        ), 422
    login_user(user)
    return redirect(url_for("profile.show"))


@bp.get("/login")
def login_form():
    if current_user.is_authenticated:
        return redirect(url_for("profile.show"))
    return render_template("login.html", next=request.args.get("next", ""))


@bp.post("/login")
@limiter.limit(_login_limit, scope="login-ip")
@limiter.limit(_login_limit, key_func=_email_key, scope="login-email")
def login():
    email = request.form.get("email", "")
    user = accounts.authenticate(email, request.form.get("password", ""))
    if user is None:
        return render_template(
            "login.html", error=GENERIC_LOGIN_ERROR, error_code="invalid_credentials", email=email,
            next=request.form.get("next", ""),
        ), 401
    login_user(user)
    return redirect(_safe_next(request.form.get("next")))


@bp.get("/logout")
def logout_form():
    return render_template("logout.html")


@bp.post("/logout")
def logout():
    logout_user()
    return redirect(url_for("auth.login_form"))


@bp.errorhandler(429)
def too_many_attempts(error):
    """Throttled sign-in or registration: the same page, with how long to wait."""
    retry_after = retry_after_seconds()
    template = "register.html" if request.endpoint == "auth.register" else "login.html"
    message = f"Too many attempts — try again in {retry_after} s."
    response = current_app.make_response(
        (
            render_template(
                template, error=message, error_code="rate_limited",
                email=request.form.get("email", ""),
            ),
            429,
        )
    )
    response.headers["Retry-After"] = str(retry_after)
    return response
