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


def register_error_pages(app) -> None:
    @app.errorhandler(404)
    def not_found(_error):
        return render_template("error.html", title="Not found",
                               message="There is nothing here."), 404

    @app.errorhandler(405)
    def method_not_allowed(_error):
        return render_template("error.html", title="Not allowed",
                               message="That action isn't available here."), 405

    @app.errorhandler(413)
    def too_large(_error):
        return render_template("error.html", title="Too large",
                               message="That request is too large."), 413

    @app.errorhandler(429)
    def too_many(_error):
        return render_template("error.html", title="Slow down",
                               message="Too many requests — try again shortly."), 429

    @app.errorhandler(VaultError)
    def vault_error(error):
        # The vault's messages never contain secrets, but say only what an operator needs.
        log.error("vault: %s", error)
        return render_template(
            "error.html", title="Encryption key problem",
            message="A stored secret can't be opened with this server's master key "
                    "(TRACORE_ENCRYPTION_KEY). Ask the operator to check it."), 500

    @app.errorhandler(500)
    def server_error(_error):
        return render_template("error.html", title="Something went wrong",
                               message="The error was logged. Please try again."), 500
