"""Runs: the snapshot taken at enqueue, execution through the real queue, failures, secrets."""

import pytest

from tests.conftest import CANARY, assert_not_stored
from tests.scenario import user_with_key_on_prod
from tracore import accounts, environments, keys, runs
from tracore.errors import NotFound, ValidationError
from tracore.models import Run

KEY_A = "sk-run-key-A-aaaaaaaa"
KEY_B = "sk-run-key-B-bbbbbbbb"
SYSTEM = "system-mistral-key-0000"


@pytest.fixture
def app(make_app, stub):
    stub.accept(KEY_A, KEY_B, SYSTEM, CANARY)
    return make_app(**stub.config(), TRACORE_RUN_RETRY_DELAY="0")


@pytest.fixture
def queue(app):
    return app.extensions["tracore.queue"]


@pytest.fixture
def ada(app):
    return accounts.create_user("ada@example.com", "correct horse battery")


@pytest.fixture
def prod(settings, ada):
    environments.create_workspace(ada, "Acme")
    environments.create_environment(ada, "acme", "prod")
    return "acme", "prod"


def start(settings, queue, ada, env=("acme", "prod"), text="Extract the invoice total."):
    return runs.enqueue(settings, ada, *env, text, queue.submit)


def test_a_run_keeps_the_key_it_was_enqueued_with_across_a_replace(
    settings, queue, ada, prod, stub
):
    keys.save_key(settings, ada, "openai", KEY_A)
    environments.assign(settings, ada, "acme", "prod", "openai", "gpt-4o")
    run = start(settings, queue, ada)
    assert (run.status, run.provider, run.model, run.key_hint) == (
        "queued", "openai", "gpt-4o", "…aaaa")
    keys.save_key(settings, ada, "openai", KEY_B)  # rotated before the worker ran

    assert queue.drain() == 1
    run = Run.get_by_id(run.id)
    assert run.status == "succeeded" and run.output == "stub openai answer"
    chat = [c for c in stub.calls if c.path == "chat/completions"]
    assert [c.key for c in chat] == [KEY_A]
    assert chat[0].body["model"] == "gpt-4o"
    assert run.sealed_key is None and run.finished_at is not None


def test_a_run_keeps_its_key_when_the_key_is_removed(settings, queue, ada, prod, stub):
    keys.save_key(settings, ada, "anthropic", KEY_A)
    environments.assign(settings, ada, "acme", "prod", "anthropic", None)
    run = start(settings, queue, ada)
    keys.remove_key(settings, ada, "anthropic")
    queue.drain()
    run = Run.get_by_id(run.id)
    assert run.status == "succeeded"
    messages = [c for c in stub.calls if c.path == "messages"]
    assert [c.key for c in messages] == [KEY_A]
    assert messages[0].body["model"] == "claude-haiku-4-5"
    assert messages[0].body["max_tokens"] > 0


def test_a_fallback_environment_uses_the_system_key_and_model(settings, queue, ada, prod, stub):
    run = start(settings, queue, ada)
    assert run.uses_system_key and run.sealed_key is None
    queue.drain()
    chat = [c for c in stub.calls if c.provider == "mistral"]
    assert [c.key for c in chat] == [SYSTEM]
    assert chat[0].body["model"] == "pixtral-large-latest"
    assert Run.get_by_id(run.id).status == "succeeded"


def test_google_runs_use_the_header_and_generate_content(settings, queue, ada, prod, stub):
    keys.save_key(settings, ada, "google", KEY_A)
    environments.assign(settings, ada, "acme", "prod", "google", "gemini-2.5-pro")
    run = start(settings, queue, ada)
    queue.drain()
    call = [c for c in stub.calls if c.path.endswith(":generateContent")][0]
    assert call.path == "models/gemini-2.5-pro:generateContent" and call.key == KEY_A
    assert Run.get_by_id(run.id).output == "stub google answer"


def test_a_rejected_key_fails_the_run_with_a_clear_message(settings, queue, ada, prod, stub):
    keys.save_key(settings, ada, "openai", KEY_A)
    environments.assign(settings, ada, "acme", "prod", "openai", None)
    run = start(settings, queue, ada)
    stub.accepted.discard(KEY_A)  # revoked at the provider
    queue.drain()
    run = Run.get_by_id(run.id)
    assert run.status == "failed"
    assert "OpenAI rejected the key (HTTP 401)" in run.error
    assert run.sealed_key is None and run.attempts == 1


def test_transient_failures_are_retried_then_fail(settings, queue, ada, prod, stub):
    keys.save_key(settings, ada, "openai", KEY_A)
    environments.assign(settings, ada, "acme", "prod", "openai", None)
    run = start(settings, queue, ada)
    stub.down = True
    queue.drain()
    run = Run.get_by_id(run.id)
    assert run.status == "failed" and run.attempts == 3
    assert "after 3 attempts" in run.error
    assert len([c for c in stub.calls if c.path == "chat/completions"]) == 3


