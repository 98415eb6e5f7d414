"""Fixtures: a fresh app and database per test, a signed-in browser-like client, canaries.

The database is SQLite in a temporary folder, or PostgreSQL when TRACORE_TEST_DATABASE_URL
names a server: the run then creates its own database there and drops it at the end. The
rate-limit storage is memory, or Redis when TRACORE_TEST_REDIS_URL is set (for the tests
that ask for it), with a key prefix of its own.
"""

from __future__ import annotations

import os
import re
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest
import responses

from app import create_app
from tests.processes import start_worker
from tests.stub_provider import Served, serve_stub
from tracore.models import db, drop_schema, migrate

IN_CI = bool(os.environ.get("CI"))
TEST_DATABASE_URL = os.environ.get("TRACORE_TEST_DATABASE_URL", "")
TEST_REDIS_URL = os.environ.get("TRACORE_TEST_REDIS_URL", "")
RUN_ID = uuid.uuid4().hex[:10]

CANARY = "sk-canary-" + "Zq7Xw3Vb9Nm2Lk8Jh5Gf4Dp1"  # a key whose every appearance is a leak


# Rate-limit storages every limiter test runs on: memory always, Redis when one is named.
RATELIMIT_STORAGES = ["memory://"] + ([TEST_REDIS_URL] if TEST_REDIS_URL else [])
# Run-queue storages the worker tests run on: SQLite always, Redis when one is named.
QUEUE_STORAGES = ["sqlite"] + ([TEST_REDIS_URL] if TEST_REDIS_URL else [])


def require_or_skip(available: bool, reason: str) -> None:
    """Skip when a tool is missing — except in CI, where a missing tool is a failure."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"CI must not skip: {reason}")
    pytest.skip(reason)


# --- database ------------------------------------------------------------------------------

def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


@pytest.fixture(scope="session")
def postgres_url():
    """A database of this test run's own on the configured PostgreSQL server, dropped after."""
    if not TEST_DATABASE_URL:
        yield None
        return
    import psycopg2

    name = f"tracore_test_{RUN_ID}"
    admin = psycopg2.connect(TEST_DATABASE_URL)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_database(TEST_DATABASE_URL, name)
    finally:
        db.close() if not db.is_closed() else None
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    """Tests see only the configuration they set, never the developer's shell."""
    for name in list(os.environ):
        if name.startswith("TRACORE_") and not name.startswith("TRACORE_TEST_"):
            monkeypatch.delenv(name)


@pytest.fixture
def make_app(tmp_path, postgres_url):
    """Build an app on a fresh schema; extra config overrides the test defaults.

    Each app gets a rate-limit key prefix of its own, so no budget leaks between tests;
    keys it left in Redis are deleted afterwards.
    """
    made = []

    def build(**config):
        database_url = postgres_url or f"sqlite:///{tmp_path / 'tracore.db'}"
        defaults = {
            "TESTING": True,
            "TRACORE_INSTANCE_PATH": str(tmp_path / "instance"),
            "TRACORE_DATABASE_URL": database_url,
            "TRACORE_RATELIMIT_STORAGE_URI": "memory://",
            "TRACORE_RATELIMIT_KEY_PREFIX": f"tracore-test-{RUN_ID}-{uuid.uuid4().hex[:8]}",
            "TRACORE_PROVIDER_TIMEOUT": "2",
            "TRACORE_SYSTEM_MISTRAL_API_KEY": "system-mistral-key-0000",
        }
        app = create_app({**defaults, **config})
        with app.app_context():
            if not made:
                drop_schema()
            migrate()
        made.append(app)
        return app

    yield build
    for app in made:
        if app.config["TRACORE_QUEUE_URL"].startswith("redis"):
            app.extensions["tracore.queue"].huey.storage.flush_all()
        if app.config["TRACORE_RATELIMIT_STORAGE_URI"].startswith("redis"):
            _delete_redis_keys(app.config["TRACORE_RATELIMIT_STORAGE_URI"],
                               app.config["TRACORE_RATELIMIT_KEY_PREFIX"])
    if made:
        db.connect(reuse_if_open=True)
        drop_schema()
        db.close()


