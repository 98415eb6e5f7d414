"""Key-test adapters: the provider's answer, classified as SPEC §2 says, over mocked HTTP."""

import pytest
import requests
import responses

from tracore.providers import REGISTRY, RegistryConfigError, build_registry, test_key

KEY = "sk-adapter-key-000011112222"
REGISTRY_DEFAULT = build_registry({})
PROVIDERS = list(REGISTRY_DEFAULT)


def models_body(provider, ids):
    if provider.id == "google":
        return {"models": [{"name": f"models/{i}"} for i in ids]}
    return {"data": [{"id": i} for i in ids]}


def url(provider):
    return f"{provider.base_url}/models"


@pytest.mark.parametrize("provider", PROVIDERS, ids=lambda p: p.id)
def test_success_lists_models_with_the_providers_auth(provider, provider_http):
    provider_http.get(url(provider), json=models_body(provider, ["m-1", "m-2"]))
    outcome = test_key(provider, KEY, timeout=1)
    assert outcome.kind == "accepted"
    assert outcome.models == ("m-1", "m-2")
    sent = provider_http.calls[0].request
    assert KEY not in sent.url
    if provider.id == "anthropic":
        assert sent.headers["x-api-key"] == KEY
        assert sent.headers["anthropic-version"] == "2023-06-01"
    elif provider.id == "google":
        assert sent.headers["x-goog-api-key"] == KEY
        assert "key=" not in sent.url
    else:
        assert sent.headers["Authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize("provider", PROVIDERS, ids=lambda p: p.id)
@pytest.mark.parametrize("status", [401, 403])
def test_401_and_403_reject_the_key(provider, status, provider_http):
    provider_http.get(url(provider), status=status, json={"error": "nope"})
    outcome = test_key(provider, KEY, timeout=1)
    assert outcome.kind == "rejected"
    assert outcome.conclusive
    assert str(status) in outcome.detail


def test_google_answers_a_bad_key_with_400_api_key_invalid(provider_http):
    google = REGISTRY_DEFAULT.get("google")
    provider_http.get(url(google), status=400, json={
        "error": {"code": 400, "details": [{"@type": "x", "reason": "API_KEY_INVALID"}]}})
    assert test_key(google, KEY, timeout=1).kind == "rejected"


def test_another_400_is_unexpected_not_a_rejection(provider_http):
    google = REGISTRY_DEFAULT.get("google")
    provider_http.get(url(google), status=400, json={"error": {"details": []}})
    outcome = test_key(google, KEY, timeout=1)
    assert outcome.kind == "unexpected"
    assert "400" in outcome.detail


@pytest.mark.parametrize("provider", PROVIDERS, ids=lambda p: p.id)
@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_429_and_5xx_are_transient(provider, status, provider_http):
    provider_http.get(url(provider), status=status)
    outcome = test_key(provider, KEY, timeout=1)
    assert outcome.kind == "transient"
    assert not outcome.conclusive


def test_anthropic_overloaded_529_is_transient(provider_http):
    anthropic = REGISTRY_DEFAULT.get("anthropic")
    provider_http.get(url(anthropic), status=529)
    assert test_key(anthropic, KEY, timeout=1).kind == "transient"


@pytest.mark.parametrize("provider", PROVIDERS, ids=lambda p: p.id)
def test_timeout_and_connection_error_are_transient_and_never_echo_the_key(
    provider, provider_http
):
    provider_http.get(url(provider), body=requests.Timeout(f"timed out sending {KEY}"))
    timed_out = test_key(provider, KEY, timeout=1)
    assert timed_out.kind == "transient"
    assert KEY not in repr(timed_out)
    provider_http.replace(
        responses.GET, url(provider), body=requests.ConnectionError(f"refused {KEY}")
    )
    refused = test_key(provider, KEY, timeout=1)
    assert refused.kind == "transient"
    assert KEY not in repr(refused)


@pytest.mark.parametrize("provider", PROVIDERS, ids=lambda p: p.id)
def test_malformed_json_on_2xx_still_accepts_the_key_without_a_model_list(
    provider, provider_http
):
    provider_http.get(url(provider), body="<html>not json</html>", status=200)
    outcome = test_key(provider, KEY, timeout=1)
    assert outcome.kind == "accepted"
    assert outcome.models is None


def test_unexpected_status_is_reported_with_its_code(provider_http):
    openai = REGISTRY_DEFAULT.get("openai")
    provider_http.get(url(openai), status=418)
    outcome = test_key(openai, KEY, timeout=1)
    assert outcome.kind == "unexpected"
    assert "418" in outcome.detail


def test_anthropic_pages_are_followed(provider_http):
    anthropic = REGISTRY_DEFAULT.get("anthropic")
    provider_http.get(
        url(anthropic), json={"data": [{"id": "a"}], "has_more": True, "last_id": "a"},
        match=[responses.matchers.query_param_matcher({"limit": "1000"})],
    )
    provider_http.get(
        url(anthropic), json={"data": [{"id": "b"}], "has_more": False, "last_id": "b"},
        match=[responses.matchers.query_param_matcher({"limit": "1000", "after_id": "a"})],
    )
    assert test_key(anthropic, KEY, timeout=1).models == ("a", "b")


def test_google_pages_are_followed_and_prefix_stripped(provider_http):
    google = REGISTRY_DEFAULT.get("google")
    provider_http.get(
        url(google), json={"models": [{"name": "models/g-1"}], "nextPageToken": "t2"},
        match=[responses.matchers.query_param_matcher({})],
    )
    provider_http.get(
        url(google), json={"models": [{"name": "models/g-2"}]},
        match=[responses.matchers.query_param_matcher({"pageToken": "t2"})],
    )
    assert test_key(google, KEY, timeout=1).models == ("g-1", "g-2")


def test_registry_matches_the_spec():
    assert [(p.id, p.name, p.residency, p.default_model) for p in REGISTRY] == [
        ("mistral", "Mistral", "EU", "pixtral-large-latest"),
        ("anthropic", "Anthropic", "US", "claude-haiku-4-5"),
        ("openai", "OpenAI", "US", "gpt-4o-mini"),
        ("google", "Google", "US", "gemini-2.0-flash"),
    ]
    assert all(p.models[0] == p.default_model for p in REGISTRY)


def test_operator_can_replace_default_model_allowlist_and_base_url():
    registry = build_registry({
        "TRACORE_GOOGLE_MODELS": "gemini-2.5-flash, gemini-2.5-pro",
        "TRACORE_GOOGLE_DEFAULT_MODEL": "gemini-2.5-pro",
        "TRACORE_OPENAI_BASE_URL": "http://proxy.local/openai/v1/",
    })
    google = registry.get("google")
    assert google.models == ("gemini-2.5-pro", "gemini-2.5-flash")
    assert google.default_model == "gemini-2.5-pro"
    assert registry.get("openai").base_url == "http://proxy.local/openai/v1"
    # An allowlist without the old default falls back to its first model.
    retired = build_registry({"TRACORE_MISTRAL_MODELS": "mistral-large-latest"})
    assert retired.get("mistral").default_model == "mistral-large-latest"


def test_a_default_outside_the_allowlist_is_refused():
    with pytest.raises(RegistryConfigError):
        build_registry({"TRACORE_OPENAI_DEFAULT_MODEL": "gpt-2"})