def test_a_retry_waits_with_backoff(make_app, stub):
    stub.accept(KEY_A)
    app = make_app(**stub.config(), TRACORE_RUN_RETRY_DELAY="30")
    settings, queue = app.extensions["tracore"], app.extensions["tracore.queue"]
    ada = user_with_key_on_prod(settings, "openai", KEY_A)
    run = start(settings, queue, ada)
    stub.down = True
    assert queue.drain() == 1
    run = Run.get_by_id(run.id)
    assert run.status == "queued" and "retrying in 30 s (attempt 2 of 3)" in run.error
    assert queue.huey.scheduled_count() == 1
    assert run.sealed_key is not None  # kept for the retry


def test_a_snapshot_that_cannot_be_opened_fails_cleanly(settings, queue, ada, prod, stub):
    keys.save_key(settings, ada, "openai", KEY_A)
    environments.assign(settings, ada, "acme", "prod", "openai", None)
    run = start(settings, queue, ada)
    blob = bytearray(Run.get_by_id(run.id).sealed_key)
    blob[-1] ^= 1
    Run.update(sealed_key=bytes(blob)).where(Run.id == run.id).execute()
    queue.drain()
    run = Run.get_by_id(run.id)
    assert run.status == "failed" and "can't be decrypted" in run.error
    assert run.sealed_key is None
    assert not [c for c in stub.calls if c.path == "chat/completions"]


def test_queued_runs_survive_a_restart(make_app, stub, tmp_path):
    stub.accept(KEY_A)
    first = make_app(**stub.config())
    settings = first.extensions["tracore"]
    ada = user_with_key_on_prod(settings, "openai", KEY_A)
    run = start(settings, first.extensions["tracore.queue"], ada)
    restarted = make_app(**stub.config())  # a new process: same database, same queue file
    assert restarted.extensions["tracore.queue"].drain() == 1
    assert Run.get_by_id(run.id).status == "succeeded"


def test_bad_input_and_other_users(settings, queue, ada, prod):
    for bad in ("", "   ", "x" * 20_001, None):
        with pytest.raises(ValidationError):
            start(settings, queue, ada, text=bad)
    run = start(settings, queue, ada)
    mallory = accounts.create_user("mallory@example.com", "correct horse battery")
    with pytest.raises(NotFound):
        runs.get_run(mallory, run.id)
    with pytest.raises(NotFound):
        start(settings, queue, mallory)
    assert Run.select().count() == 1


def test_without_a_system_key_a_fallback_run_is_refused(make_app, stub):
    app = make_app(**stub.config(), TRACORE_SYSTEM_MISTRAL_API_KEY="")
    settings, queue = app.extensions["tracore"], app.extensions["tracore.queue"]
    ada = accounts.create_user("ada@example.com", "correct horse battery")
    environments.create_workspace(ada, "Acme")
    environments.create_environment(ada, "acme", "prod")
    with pytest.raises(ValidationError) as caught:
        start(settings, queue, ada)
    assert "TRACORE_SYSTEM_MISTRAL_API_KEY" in caught.value.message


def test_the_canary_key_never_reaches_the_queue_the_database_or_the_logs(
    app, settings, queue, ada, prod, stub, caplog
):
    caplog.set_level("DEBUG")
    keys.save_key(settings, ada, "openai", CANARY)
    environments.assign(settings, ada, "acme", "prod", "openai", None)
    start(settings, queue, ada)
    queue_file = app.config["TRACORE_QUEUE_URL"].removeprefix("sqlite:///")
    with open(queue_file, "rb") as handle:
        queued = handle.read()
    assert CANARY.encode() not in queued
    assert_not_stored(CANARY)
    queue.drain()
    assert_not_stored(CANARY)
    assert CANARY not in caplog.text
    assert stub.keys_seen("openai")[-1] == CANARY  # it did reach the provider, and only it


def test_a_run_left_running_by_a_dead_worker_is_queued_again(settings, queue, ada, prod, stub):
    import datetime as dt

    from tracore.models import utcnow

    keys.save_key(settings, ada, "openai", KEY_A)
    environments.assign(settings, ada, "acme", "prod", "openai", None)
    run = start(settings, queue, ada)
    queue.huey.flush()  # the worker took the task and died mid-run
    Run.update(status="running", attempts=1,
               started_at=utcnow() - dt.timedelta(hours=1)).where(Run.id == run.id).execute()
    fresh = start(settings, queue, ada)
    Run.update(status="running", started_at=utcnow()).where(Run.id == fresh.id).execute()

    assert runs.requeue_interrupted(queue.submit) == [run.id]  # the recent one may be alive
    assert queue.drain() == 2  # the requeued run, and the fresh one's own task
    assert Run.get_by_id(run.id).status == "succeeded"
    assert [c.key for c in stub.calls if c.path == "chat/completions"].count(KEY_A) == 2
