"""Key operations: atomic Test & Save, default model, test, remove, and the status rules."""

import datetime as dt
import threading

import pytest
import requests
from peewee import PeeweeException

from tests.conftest import CANARY, assert_not_stored
from tracore import keys
from tracore.errors import InvalidKey, NotFound, ProviderUnavailable, ValidationError
from tracore.models import AuditEvent, Environment, ProviderKey, User, Workspace, db, utcnow
from tracore.vault import key_context

OLD = "sk-old-key-aaaaaaaa1111"
NEW = "sk-new-key-bbbbbbbb2222"
OPENAI_MODELS = "https://api.openai.com/v1/models"


@pytest.fixture
def user(app):
    return User.create(email="ada@example.com", password_hash="x")


def accept(http, url=OPENAI_MODELS, ids=("gpt-4o-mini", "gpt-4o")):
    http.get(url, json={"data": [{"id": i} for i in ids]})


def reject(http, url=OPENAI_MODELS, status=401):
    http.get(url, status=status, json={"error": "invalid"})


def test_connect_stores_the_key_sealed_and_connected(settings, user, provider_http):
    accept(provider_http)
    key = keys.save_key(settings, user, "openai", CANARY, "gpt-4o")
    assert keys.key_status(key) == "connected"
    assert key.key_hint == "…" + CANARY[-4:]
    assert key.default_model == "gpt-4o"
    assert key.available_models == ["gpt-4o-mini", "gpt-4o"]
    assert settings.vault.open_sealed(key.sealed_key, key_context(user.id, "openai")) == CANARY
    assert_not_stored(CANARY)
    assert [e.action for e in AuditEvent.select()] == ["key.connected"]


def test_connect_without_a_model_uses_the_providers_default(settings, user, provider_http):
    accept(provider_http)
    assert keys.save_key(settings, user, "openai", OLD).default_model == "gpt-4o-mini"


def test_rejected_replace_keeps_the_old_key_byte_identical(settings, user, provider_http):
    accept(provider_http)
    keys.save_key(settings, user, "openai", OLD, "gpt-4o")
    before = ProviderKey.get()
    provider_http.reset()
    reject(provider_http)
    with pytest.raises(InvalidKey) as caught:
        keys.save_key(settings, user, "openai", NEW, "gpt-4o-mini")
    assert NEW not in caught.value.message
    after = ProviderKey.get()
    assert bytes(after.sealed_key) == bytes(before.sealed_key)
    assert (after.default_model, after.key_hint, after.id) == ("gpt-4o", "…1111", before.id)
    assert_not_stored(NEW)


def test_transient_failure_on_save_writes_nothing(settings, user, provider_http):
    provider_http.get(OPENAI_MODELS, body=requests.ConnectionError("down"))
    with pytest.raises(ProviderUnavailable) as caught:
        keys.save_key(settings, user, "openai", NEW)
    assert caught.value.status == 502
    assert ProviderKey.select().count() == 0


def test_replace_keeps_the_row_and_its_default_model(settings, user, provider_http):
    accept(provider_http)
    first = keys.save_key(settings, user, "openai", OLD, "gpt-4o")
    second = keys.save_key(settings, user, "openai", NEW)
    assert second.id == first.id
    assert second.default_model == "gpt-4o"
    assert settings.vault.open_sealed(second.sealed_key, key_context(user.id, "openai")) == NEW


def test_database_failure_after_the_provider_accepted_keeps_the_old_key(
    settings, user, provider_http
):
    accept(provider_http)
    keys.save_key(settings, user, "openai", OLD)
    before = bytes(ProviderKey.get().sealed_key)
    # The audit row is written in the same transaction as the key: make that write fail.
    db.execute_sql(f'DROP TABLE "{AuditEvent._meta.table_name}"')
    with pytest.raises(PeeweeException):
        keys.save_key(settings, user, "openai", NEW)
    assert bytes(ProviderKey.get().sealed_key) == before


def test_a_model_outside_the_allowlist_is_refused_before_any_provider_call(
    settings, user, provider_http
):
    with pytest.raises(ValidationError) as caught:
        keys.save_key(settings, user, "openai", NEW, "gpt-2")
    assert caught.value.field == "defaultModel"
    assert len(provider_http.calls) == 0


@pytest.mark.parametrize("bad", ["", "   ", "short", "has space inside key", "ключ-ключ-ключ"])
def test_malformed_keys_are_refused_without_a_provider_call(settings, user, provider_http, bad):
    with pytest.raises(ValidationError):
        keys.save_key(settings, user, "openai", bad)
    assert len(provider_http.calls) == 0


