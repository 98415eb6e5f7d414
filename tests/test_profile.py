"""/profile through HTTP as htmx drives it: fragments, errors in the card, limits, secrets."""

import datetime as dt
import logging
import re

import pytest
import requests

from tests.conftest import CANARY, RATELIMIT_STORAGES, Browser, assert_not_stored
from tracore.models import Environment, ProviderKey, User, Workspace, utcnow

OPENAI_MODELS = "https://api.openai.com/v1/models"
ANTHROPIC_MODELS = "https://api.anthropic.com/v1/models"
GOOD = "sk-good-key-cccccccc3333"


def accept(http, url=OPENAI_MODELS, ids=("gpt-4o-mini", "gpt-4o", "gpt-4.1")):
    http.get(url, json={"data": [{"id": i} for i in ids]})


def connect(browser, http, provider="openai", key=GOOD, model="gpt-4o-mini", url=OPENAI_MODELS):
    accept(http, url, ids=(model,))
    response = browser.hx("POST", f"/profile/keys/{provider}",
                          data={"key": key, "default_model": model})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def text(response):
    return response.get_data(as_text=True)


def test_profile_shows_one_card_per_provider(signed_in):
    page = text(signed_in.get("/profile"))
    for provider, name, residency in [("mistral", "Mistral", "EU"), ("anthropic", "Anthropic",
                                       "US"), ("openai", "OpenAI", "US"), ("google", "Google",
                                                                          "US")]:
        card = re.search(rf'<article id="card-{provider}".*?</article>', page, re.S).group(0)
        assert name in card and residency in card
        assert f'id="badge-{provider}"' in card
        assert ">Connect</button>" in card


def test_connect_swaps_the_card_to_connected(signed_in, provider_http):
    body = text(connect(signed_in, provider_http, model="gpt-4o"))
    assert body.startswith('<article id="card-openai"')
    assert 'data-status="connected"' in body
    assert "…3333" in body
    assert '<option value="gpt-4o" selected>' in body
    for button in ("Test", "Replace", "Remove"):
        assert f">{button}</button>" in body


def test_the_form_never_prefills_a_key(signed_in, provider_http):
    connect(signed_in, provider_http, key=CANARY)
    form = text(signed_in.hx("GET", "/profile/keys/openai/form"))
    assert 'name="key" type="password"' in form
    assert "value=" not in re.search(r'<input id="key-openai"[^>]*>', form).group(0)
    assert CANARY not in form


def test_a_rejected_key_shows_the_error_in_the_card_and_saves_nothing(signed_in, provider_http):
    provider_http.get(OPENAI_MODELS, status=401, json={"error": "bad key"})
    response = signed_in.hx("POST", "/profile/keys/openai", data={"key": CANARY})
    assert response.status_code == 400
    body = text(response)
    assert body.startswith('<article id="card-openai"')
    assert 'role="alert" data-error-code="invalid_key"' in body
    assert CANARY not in body
    assert ProviderKey.select().count() == 0


def test_a_rejected_replace_keeps_connected(signed_in, provider_http):
    connect(signed_in, provider_http)
    provider_http.replace("GET", OPENAI_MODELS, status=403)
    response = signed_in.hx("POST", "/profile/keys/openai", data={"key": CANARY})
    assert response.status_code == 400
    card = text(signed_in.hx("GET", "/profile/keys/openai"))
    assert 'data-status="connected"' in card and "…3333" in card


def test_unreachable_provider_on_save_is_502_with_the_code(signed_in, provider_http):
    provider_http.get(OPENAI_MODELS, body=requests.ConnectTimeout("slow"))
    response = signed_in.hx("POST", "/profile/keys/openai", data={"key": GOOD})
    assert response.status_code == 502
    assert 'data-error-code="provider_unavailable"' in text(response)


def test_a_model_outside_the_allowlist_is_422_with_no_provider_call(signed_in, provider_http):
    response = signed_in.hx("POST", "/profile/keys/openai",
                            data={"key": GOOD, "default_model": "gpt-2"})
    assert response.status_code == 422
    assert 'data-error-code="validation_error"' in text(response)
    assert len(provider_http.calls) == 0


