"""The whole API contract through the Python SDK, against a live server and the provider stub."""

import logging

import pytest
import requests

from tests.conftest import CANARY
from tracore import accounts
from tracore_sdk import (
    AuthenticationError,
    InvalidKeyError,
    NotFoundError,
    RateLimitedError,
    TracoreClient,
    ValidationError,
)

GOOD = "sk-ant-sdk-good-key-1234"
OTHER = "sk-ant-sdk-good-key-5678"


@pytest.fixture
def tokens(live_app):
    with live_app.app_context():
        ada = accounts.create_user("ada@example.com", "correct horse battery")
        mallory = accounts.create_user("mallory@example.com", "correct horse battery")
        return accounts.create_token(ada, "sdk")[1], accounts.create_token(mallory, "sdk")[1]


@pytest.fixture
def bodies():
    """Every response body the SDK receives, to search for leaked keys."""
    return []


@pytest.fixture
def client(live_url, tokens, bodies):
    session = requests.Session()
    session.hooks["response"].append(lambda response, *args, **kwargs: bodies.append(
        response.text + str(response.headers)))
    return TracoreClient(api_key=tokens[0], base_url=live_url, timeout=10, session=session)


def test_connect_replace_default_model_test_and_remove(client, stub, caplog, bodies):
    caplog.set_level(logging.DEBUG)
    stub.accept(GOOD, OTHER, CANARY)
    keys = client.user.provider_keys

    key = keys.set(provider="anthropic", key=CANARY, default_model="claude-haiku-4-5")
    assert key["status"] == "connected" and key["keyHint"] == "…" + CANARY[-4:]
    assert keys.list()[0]["provider"] == "anthropic"

    with pytest.raises(InvalidKeyError) as rejected:
        keys.set(provider="anthropic", key="sk-ant-sdk-revoked-0000")
    assert rejected.value.code == "invalid_key"
    assert keys.list()[0]["keyHint"] == "…" + CANARY[-4:]  # the old key still stands

    calls = len(stub.calls)
    updated = keys.set(provider="anthropic", default_model="claude-opus-4-7")
    assert updated["defaultModel"] == "claude-opus-4-7"
    assert len(stub.calls) == calls  # no provider call

    assert keys.test(provider="anthropic")["status"] == "connected"
    assert stub.keys_seen("anthropic")[-1] == CANARY

    client.workspaces.create(name="Acme")
    client.environments.create(workspace="acme", name="prod")
    client.environments.create(workspace="acme", name="staging")
    prod = client.environments.assign(workspace="acme", environment="prod",
                                      provider="anthropic", model="claude-sonnet-4-5")
    assert prod["effective"] == {"provider": "anthropic", "model": "claude-sonnet-4-5",
                                 "source": "environment"}
    staging = client.environments.get(workspace="acme", environment="staging")
    assert staging["effective"]["source"] == "system_fallback"

    removed = keys.remove(provider="anthropic")
    assert removed == {"provider": "anthropic",
                       "detachedEnvironments": [{"workspace": "acme", "environment": "prod"}]}
    assert client.environments.get(workspace="acme", environment="prod")["effective"][
        "source"] == "system_fallback"
    assert keys.list() == []
    assert CANARY not in caplog.text
    assert len(bodies) > 10 and not [b for b in bodies if CANARY in b]


def test_typed_errors(client, live_url, stub):
    with pytest.raises(NotFoundError):
        client.user.provider_keys.set(provider="google", default_model="gemini-2.5-pro")
    with pytest.raises(ValidationError) as invalid:
        client.user.provider_keys.set(provider="google", key="short")
    assert invalid.value.status == 422
    with pytest.raises(AuthenticationError):
        TracoreClient(api_key="trk_wrong", base_url=live_url).workspaces.list()
    assert "trk_" not in repr(client)


def test_rate_limit_surfaces_retry_after(client, stub):
    stub.accept(GOOD)
    client.user.provider_keys.set(provider="anthropic", key=GOOD)
    for _ in range(9):
        client.user.provider_keys.test(provider="anthropic")
    with pytest.raises(RateLimitedError) as limited:
        client.user.provider_keys.test(provider="anthropic")
    assert limited.value.retry_after >= 1


def test_another_users_things_are_not_found(client, tokens, live_url, stub):
    stub.accept(GOOD)
    client.user.provider_keys.set(provider="anthropic", key=GOOD)
    client.workspaces.create(name="Acme")
    client.environments.create(workspace="acme", name="prod")
    mallory = TracoreClient(api_key=tokens[1], base_url=live_url)
    assert mallory.user.provider_keys.list() == []
    assert mallory.workspaces.list() == []
    for attempt in (
        lambda: mallory.environments.get(workspace="acme", environment="prod"),
        lambda: mallory.environments.assign(workspace="acme", environment="prod", provider=None),
        lambda: mallory.user.provider_keys.test(provider="anthropic"),
        lambda: mallory.user.provider_keys.remove(provider="anthropic"),
    ):
        with pytest.raises(NotFoundError):
            attempt()
    # Mallory can't point her own environment at Ada's key either.
    mallory.workspaces.create(name="Acme")
    mallory.environments.create(workspace="acme", name="prod")
    with pytest.raises(ValidationError):
        mallory.environments.assign(workspace="acme", environment="prod", provider="anthropic")


def test_runs_snapshot_and_wait(client, live_app, tokens, live_url, stub):
    stub.accept(GOOD, OTHER, "system-mistral-key-0000")
    client.user.provider_keys.set(provider="anthropic", key=GOOD)
    client.workspaces.create(name="Acme")
    client.environments.create(workspace="acme", name="prod")
    client.environments.create(workspace="acme", name="staging")
    client.environments.assign(workspace="acme", environment="prod", provider="anthropic")

    run = client.runs.create(workspace="acme", environment="prod", input="Extract the total.")
    assert set(run) == {"id", "workspace", "environment", "status", "provider", "model",
                        "usesSystemKey", "output", "error", "createdAt", "finishedAt"}
    assert (run["status"], run["provider"], run["model"], run["usesSystemKey"]) == (
        "queued", "anthropic", "claude-haiku-4-5", False)
    client.user.provider_keys.set(provider="anthropic", key=OTHER)  # rotate before the worker
    fallback = client.runs.create(workspace="acme", environment="staging", input="Hi")
    assert fallback["usesSystemKey"] and fallback["provider"] == "mistral"

    with live_app.app_context():
        live_app.extensions["tracore.queue"].drain()
    done = client.runs.wait(run["id"], timeout=10, interval=0.1)
    assert done["status"] == "succeeded" and done["output"] == "stub anthropic answer"
    assert done["finishedAt"] is not None
    assert [c.key for c in stub.calls if c.path == "messages"] == [GOOD]
    assert client.runs.get(fallback["id"])["status"] == "succeeded"

    mallory = TracoreClient(api_key=tokens[1], base_url=live_url)
    with pytest.raises(NotFoundError):
        mallory.runs.get(run["id"])
    with pytest.raises(NotFoundError):
        mallory.runs.create(workspace="acme", environment="prod", input="x")
    with pytest.raises(ValidationError):
        client.runs.create(workspace="acme", environment="prod", input="  ")
