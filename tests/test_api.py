"""The JSON API over HTTP: auth, exact shapes, error envelope, limits, and the OpenAPI map."""

import re

import pytest

from tests.conftest import CANARY
from tracore import accounts
from tracore.models import Environment, ProviderKey, User, Workspace

OPENAI_MODELS = "https://api.openai.com/v1/models"
GOOD = "sk-api-good-key-5555"


@pytest.fixture
def token(app):
    user = accounts.create_user("ada@example.com", "correct horse battery")
    return accounts.create_token(user, "tests")[1]


@pytest.fixture
def api(app, token):
    client = app.test_client()

    def call(method, path, json=None, headers=None, **kwargs):
        return client.open(f"/api/v1{path}", method=method, json=json,
                           headers={"Authorization": f"Bearer {token}", **(headers or {})},
                           **kwargs)

    return call


def accept(http, ids=("gpt-4o-mini", "gpt-4o")):
    http.get(OPENAI_MODELS, json={"data": [{"id": i} for i in ids]})


def error_of(response):
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    return body["error"]["code"]


def test_no_or_unknown_token_is_401_json(app):
    client = app.test_client()
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic x"}):
        response = client.get("/api/v1/user/provider-keys", headers=headers)
        assert response.status_code == 401
        assert error_of(response) == "unauthorized"


def test_a_token_in_the_query_string_is_refused(app, token):
    response = app.test_client().get(f"/api/v1/user/provider-keys?access_token={token}")
    assert response.status_code == 401


def test_a_session_cookie_is_not_api_authentication(signed_in):
    response = signed_in.client.get("/api/v1/user/provider-keys")
    assert response.status_code == 401


def test_a_revoked_token_is_refused_at_once(api, app, token):
    assert api("GET", "/user/provider-keys").status_code == 200
    accounts.revoke_token(User.get(), accounts.list_tokens(User.get())[0].id)
    assert api("GET", "/user/provider-keys").status_code == 401