def test_test_returns_the_badge_alone(signed_in, provider_http):
    connect(signed_in, provider_http)
    response = signed_in.hx("POST", "/profile/keys/openai/test")
    assert response.status_code == 200
    body = text(response).strip()
    assert body.startswith('<div id="badge-openai"') and body.endswith("</div>")
    assert body.count('id="') == 1
    assert 'data-status="connected"' in body


def test_test_of_a_revoked_key_turns_the_badge_invalid(signed_in, provider_http):
    connect(signed_in, provider_http)
    provider_http.replace("GET", OPENAI_MODELS, status=401)
    body = text(signed_in.hx("POST", "/profile/keys/openai/test"))
    assert 'data-status="invalid"' in body and ">Invalid<" in body


def test_transient_test_keeps_status_and_shows_a_notice(signed_in, provider_http):
    connect(signed_in, provider_http)
    provider_http.replace("GET", OPENAI_MODELS, status=503)
    response = signed_in.hx("POST", "/profile/keys/openai/test")
    assert response.status_code == 502
    body = text(response)
    assert 'data-status="connected"' in body
    assert "Couldn&#39;t reach OpenAI — status unchanged" in body
    assert "Couldn&#39;t reach OpenAI" in text(signed_in.get("/profile"))


def test_default_model_change_saves_without_a_provider_call(signed_in, provider_http):
    connect(signed_in, provider_http)
    calls = len(provider_http.calls)
    response = signed_in.hx("PUT", "/profile/keys/openai/default-model",
                            data={"default_model": "gpt-4.1"})
    assert response.status_code == 200
    assert '<option value="gpt-4.1" selected>' in text(response)
    assert len(provider_http.calls) == calls
    assert ProviderKey.get().default_model == "gpt-4.1"


def test_models_the_provider_did_not_list_are_marked(signed_in, provider_http):
    body = text(connect(signed_in, provider_http, model="gpt-4o"))
    assert "gpt-4.1 (not offered by OpenAI)" in body
    assert "gpt-4o (not offered" not in body


def test_remove_dialog_lists_environments_and_remove_cascades(signed_in, provider_http):
    connect(signed_in, provider_http)
    user = User.get()
    acme = Workspace.create(owner=user, slug="acme", name="Acme")
    Environment.create(workspace=acme, slug="prod", name="prod",
                       provider_key=ProviderKey.get(), model="gpt-4o")
    dialog = text(signed_in.hx("GET", "/profile/keys/openai/remove"))
    assert "<dialog" in dialog and "<code>acme/prod</code>" in dialog
    assert ">Remove key</button>" in dialog
    response = signed_in.hx("DELETE", "/profile/keys/openai")
    assert response.status_code == 200
    assert ">Connect</button>" in text(response)
    assert ProviderKey.select().count() == 0
    assert Environment.get().provider_key is None


def test_stale_key_renders_checking_and_the_page_does_not_wait(signed_in, provider_http):
    connect(signed_in, provider_http)
    ProviderKey.update(
        last_success_at=utcnow() - dt.timedelta(days=8),
        last_attempt_at=utcnow() - dt.timedelta(days=8),
    ).execute()
    calls = len(provider_http.calls)
    page = text(signed_in.get("/profile"))
    badge = re.search(r'<div id="badge-openai"[^>]*>', page).group(0)
    assert 'data-status="checking"' in badge
    assert 'hx-trigger="load"' in badge and 'hx-post="/profile/keys/openai/test"' in badge
    assert len(provider_http.calls) == calls  # rendering made no provider call
    # The badge's own request re-tests and answers with the real status.
    assert 'data-status="connected"' in text(signed_in.hx("POST", "/profile/keys/openai/test"))
    again = text(signed_in.get("/profile"))
    assert 'data-status="checking"' not in again


def test_a_key_tested_minutes_ago_is_not_retested_automatically(signed_in, provider_http):
    connect(signed_in, provider_http)
    ProviderKey.update(
        last_success_at=utcnow() - dt.timedelta(days=8),
        last_attempt_at=utcnow() - dt.timedelta(minutes=3),
    ).execute()
    page = text(signed_in.get("/profile"))
    assert 'data-status="not_tested"' in page
    assert 'hx-trigger="load"' not in page


