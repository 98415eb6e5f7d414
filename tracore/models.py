"""Peewee models, the database proxy and the schema migrations.

Times are naive UTC datetimes throughout (``utcnow()``), rendered as ISO 8601 with ``Z``.
Sealed secrets are bytes; no column ever holds a plaintext key.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

from peewee import (
    AutoField,
    BlobField,
    BooleanField,
    CharField,
    DatabaseProxy,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)
from playhouse.db_url import connect

db = DatabaseProxy()

SQLITE_PRAGMAS = {"foreign_keys": 1, "journal_mode": "wal", "busy_timeout": 5000}


def utcnow() -> dt.datetime:
    """Now, as the naive UTC datetime every column stores."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


MAX_ID = 2**63 - 1  # the largest id any supported database stores


def valid_id(value: int) -> bool:
    """Whether ``value`` can be an id at all (a larger one would overflow the driver)."""
    return 0 < value <= MAX_ID


def open_database(url: str):
    """A database for ``url``: SQLite (with foreign keys and WAL) or PostgreSQL."""
    if url.startswith("sqlite"):
        return connect(url, pragmas=SQLITE_PRAGMAS, check_same_thread=False)
    return connect(url)


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


class SchemaVersion(BaseModel):
    version = IntegerField()
    applied_at = DateTimeField(default=utcnow)


class User(BaseModel):
    id = AutoField()
    email = CharField(max_length=254, unique=True)
    password_hash = CharField(max_length=255)
    created_at = DateTimeField(default=utcnow)

    # Flask-Login's protocol, kept here so the domain model needs no Flask import.
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return str(self.id)


class ApiToken(BaseModel):
    id = AutoField()
    user = ForeignKeyField(User, backref="api_tokens", on_delete="CASCADE")
    name = CharField(max_length=100)
    token_hash = CharField(max_length=64, unique=True)  # SHA-256 hex; the token is never kept
    created_at = DateTimeField(default=utcnow)
    last_used_at = DateTimeField(null=True)
    revoked_at = DateTimeField(null=True)


class ProviderKey(BaseModel):
    id = AutoField()
    user = ForeignKeyField(User, backref="provider_keys", on_delete="CASCADE")
    provider = CharField(max_length=32)
    sealed_key = BlobField()
    key_hint = CharField(max_length=8)
    default_model = CharField(max_length=100)
    # "accepted" or "rejected": the outcome of the last conclusive test.
    last_result = CharField(max_length=16, null=True)
    last_tested_at = DateTimeField(null=True)  # last conclusive test
    last_success_at = DateTimeField(null=True)
    last_attempt_at = DateTimeField(null=True)  # any test, transient ones included
    last_error = TextField(null=True)
    last_attempt_transient = BooleanField(default=False)  # the last test reached no verdict
    available_models_json = TextField(null=True)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("user", "provider"), True),)

    @property
    def available_models(self) -> list[str] | None:
        if self.available_models_json is None:
            return None
        return json.loads(self.available_models_json)

    @staticmethod
    def encode_models(models: list[str]) -> str:
        return json.dumps(models)

    def __repr__(self) -> str:
        return f"<ProviderKey {self.provider} user={self.user_id} hint={self.key_hint}>"


class Workspace(BaseModel):
    id = AutoField()
    owner = ForeignKeyField(User, backref="workspaces", on_delete="CASCADE")
    slug = CharField(max_length=64)
    name = CharField(max_length=100)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("owner", "slug"), True),)


class Environment(BaseModel):
    id = AutoField()
    workspace = ForeignKeyField(Workspace, backref="environments", on_delete="CASCADE")
    slug = CharField(max_length=64)
    name = CharField(max_length=100)
    provider_key = ForeignKeyField(
        ProviderKey, backref="environments", null=True, on_delete="SET NULL"
    )
    model = CharField(max_length=100, null=True)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("workspace", "slug"), True),)


class Run(BaseModel):
    id = AutoField()
    user = ForeignKeyField(User, backref="runs", on_delete="CASCADE")
    environment = ForeignKeyField(Environment, backref="runs", null=True, on_delete="SET NULL")
    workspace_slug = CharField(max_length=64)
    environment_slug = CharField(max_length=64)
    status = CharField(max_length=16, default="queued")
    provider = CharField(max_length=32)
    model = CharField(max_length=100)
    uses_system_key = BooleanField(default=False)
    key_hint = CharField(max_length=8, null=True)
    sealed_key = BlobField(null=True)  # erased when the run finishes
    input = TextField()
    output = TextField(null=True)
    error = TextField(null=True)
    attempts = IntegerField(default=0)
    created_at = DateTimeField(default=utcnow)
    started_at = DateTimeField(null=True)
    finished_at = DateTimeField(null=True)


class AuditEvent(BaseModel):
    """Who did what to which provider key, and when. Never key material."""

    id = AutoField()
    user = ForeignKeyField(User, backref="audit_events", on_delete="CASCADE")
    action = CharField(max_length=32)
    provider = CharField(max_length=32, null=True)
    created_at = DateTimeField(default=utcnow)


ALL_MODELS = (User, ApiToken, ProviderKey, Workspace, Environment, Run, AuditEvent)


def _create_initial_schema() -> None:
    db.create_tables(ALL_MODELS, safe=True)


# Each entry upgrades the schema from version N-1 to N. Append; never edit a released one.
MIGRATIONS: tuple[tuple[int, Callable[[], None]], ...] = ((1, _create_initial_schema),)
SCHEMA_VERSION = MIGRATIONS[-1][0]


def current_schema_version() -> int:
    """The version recorded in the database, 0 for an empty database."""
    if not db.table_exists(SchemaVersion._meta.table_name):
        return 0
    latest = SchemaVersion.select().order_by(SchemaVersion.version.desc()).first()
    return latest.version if latest else 0


def migrate() -> tuple[int, int]:
    """Create or upgrade the schema; safe to run again. Returns (from, to) versions."""
    with db.atomic():
        db.create_tables([SchemaVersion], safe=True)
        start = current_schema_version()
        for version, step in MIGRATIONS:
            if version > start:
                step()
                SchemaVersion.create(version=version)
    return start, SCHEMA_VERSION


def holds_sealed_secrets() -> bool:
    """Whether any provider key or run snapshot is stored (sealed under some master key)."""
    with db.connection_context():
        if not db.table_exists(ProviderKey._meta.table_name):
            return False
        return (ProviderKey.select().exists()
                or Run.select().where(Run.sealed_key.is_null(False)).exists())


def drop_schema() -> None:
    """Drop every table (tests only)."""
    db.drop_tables([*ALL_MODELS, SchemaVersion], safe=True)