def test_connect_shape_and_key_default_rules(api, provider_http):
    accept(provider_http)
    response = api("PUT", "/user/provider-keys/openai", {"key": GOOD})
    assert response.status_code == 200
    key = response.get_json()["data"]
    assert set(key) == {"provider", "defaultModel", "status", "keyHint", "residency", "models",
                        "availableModels", "lastTestedAt", "lastSuccessAt", "lastError",
                        "createdAt", "updatedAt", "environments"}
    assert key["provider"] == "openai" and key["status"] == "connected"
    assert key["defaultModel"] == "gpt-4o-mini" and key["keyHint"] == "…5555"
    assert key["models"] == ["gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "gpt-4.1"]
    assert key["availableModels"] == ["gpt-4o-mini", "gpt-4o"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", key["lastSuccessAt"])
    # Replace without a defaultModel keeps the current one.
    api("PUT", "/user/provider-keys/openai", {"defaultModel": "gpt-4.1"})
    replaced = api("PUT", "/user/provider-keys/openai", {"key": "sk-api-good-key-6666"})
    assert replaced.get_json()["data"]["defaultModel"] == "gpt-4.1"
    listed = api("GET", "/user/provider-keys").get_json()["data"]
    assert [k["provider"] for k in listed] == ["openai"]


def test_default_model_only_makes_no_provider_call(api, provider_http):
    accept(provider_http)
    api("PUT", "/user/provider-keys/openai", {"key": GOOD})
    calls = len(provider_http.calls)
    response = api("PUT", "/user/provider-keys/openai", {"defaultModel": "gpt-4o"})
    assert response.get_json()["data"]["defaultModel"] == "gpt-4o"
    assert len(provider_http.calls) == calls


def test_default_model_for_a_provider_without_key_is_not_found(api):
    response = api("PUT", "/user/provider-keys/google", {"defaultModel": "gemini-2.5-pro"})
    assert response.status_code == 404 and error_of(response) == "not_found"


def test_rejected_and_unreachable_keys(api, provider_http):
    provider_http.get(OPENAI_MODELS, status=401)
    rejected = api("PUT", "/user/provider-keys/openai", {"key": CANARY})
    assert rejected.status_code == 400 and error_of(rejected) == "invalid_key"
    assert CANARY not in rejected.get_data(as_text=True)
    provider_http.replace("GET", OPENAI_MODELS, status=503)
    down = api("PUT", "/user/provider-keys/openai", {"key": CANARY})
    assert down.status_code == 502 and error_of(down) == "provider_unavailable"
    assert ProviderKey.select().count() == 0


@pytest.mark.parametrize("body, status, code", [
    ({}, 422, "validation_error"),
    ({"key": 12345678}, 422, "validation_error"),
    ({"apiKey": GOOD}, 422, "validation_error"),  # a typo must not turn into a no-op
    ({"defaultModel": "gpt-2"}, 422, "validation_error"),
    ([GOOD], 422, "validation_error"),
])
def test_bad_bodies_are_refused_with_the_spec_codes(api, provider_http, body, status, code):
    accept(provider_http)
    api("PUT", "/user/provider-keys/openai", {"key": GOOD})
    response = api("PUT", "/user/provider-keys/openai", body)
    assert response.status_code == status and error_of(response) == code


def test_malformed_json_is_400_and_a_huge_body_is_413(api):
    malformed = api("POST", "/workspaces", data="{not json", content_type="application/json")
    assert malformed.status_code == 400 and error_of(malformed) == "bad_request"
    huge = api("POST", "/workspaces", json={"name": "x" * 70_000})
    assert huge.status_code == 413 and error_of(huge) == "payload_too_large"


def test_unknown_api_paths_and_methods_are_json(api):
    missing = api("GET", "/nope")
    assert missing.status_code == 404 and error_of(missing) == "not_found"
    wrong = api("PATCH", "/workspaces")
    assert wrong.status_code == 405 and error_of(wrong) == "method_not_allowed"
    assert api("GET", "/user/provider-keys/nope/test").status_code in (404, 405)
    assert error_of(api("POST", "/user/provider-keys/nope/test")) == "not_found"


def test_the_eleventh_test_is_429_with_retry_after(api, provider_http):
    accept(provider_http)
    api("PUT", "/user/provider-keys/openai", {"key": GOOD})
    for _ in range(9):
        assert api("POST", "/user/provider-keys/openai/test").status_code == 200
    calls = len(provider_http.calls)
    limited = api("POST", "/user/provider-keys/openai/test")
    assert limited.status_code == 429 and error_of(limited) == "rate_limited"
    assert int(limited.headers["Retry-After"]) >= 1
    assert len(provider_http.calls) == calls
    # Changing only the default model spends nothing.
    assert api("PUT", "/user/provider-keys/openai", {"defaultModel": "gpt-4o"}).status_code == 200


def test_the_api_and_the_profile_share_one_budget(app, token, provider_http):
    accept(provider_http)
    client = app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    client.put("/api/v1/user/provider-keys/openai", json={"key": GOOD}, headers=auth)
    for _ in range(9):
        client.post("/api/v1/user/provider-keys/openai/test", headers=auth)
    from tests.conftest import Browser

    browser = Browser(client)
    browser.get("/login")
    browser.form("/login", {"email": "ada@example.com", "password": "correct horse battery"})
    browser.get("/profile")
    assert browser.hx("POST", "/profile/keys/openai/test").status_code == 429


def test_remove_lists_detached_environments(api, provider_http):
    accept(provider_http)
    api("PUT", "/user/provider-keys/openai", {"key": GOOD})
    api("POST", "/workspaces", {"name": "Acme"})
    api("POST", "/workspaces/acme/environments", {"name": "prod"})
    api("PUT", "/workspaces/acme/environments/prod", {"provider": "openai", "model": "gpt-4o"})
    listed = api("GET", "/user/provider-keys").get_json()["data"][0]
    assert listed["environments"] == [{"workspace": "acme", "environment": "prod"}]
    removed = api("DELETE", "/user/provider-keys/openai").get_json()
    assert removed == {"data": {"provider": "openai", "detachedEnvironments": [
        {"workspace": "acme", "environment": "prod"}]}}
    env = api("GET", "/workspaces/acme/environments/prod").get_json()["data"]
    assert env["provider"] is None and env["model"] is None
    assert env["effective"] == {"provider": "mistral", "model": "pixtral-large-latest",
                                "source": "system_fallback"}


def test_environment_shapes_and_assignment(api, provider_http):
    accept(provider_http)
    api("PUT", "/user/provider-keys/openai", {"key": GOOD})
    created = api("POST", "/workspaces", {"name": "Acme Corp"})
    assert created.status_code == 201
    assert created.get_json() == {"data": {"slug": "acme-corp", "name": "Acme Corp"}}
    env = api("POST", "/workspaces/acme-corp/environments", {"name": "Prod"})
    assert env.status_code == 201
    assert env.get_json()["data"] == {
        "workspace": "acme-corp", "slug": "prod", "name": "Prod", "provider": None,
        "model": None, "effective": {"provider": "mistral", "model": "pixtral-large-latest",
                                     "source": "system_fallback"}}
    put = api("PUT", "/workspaces/acme-corp/environments/prod", {"provider": "openai"})
    assert put.get_json()["data"]["effective"] == {
        "provider": "openai", "model": "gpt-4o-mini", "source": "profile_default"}
    bad = api("PUT", "/workspaces/acme-corp/environments/prod",
              {"provider": "openai", "model": "claude-opus-4-7"})
    assert bad.status_code == 422
    missing = api("PUT", "/workspaces/acme-corp/environments/prod", {"model": "gpt-4o"})
    assert missing.status_code == 422
    assert [w["slug"] for w in api("GET", "/workspaces").get_json()["data"]] == ["acme-corp"]
    assert len(api("GET", "/workspaces/acme-corp/environments").get_json()["data"]) == 1


def test_another_users_resources_are_404(api, app, provider_http):
    mallory = accounts.create_user("mallory@example.com", "correct horse battery")
    acme = Workspace.create(owner=mallory, slug="acme", name="Acme")
    Environment.create(workspace=acme, slug="prod", name="prod")
    for method, path, body in [
        ("GET", "/workspaces/acme/environments", None),
        ("POST", "/workspaces/acme/environments", {"name": "x"}),
        ("GET", "/workspaces/acme/environments/prod", None),
        ("PUT", "/workspaces/acme/environments/prod", {"provider": None}),
        ("POST", "/user/provider-keys/openai/test", None),
        ("DELETE", "/user/provider-keys/openai", None),
    ]:
        response = api(method, path, body)
        assert response.status_code == 404, path
        assert error_of(response) == "not_found"
    assert api("GET", "/workspaces").get_json() == {"data": []}


def test_the_openapi_document_and_the_live_routes_agree(app):
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    documented = {
        (method.upper(), "/api/v1" + re.sub(r"\{(\w+)\}", r"<\1>", path))
        for path, item in document["paths"].items()
        for method in item if method != "parameters"
    }
    live = {
        (method, re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1") and rule.endpoint != "api.openapi_document"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert documented == live


def test_run_routes_answer_202_and_404(api, app):
    api("POST", "/workspaces", {"name": "Acme"})
    api("POST", "/workspaces/acme/environments", {"name": "prod"})
    created = api("POST", "/workspaces/acme/environments/prod/runs", {"input": "hello"})
    assert created.status_code == 202
    run = created.get_json()["data"]
    assert run["status"] == "queued" and run["usesSystemKey"] is True
    assert api("GET", f"/runs/{run['id']}").get_json()["data"]["id"] == run["id"]
    assert api("GET", "/runs/999999").status_code == 404
    assert api("GET", "/runs/347045395400870526976").status_code == 404  # found by fuzzing
    bad = api("POST", "/workspaces/acme/environments/prod/runs", {"input": 5})
    assert bad.status_code == 422
    assert api("POST", "/workspaces/acme/environments/nope/runs", {"input": "x"}).status_code \
        == 404


def test_a_key_pasted_into_the_wrong_field_is_not_echoed_back(api, provider_http):
    accept(provider_http)
    api("PUT", "/user/provider-keys/openai", {"key": GOOD})
    api("POST", "/workspaces", {"name": "Acme"})
    api("POST", "/workspaces/acme/environments", {"name": "prod"})
    for method, path, body in [
        ("PUT", "/user/provider-keys/openai", {"defaultModel": CANARY}),
        ("PUT", "/workspaces/acme/environments/prod", {"provider": "openai", "model": CANARY}),
        ("PUT", "/workspaces/acme/environments/prod", {"provider": CANARY}),
    ]:
        response = api(method, path, body)
        assert response.status_code == 422
        assert CANARY not in response.get_data(as_text=True)