def test_another_users_key_actions_are_404(signed_in, other_user, provider_http):
    connect(signed_in, provider_http)
    for method, path in [("POST", "/profile/keys/openai/test"),
                         ("PUT", "/profile/keys/openai/default-model"),
                         ("GET", "/profile/keys/openai/remove"),
                         ("DELETE", "/profile/keys/openai")]:
        response = other_user.hx(method, path, data={"default_model": "gpt-4o"})
        if method == "GET":  # the remove dialog renders the other user's own (empty) card
            assert "…3333" not in text(response) and "<dialog" not in text(response)
        else:
            assert response.status_code == 404, path
    assert "…3333" not in text(other_user.get("/profile"))
    assert ProviderKey.select().count() == 1


def test_unknown_provider_is_404(signed_in):
    assert signed_in.hx("POST", "/profile/keys/nope/test").status_code == 404
    assert signed_in.get("/profile/keys/nope").status_code == 404


def test_canary_key_never_reaches_pages_fragments_logs_or_database(
    signed_in, provider_http, caplog
):
    caplog.set_level(logging.DEBUG)
    seen = []
    accept(provider_http)
    seen.append(signed_in.hx("POST", "/profile/keys/openai", data={"key": CANARY}))
    seen.append(signed_in.hx("POST", "/profile/keys/openai/test"))
    seen.append(signed_in.hx("GET", "/profile/keys/openai/form"))
    seen.append(signed_in.get("/profile"))
    provider_http.replace("GET", OPENAI_MODELS, status=401)
    seen.append(signed_in.hx("POST", "/profile/keys/openai", data={"key": CANARY + "x"}))
    seen.append(signed_in.hx("POST", "/profile/keys/openai/test"))
    provider_http.replace("GET", OPENAI_MODELS, body=requests.ConnectionError(CANARY))
    seen.append(signed_in.hx("POST", "/profile/keys/openai/test"))
    seen.append(signed_in.hx("GET", "/profile/keys/openai/remove"))
    seen.append(signed_in.hx("DELETE", "/profile/keys/openai"))
    for response in seen:
        assert CANARY not in text(response)
        assert CANARY not in str(response.headers)
    assert CANARY not in caplog.text
    assert_not_stored(CANARY)


# --- the shared provider-test budget -----------------------------------------------------------

@pytest.fixture(params=RATELIMIT_STORAGES, ids=lambda uri: uri.split(":")[0])
def limited(request, make_app):
    app = make_app(TRACORE_RATELIMIT_STORAGE_URI=request.param)
    browser = Browser(app.test_client())
    browser.register()
    return app, browser


def test_the_eleventh_test_in_a_minute_is_429_with_no_provider_call(limited, provider_http):
    _app, browser = limited
    connect(browser, provider_http)  # Test & Save spends one
    statuses = [browser.hx("POST", "/profile/keys/openai/test").status_code for _ in range(9)]
    assert statuses == [200] * 9
    calls = len(provider_http.calls)
    response = browser.hx("POST", "/profile/keys/openai/test")
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1
    body = text(response)
    assert body.startswith('<div id="badge-openai"')
    assert 'data-error-code="rate_limited"' in body and "Too many tests — try again in" in body
    assert 'data-status="connected"' in body
    assert len(provider_http.calls) == calls


def test_test_and_save_spends_from_the_same_budget(limited, provider_http):
    _app, browser = limited
    accept(provider_http)
    for _ in range(10):
        browser.hx("POST", "/profile/keys/openai", data={"key": GOOD})
    calls = len(provider_http.calls)
    response = browser.hx("POST", "/profile/keys/openai", data={"key": GOOD})
    assert response.status_code == 429
    assert response.headers["Retry-After"]
    assert 'data-error-code="rate_limited"' in text(response)
    assert browser.hx("POST", "/profile/keys/openai/test").status_code == 429
    assert len(provider_http.calls) == calls
    # Changing the default model calls no provider and is not limited.
    put = browser.hx("PUT", "/profile/keys/openai/default-model", data={"default_model": "gpt-4o"})
    assert put.status_code == 200


def test_users_do_not_share_a_budget(limited, provider_http):
    app, browser = limited
    connect(browser, provider_http)
    for _ in range(10):
        browser.hx("POST", "/profile/keys/openai/test")
    assert browser.hx("POST", "/profile/keys/openai/test").status_code == 429
    other = Browser(app.test_client())
    other.register(email="bob@example.com")
    connect(other, provider_http)
    assert other.hx("POST", "/profile/keys/openai/test").status_code == 200