def _delete_redis_keys(url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    for key in client.scan_iter(match=f"*{prefix}*"):
        client.delete(key)
    client.close()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def settings(app):
    """The domain settings of the test's app (registry, vault, timeouts)."""
    return app.extensions["tracore"]


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# --- provider HTTP boundary -------------------------------------------------------------------

@pytest.fixture(autouse=True)
def provider_http(request):
    """Every outgoing HTTP call in a unit test goes to `responses`; unregistered calls fail."""
    if request.node.get_closest_marker("e2e"):
        yield None
        return
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        # Servers this test started itself (the app, the provider stub) are reached for real.
        mock.add_passthru(re.compile(r"http://127\.0\.0\.1:\d+/"))
        yield mock


# --- live servers ---------------------------------------------------------------------------

@pytest.fixture
def stub():
    """The provider stub, served over HTTP on 127.0.0.1."""
    stub, served = serve_stub()
    yield stub
    served.stop()


@pytest.fixture
def live_app(make_app, stub):
    """An app whose providers are the stub."""
    return make_app(**stub.config())


@pytest.fixture
def live_url(live_app):
    """The app served over HTTP on 127.0.0.1."""
    served = Served(live_app)
    yield served.url
    served.stop()


# --- a browser-like client ------------------------------------------------------------------

class Browser:
    """The Flask test client plus what a browser would do: CSRF token, htmx headers."""

    def __init__(self, client):
        self.client = client
        self.csrf = None

    def _refresh_csrf(self, html: str) -> None:
        found = re.search(r'"X-CSRFToken": "([^"]+)"', html) or re.search(
            r'name="csrf_token" value="([^"]+)"', html
        )
        if found:
            self.csrf = found.group(1)

    def get(self, url, **kwargs):
        response = self.client.get(url, **kwargs)
        if response.mimetype == "text/html":
            self._refresh_csrf(response.get_data(as_text=True))
        return response

    def form(self, url, data=None, **kwargs):
        """A classic form post (with the hidden csrf_token field)."""
        if self.csrf is None:
            self.get("/login")
        return self.client.post(url, data={"csrf_token": self.csrf, **(data or {})}, **kwargs)

    def hx(self, method, url, data=None, **kwargs):
        """An htmx request: HX-Request and the X-CSRFToken header from <body hx-headers>."""
        if self.csrf is None:
            self.get("/profile")
        headers = {
            "HX-Request": "true", "X-CSRFToken": self.csrf or "", **kwargs.pop("headers", {})
        }
        return self.client.open(url, method=method, data=data, headers=headers, **kwargs)

    def register(self, email="ada@example.com", password="correct horse battery"):
        self.get("/register")
        response = self.form("/register", {"email": email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        self.get("/profile")
        return response


@pytest.fixture
def visitor(app):
    return Browser(app.test_client())


@pytest.fixture
def signed_in(visitor):
    visitor.register()
    return visitor


@pytest.fixture
def other_user(app):
    other = Browser(app.test_client())
    other.register(email="mallory@example.com")
    return other


# --- what is at rest --------------------------------------------------------------------------

def stored_text() -> str:
    """Everything the database holds, as text, to search for leaked secrets.

    SQLite: the raw bytes of the database file and its WAL. PostgreSQL: every row of every
    table as JSON (binary columns appear as hex, so callers search for both forms).
    """
    from tracore.models import ALL_MODELS

    database = db.obj
    if database.__class__.__name__.startswith("Sqlite"):
        path = database.database
        chunks = []
        for suffix in ("", "-wal"):
            if os.path.exists(path + suffix):
                with open(path + suffix, "rb") as handle:
                    chunks.append(handle.read().decode("latin-1"))
        return "\n".join(chunks)
    rows = []
    for model in ALL_MODELS:
        table = model._meta.table_name
        cursor = database.execute_sql(f'SELECT row_to_json(t)::text FROM "{table}" t')
        rows.extend(r[0] for r in cursor.fetchall())
    return "\n".join(rows)


def assert_not_stored(secret: str) -> None:
    text = stored_text()
    assert secret not in text
    assert secret.encode().hex() not in text


# --- the worker process ---------------------------------------------------------------------

@pytest.fixture
def worker(live_app):
    """A worker process for the live app, stopped (SIGINT) after the test."""
    import signal

    process = start_worker(live_app)
    yield process
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=20)
