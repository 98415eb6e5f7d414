"""Home, health check, and the pages shown for errors (never with internals)."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from peewee import PeeweeException

from tracore.models import db
from tracore.vault import VaultError

bp = Blueprint("pages", __name__)
log = logging.getLogger("tracore.errors")


@bp.get("/")
def index():
    return redirect(url_for("profile.show" if current_user.is_authenticated else "auth.login_form"))


@bp.get("/healthz")
def healthz():
    """200 when the database answers; 503 otherwise. No sign-in needed."""
    try:
        db.execute_sql("SELECT 1")
    except PeeweeException:
        return jsonify(status="unavailable"), 503
    return jsonify(status="ok")


def _is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def unauthorized():
    """Signed out: htmx gets 401 + HX-Redirect (never a login page inside a card)."""
    login = url_for("auth.login_form")
    if request.path.startswith("/api/"):
        return jsonify(error={"code": "unauthorized", "message": "Sign in required."}), 401
    if _is_htmx():
        return "", 401, {"HX-Redirect": login}
    return redirect(url_for("auth.login_form", next=request.path))


def csrf_failed(error):
    if not current_user.is_authenticated and request.blueprint != "auth":
        return unauthorized()  # an expired session, not a forgery: send them to sign in
    message = "This form expired or was sent from elsewhere. Reload the page and try again."
    if _is_htmx():
        return render_template("_alert.html", code="csrf_failed", message=message), 400
    return render_template("error.html", title="Form expired", message=message), 400


def _page(title: str, message: str, status: int):
    return render_template("error.html", title=title, message=message), status


def register_error_pages(app) -> None:
    """Error pages for the browser, and the JSON envelope for anything under /api/."""
    from . import api

    pages = {
        404: ("Not found", "There is nothing here."),
        405: ("Not allowed", "That action isn't available here."),
        413: ("Too large", "That request is too large."),
        429: ("Slow down", "Too many requests — try again shortly."),
        500: ("Something went wrong", "The error was logged. Please try again."),
    }

    def http_error(error):
        if request.path.startswith("/api/"):
            return api.api_http_error(error)
        title, message = pages[error.code]
        return _page(title, message, error.code)

    for status in pages:
        app.register_error_handler(status, http_error)

    @app.errorhandler(VaultError)
    def vault_error(error):
        # The vault's messages never contain secrets, but say only what an operator needs.
        log.error("vault: %s", error)
        message = ("A stored secret can't be opened with this server's master key "
                   "(TRACORE_ENCRYPTION_KEY). Ask the operator to check it.")
        if request.path.startswith("/api/"):
            return api.error_response("key_unreadable", message, 500)
        return _page("Encryption key problem", message, 500)