def test_a_plain_form_post_saves_and_returns_to_the_page(signed_in, provider_http):
    accept(provider_http)
    response = signed_in.form("/profile/keys/openai", {"key": GOOD})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/profile")
    assert GOOD not in response.headers["Location"]
    assert ProviderKey.get().key_hint == "…3333"


# --- API tokens ----------------------------------------------------------------------------------

def test_create_a_token_shown_once_then_revoke_it(app, signed_in):
    created = signed_in.hx("POST", "/profile/tokens", data={"name": "deploy"})
    assert created.status_code == 200
    token = re.search(r'<code id="new-token">([^<]+)</code>', text(created)).group(1)
    api = app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    assert api.get("/api/v1/workspaces", headers=auth).status_code == 200
    page = text(signed_in.get("/profile"))
    assert "<td>deploy</td>" in page and token not in page
    token_id = re.search(r'<tr id="token-(\d+)">', page).group(1)
    revoked = signed_in.hx("DELETE", f"/profile/tokens/{token_id}")
    assert revoked.status_code == 200 and "<td>deploy</td>" not in text(revoked)
    assert api.get("/api/v1/workspaces", headers=auth).status_code == 401


def test_a_token_needs_a_name_and_another_users_token_is_404(signed_in, other_user):
    unnamed = signed_in.hx("POST", "/profile/tokens", data={"name": " "})
    assert unnamed.status_code == 422
    assert 'data-error-code="validation_error"' in text(unnamed)
    signed_in.hx("POST", "/profile/tokens", data={"name": "mine"})
    token_id = re.search(r'<tr id="token-(\d+)">', text(signed_in.get("/profile"))).group(1)
    assert other_user.hx("DELETE", f"/profile/tokens/{token_id}").status_code == 404
    assert signed_in.hx("DELETE", f"/profile/tokens/{2**70}").status_code == 404
    assert "<td>mine</td>" in text(signed_in.get("/profile"))


def test_a_key_sealed_under_another_master_key_is_a_clear_error_not_a_crash(
    make_app, provider_http
):
    from tracore.vault import generate_master_key

    first = make_app(TRACORE_ENCRYPTION_KEY=generate_master_key())
    browser = Browser(first.test_client())
    browser.register()
    connect(browser, provider_http)
    # The operator restarts with a different master key (and a retired list without the old).
    second = make_app(TRACORE_ENCRYPTION_KEY=generate_master_key())
    browser = Browser(second.test_client())
    browser.get("/login")
    browser.form("/login", {"email": "ada@example.com", "password": "correct horse battery"})
    page = browser.get("/profile")
    assert page.status_code == 200 and "…3333" in text(page)
    response = browser.hx("POST", "/profile/keys/openai/test")
    assert response.status_code == 409
    body = text(response)
    assert 'data-error-code="key_unreadable"' in body and "Replace it" in body
    assert "Traceback" not in body and "InvalidTag" not in body


def test_a_model_the_operator_retired_is_shown_and_must_be_replaced(make_app, provider_http):
    first = make_app()
    browser = Browser(first.test_client())
    browser.register()
    connect(browser, provider_http, model="gpt-4o")
    # The operator drops gpt-4o from the allowlist and restarts.
    second = make_app(TRACORE_OPENAI_MODELS="gpt-4o-mini,gpt-4.1")
    browser = Browser(second.test_client())
    browser.get("/login")
    browser.form("/login", {"email": "ada@example.com", "password": "correct horse battery"})
    card = re.search(r'<article id="card-openai".*?</article>', text(browser.get("/profile")),
                     re.S).group(0)
    assert '<option value="gpt-4o" selected disabled>gpt-4o (no longer allowed' in card
    kept = browser.hx("PUT", "/profile/keys/openai/default-model", data={"default_model": "gpt-4o"})
    assert kept.status_code == 422
    moved = browser.hx("PUT", "/profile/keys/openai/default-model",
                       data={"default_model": "gpt-4.1"})
    assert moved.status_code == 200 and "(no longer allowed" not in text(moved)
