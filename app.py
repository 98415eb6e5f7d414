"""The application factory: configuration, database, sign-in, CSRF, rate limits, blueprints, CLI.

Run with ``flask --app app run``; every setting is a ``TRACORE_*`` name (see README).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

from flask import Config, Flask, g, request
from flask_wtf.csrf import CSRFError
from peewee import PeeweeException

from blueprints import api, auth, commands, pages, profile, workspaces
from extensions import csrf, limiter, login_manager
from tracore.models import User, db, holds_sealed_secrets, open_database
from tracore.queue import RunQueue, make_huey
from tracore.runs import RetryPolicy
from tracore.settings import Settings, fill_instance_defaults, load_config
from tracore.vault import MasterKeyError

ROOT = Path(__file__).resolve().parent
MAX_BODY_BYTES = 64 * 1024

log = logging.getLogger("tracore.request")


def _instance_path(test_config: dict[str, Any] | None) -> Path:
    chosen = (test_config or {}).get("TRACORE_INSTANCE_PATH") or os.environ.get(
        "TRACORE_INSTANCE_PATH"
    )
    return Path(chosen).resolve() if chosen else ROOT / "instance"


def _configure_logging() -> None:
    """One line per request on standard error; the dev server's own access log is silenced
    because it prints query strings."""
    root = logging.getLogger("tracore")
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.INFO)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    huey_log = logging.getLogger("huey")
    if not huey_log.handlers:  # the worker's own lines: task ids only, never arguments' secrets
        huey_log.addHandler(root.handlers[0])
        huey_log.setLevel(logging.INFO)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app. ``test_config`` overrides the instance file and the environment."""
    instance_path = _instance_path(test_config)
    instance_path.mkdir(parents=True, exist_ok=True)
    app = Flask(__name__, instance_path=str(instance_path), instance_relative_config=True)

    file_config = Config(str(instance_path))
    file_config.from_pyfile("config.py", silent=True)
    config = load_config(file_config, os.environ, test_config or {})
    new_master_key = fill_instance_defaults(config, instance_path)
    app.config.update(config)
    app.config.update(
        SECRET_KEY=config["TRACORE_SECRET_KEY"],
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config["TRACORE_SESSION_COOKIE_SECURE"],
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        RATELIMIT_STORAGE_URI=config["TRACORE_RATELIMIT_STORAGE_URI"],
    )
    # Flask's and the extensions' own settings (TESTING, RATELIMIT_ENABLED…) for tests.
    app.config.update(
        {k: v for k, v in (test_config or {}).items() if not k.startswith("TRACORE_")}
    )
    settings = Settings.from_config(config)
    app.extensions["tracore"] = settings
    app.extensions["tracore.queue"] = RunQueue(
        make_huey(config["TRACORE_QUEUE_URL"], config["TRACORE_QUEUE_NAME"]),
        settings,
        RetryPolicy(config["TRACORE_RUN_MAX_ATTEMPTS"], config["TRACORE_RUN_RETRY_DELAY"]),
    )
    db.initialize(open_database(config["TRACORE_DATABASE_URL"]))
    if new_master_key is not None:
        _refuse_new_master_key_over_sealed_data(new_master_key)

    _configure_logging()
    app.before_request(_before_request)  # first, so the request log times everything
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login_form"
    login_manager.user_loader(_load_user)
    login_manager.unauthorized_handler(pages.unauthorized)

    for blueprint in (auth.bp, pages.bp, profile.bp, workspaces.bp, api.bp):
        app.register_blueprint(blueprint)
    csrf.exempt(api.bp)  # bearer-token requests carry no cookie to forge
    commands.register(app)
    pages.register_error_pages(app)
    app.register_error_handler(CSRFError, pages.csrf_failed)

    app.after_request(_log_request)
    app.teardown_request(_close_database)
    return app


def _refuse_new_master_key_over_sealed_data(path: Path) -> None:
    """A master key generated now can't open what an earlier one sealed: if the database
    already holds sealed secrets, the old key was lost or misplaced. Say so and stop, rather
    than run with every stored key unreadable."""
    try:
        sealed = holds_sealed_secrets()
    except PeeweeException:  # the database isn't reachable yet; /healthz will say so
        return
    if sealed:
        path.unlink()
        raise MasterKeyError(
            f"{path} was missing, but the database holds keys sealed under a master key. "
            "Restore that file (or set TRACORE_ENCRYPTION_KEY to the master key) and start again."
        )


def _load_user(user_id: str) -> User | None:
    if not user_id.isdigit():
        return None
    return User.get_or_none(User.id == int(user_id))


def _before_request() -> None:
    g.started = time.perf_counter()
    db.connect(reuse_if_open=True)


def _log_request(response):
    """Method, path (never the query string), status and duration; no headers, no bodies."""
    elapsed = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
    log.info("%s %s %s %.1fms", request.method, request.path, response.status_code, elapsed)
    return response


def _close_database(_exc: BaseException | None) -> None:
    if not db.is_closed():
        db.close()