def test_default_model_only_makes_no_http_call_and_no_encryption(settings, user, provider_http):
    accept(provider_http)
    keys.save_key(settings, user, "openai", OLD)
    sealed = bytes(ProviderKey.get().sealed_key)
    provider_http.reset()
    key = keys.set_default_model(settings, user, "openai", "gpt-4.1")
    assert key.default_model == "gpt-4.1"
    assert len(provider_http.calls) == 0
    assert bytes(ProviderKey.get().sealed_key) == sealed


def test_default_model_for_a_missing_key_is_not_found(settings, user):
    with pytest.raises(NotFound):
        keys.set_default_model(settings, user, "openai", "gpt-4o")


def test_test_records_a_rejection_as_invalid(settings, user, provider_http):
    accept(provider_http)
    keys.save_key(settings, user, "openai", OLD)
    provider_http.reset()
    reject(provider_http, status=403)
    key = keys.retest_key(settings, user, "openai")
    assert keys.key_status(key) == "invalid"
    assert "403" in key.last_error


def test_transient_test_changes_no_status_and_leaves_a_notice(settings, user, provider_http):
    accept(provider_http)
    keys.save_key(settings, user, "openai", OLD)
    provider_http.reset()
    provider_http.get(OPENAI_MODELS, status=503)
    with pytest.raises(ProviderUnavailable):
        keys.retest_key(settings, user, "openai")
    key = ProviderKey.get()
    assert keys.key_status(key) == "connected"
    assert keys.transient_notice(key).startswith("Couldn't reach OpenAI — status unchanged")


def test_status_rules_seven_days_and_ten_minutes(settings, user, provider_http):
    accept(provider_http)
    key = keys.save_key(settings, user, "openai", OLD)
    now = utcnow()
    assert keys.key_status(key, now + dt.timedelta(days=6, hours=23)) == "connected"
    assert keys.key_status(key, now + dt.timedelta(days=7)) == "not_tested"
    assert not keys.needs_retest(key, now + dt.timedelta(days=6))
    assert keys.needs_retest(key, now + dt.timedelta(days=7, minutes=1))
    key.last_attempt_at = now + dt.timedelta(days=7)
    assert not keys.needs_retest(key, now + dt.timedelta(days=7, minutes=9))


def test_remove_detaches_environments_in_the_same_transaction(settings, user, provider_http):
    accept(provider_http)
    key = keys.save_key(settings, user, "openai", OLD)
    acme = Workspace.create(owner=user, slug="acme", name="Acme")
    Environment.create(workspace=acme, slug="prod", name="prod", provider_key=key, model="gpt-4o")
    Environment.create(workspace=acme, slug="staging", name="staging")
    detached = keys.remove_key(settings, user, "openai")
    assert [str(ref) for ref in detached] == ["acme/prod"]
    assert ProviderKey.select().count() == 0
    prod = Environment.get(Environment.slug == "prod")
    assert (prod.provider_key, prod.model) == (None, None)


def test_another_users_key_is_not_found(settings, user, provider_http):
    accept(provider_http)
    keys.save_key(settings, user, "openai", OLD)
    mallory = User.create(email="mallory@example.com", password_hash="x")
    for operation in (
        lambda: keys.retest_key(settings, mallory, "openai"),
        lambda: keys.set_default_model(settings, mallory, "openai", "gpt-4o"),
        lambda: keys.remove_key(settings, mallory, "openai"),
    ):
        with pytest.raises(NotFound):
            operation()
    assert ProviderKey.select().count() == 1


def test_two_concurrent_replaces_end_with_one_row_holding_one_of_the_keys(
    app, settings, user, provider_http
):
    accept(provider_http)
    keys.save_key(settings, user, "openai", OLD)
    submitted = [f"sk-concurrent-{i}-xxxxxxxx" for i in range(4)]
    errors = []

    def replace(plaintext):
        try:
            with app.app_context():
                keys.save_key(settings, user, "openai", plaintext)
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)
        finally:
            db.close()

    threads = [threading.Thread(target=replace, args=(k,)) for k in submitted]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    rows = list(ProviderKey.select())
    assert len(rows) == 1
    opened = settings.vault.open_sealed(rows[0].sealed_key, key_context(user.id, "openai"))
    assert opened in submitted
