"""The data model: sealed secrets at rest, scoped uniqueness, and the schema version."""

import pytest
from peewee import IntegrityError

from tests.conftest import CANARY, assert_not_stored, stored_text
from tracore.models import ProviderKey, User, Workspace, db
from tracore.vault import key_context


def test_a_sealed_canary_never_appears_in_the_database(app):
    vault = app.extensions["tracore"].vault
    user = User.create(email="a@example.com", password_hash="x")
    ProviderKey.create(
        user=user, provider="openai", key_hint="…" + CANARY[-4:], default_model="gpt-4o-mini",
        sealed_key=vault.seal(CANARY, key_context(user.id, "openai")),
    )
    db.close()
    assert "openai" in stored_text()  # the search does see the rows
    assert_not_stored(CANARY)
    stored = ProviderKey.get().sealed_key
    assert vault.open_sealed(stored, key_context(user.id, "openai")) == CANARY


def test_one_key_per_user_and_provider(app):
    user = User.create(email="a@example.com", password_hash="x")
    fields = {"user": user, "provider": "openai", "key_hint": "…abcd",
              "default_model": "gpt-4o-mini", "sealed_key": b"x"}
    ProviderKey.create(**fields)
    with pytest.raises(IntegrityError), db.atomic():
        ProviderKey.create(**fields)


def test_workspace_slugs_are_unique_per_owner_only(app):
    ada = User.create(email="ada@example.com", password_hash="x")
    bob = User.create(email="bob@example.com", password_hash="x")
    Workspace.create(owner=ada, slug="acme", name="Acme")
    Workspace.create(owner=bob, slug="acme", name="Acme")
    with pytest.raises(IntegrityError), db.atomic():
        Workspace.create(owner=ada, slug="acme", name="ACME")
