"""Workspaces and environments: slugs, assignment, resolution, isolation, query counts."""

import logging
import re

import pytest

from tracore import environments, keys
from tracore.errors import NotFound, ValidationError
from tracore.models import Environment, ProviderKey, User, Workspace

ANTHROPIC_MODELS = "https://api.anthropic.com/v1/models"
KEY = "sk-ant-env-test-key-7777"


@pytest.fixture
def ada(app):
    return User.create(email="ada@example.com", password_hash="x")


@pytest.fixture
def anthropic_key(settings, ada, provider_http):
    provider_http.get(ANTHROPIC_MODELS, json={"data": [{"id": "claude-opus-4-7"}]})
    return keys.save_key(settings, ada, "anthropic", KEY)


def test_slugs_are_derived_from_names():
    assert environments.slugify("Acme Corp!") == "acme-corp"
    assert environments.slugify("  Prod / EU  ") == "prod-eu"


def test_names_that_clash_or_say_nothing_are_refused_naming_the_field(ada):
    environments.create_workspace(ada, "Acme")
    for bad in ("acme", "ACME", "", "   ", "!!!", "x" * 101):
        with pytest.raises(ValidationError) as caught:
            environments.create_workspace(ada, bad)
        assert caught.value.field == "name"
    environments.create_environment(ada, "acme", "prod")
    with pytest.raises(ValidationError):
        environments.create_environment(ada, "acme", "Prod")
    assert Workspace.select().count() == 1 and Environment.select().count() == 1


def test_resolution_override_key_default_and_fallback(settings, ada, anthropic_key):
    environments.create_workspace(ada, "Acme")
    for name in ("prod", "staging", "dev"):
        environments.create_environment(ada, "acme", name)
    environments.assign(settings, ada, "acme", "prod", "anthropic", "claude-opus-4-7")
    environments.assign(settings, ada, "acme", "staging", "anthropic", None)

    def resolved(slug):
        r = environments.resolve_environment(
            settings, environments.get_environment(ada, "acme", slug))
        return r.provider, r.model, r.source, r.uses_system_key

    assert resolved("prod") == ("anthropic", "claude-opus-4-7", "environment", False)
    assert resolved("staging") == ("anthropic", "claude-haiku-4-5", "profile_default", False)
    assert resolved("dev") == ("mistral", "pixtral-large-latest", "system_fallback", True)

    keys.set_default_model(settings, ada, "anthropic", "claude-sonnet-4-5")
    assert resolved("staging")[1] == "claude-sonnet-4-5"

    keys.remove_key(settings, ada, "anthropic")
    assert resolved("prod") == ("mistral", "pixtral-large-latest", "system_fallback", True)
    assert resolved("staging")[2] == "system_fallback"


def test_the_fallback_model_is_configurable(make_app):
    app = make_app(TRACORE_SYSTEM_MISTRAL_MODEL="mistral-large-latest")
    ada = User.create(email="ada@example.com", password_hash="x")
    environments.create_workspace(ada, "Acme")
    env = environments.create_environment(ada, "acme", "prod")
    resolved = environments.resolve_environment(app.extensions["tracore"], env)
    assert resolved.model == "mistral-large-latest"


def test_assignment_refuses_bad_input_and_changes_nothing(settings, ada, anthropic_key):
    environments.create_workspace(ada, "Acme")
    environments.create_environment(ada, "acme", "prod")
    environments.assign(settings, ada, "acme", "prod", "anthropic", "claude-opus-4-7")
    cases = [
        (("anthropic", "gpt-4o"), "model"),
        (("openai", None), "provider"),  # no stored OpenAI key
        (("nope", None), "provider"),
        ((None, "claude-opus-4-7"), "model"),
    ]
    for (provider, model), field in cases:
        with pytest.raises(ValidationError) as caught:
            environments.assign(settings, ada, "acme", "prod", provider, model)
        assert caught.value.field == field
    env = Environment.get()
    assert (env.provider_key.provider, env.model) == ("anthropic", "claude-opus-4-7")


def test_another_users_workspaces_and_environments_are_not_found(settings, ada, anthropic_key):
    environments.create_workspace(ada, "Acme")
    environments.create_environment(ada, "acme", "prod")
    mallory = User.create(email="mallory@example.com", password_hash="x")
    for attempt in (
        lambda: environments.get_workspace(mallory, "acme"),
        lambda: environments.get_environment(mallory, "acme", "prod"),
        lambda: environments.create_environment(mallory, "acme", "x"),
        lambda: environments.assign(settings, mallory, "acme", "prod", None, None),
        lambda: environments.delete_workspace(mallory, "acme"),
        lambda: environments.rename_environment(mallory, "acme", "prod", "p"),
    ):
        with pytest.raises(NotFound):
            attempt()
    assert environments.list_workspaces(settings, mallory) == []
    # Mallory may not borrow Ada's key, even for an environment of her own.
    environments.create_workspace(mallory, "Evil")
    environments.create_environment(mallory, "evil", "prod")
    with pytest.raises(ValidationError):
        environments.assign(settings, mallory, "evil", "prod", "anthropic", None)


def test_rename_and_delete(settings, ada):
    environments.create_workspace(ada, "Acme")
    environments.create_environment(ada, "acme", "prod")
    environments.rename_workspace(ada, "acme", "Acme EU")
    environments.rename_environment(ada, "acme-eu", "prod", "Production")
    assert environments.get_environment(ada, "acme-eu", "production").name == "Production"
    environments.delete_environment(ada, "acme-eu", "production")
    environments.create_environment(ada, "acme-eu", "staging")
    environments.delete_workspace(ada, "acme-eu")
    assert Workspace.select().count() == 0 and Environment.select().count() == 0


# --- /workspaces in HTTP ------------------------------------------------------------------------

def text(response):
    return response.get_data(as_text=True)


def row(html, ws, env):
    return re.search(rf'<tr id="env-{ws}-{env}"[^>]*>.*?</tr>', html, re.S).group(0)


def connect_anthropic(browser, http):
    http.get(ANTHROPIC_MODELS, json={"data": [{"id": "claude-opus-4-7"}]})
    assert browser.hx("POST", "/profile/keys/anthropic", data={"key": KEY}).status_code == 200


def test_create_assign_and_see_the_effective_model(signed_in, provider_http):
    connect_anthropic(signed_in, provider_http)
    listing = text(signed_in.hx("POST", "/workspaces", data={"name": "Acme"}))
    assert 'id="ws-acme"' in listing
    section = signed_in.hx("POST", "/workspaces/acme/environments", data={"name": "prod"})
    assert 'id="env-acme-prod"' in text(section)
    signed_in.hx("POST", "/workspaces/acme/environments", data={"name": "staging"})

    draft = text(signed_in.hx("GET", "/workspaces/acme/environments/prod?provider=anthropic"))
    assert '<option value="">Key default (claude-haiku-4-5)</option>' in draft
    assert 'data-source="system_fallback"' in draft  # nothing saved yet

    saved = signed_in.hx("PUT", "/workspaces/acme/environments/prod",
                         data={"provider": "anthropic", "model": "claude-opus-4-7"})
    assert saved.status_code == 200
    body = text(saved)
    assert body.startswith('<tr id="env-acme-prod" data-source="environment"')
    assert "Your Anthropic key · claude-opus-4-7 · set on this environment" in body

    page = text(signed_in.get("/workspaces"))
    assert "Tracore system Mistral · pixtral-large-latest · fallback" in row(
        page, "acme", "staging")
    assert 'data-source="system_fallback"' in row(page, "acme", "staging")


def test_bad_assignment_is_422_in_the_row_and_changes_nothing(signed_in, provider_http):
    connect_anthropic(signed_in, provider_http)
    signed_in.hx("POST", "/workspaces", data={"name": "Acme"})
    signed_in.hx("POST", "/workspaces/acme/environments", data={"name": "prod"})
    response = signed_in.hx("PUT", "/workspaces/acme/environments/prod",
                            data={"provider": "anthropic", "model": "gpt-4o"})
    assert response.status_code == 422
    assert 'data-error-code="validation_error"' in text(response)
    assert Environment.get().provider_key is None


def test_duplicate_and_empty_names_are_422(signed_in):
    signed_in.hx("POST", "/workspaces", data={"name": "Acme"})
    duplicate = signed_in.hx("POST", "/workspaces", data={"name": "acme"})
    assert duplicate.status_code == 422
    assert 'data-error-code="validation_error"' in text(duplicate)
    empty = signed_in.hx("POST", "/workspaces/acme/environments", data={"name": ""})
    assert empty.status_code == 422
    assert Workspace.select().count() == 1 and Environment.select().count() == 0


def test_invalid_or_untested_key_shows_a_warning_linking_to_the_profile(
    signed_in, provider_http
):
    connect_anthropic(signed_in, provider_http)
    signed_in.hx("POST", "/workspaces", data={"name": "Acme"})
    signed_in.hx("POST", "/workspaces/acme/environments", data={"name": "prod"})
    signed_in.hx("PUT", "/workspaces/acme/environments/prod", data={"provider": "anthropic"})
    ProviderKey.update(last_result="rejected").execute()
    page = text(signed_in.get("/workspaces"))
    prod = row(page, "acme", "prod")
    assert 'href="/profile#card-anthropic"' in prod and "is Invalid" in prod


def test_another_users_workspace_urls_are_404(signed_in, other_user):
    signed_in.hx("POST", "/workspaces", data={"name": "Acme"})
    signed_in.hx("POST", "/workspaces/acme/environments", data={"name": "prod"})
    for method, path in [("GET", "/workspaces/acme/environments/prod"),
                         ("PUT", "/workspaces/acme/environments/prod"),
                         ("DELETE", "/workspaces/acme/environments/prod"),
                         ("POST", "/workspaces/acme/environments"),
                         ("DELETE", "/workspaces/acme")]:
        assert other_user.hx(method, path, data={"name": "x"}).status_code == 404, path
    assert "Acme" not in text(other_user.get("/workspaces"))
    assert Environment.select().count() == 1


def count_queries(caplog, action):
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="peewee"):
        response = action()
    assert response.status_code == 200
    return sum(1 for r in caplog.records if r.name == "peewee")


def test_the_listing_costs_the_same_queries_for_1_or_200_environments(
    signed_in, provider_http, caplog
):
    connect_anthropic(signed_in, provider_http)
    user = User.get()
    key = ProviderKey.get()
    acme = Workspace.create(owner=user, slug="acme", name="Acme")
    Environment.create(workspace=acme, slug="env-0", name="env 0", provider_key=key)
    one = count_queries(caplog, lambda: signed_in.get("/workspaces"))
    Environment.insert_many([
        {"workspace": acme, "slug": f"env-{i}", "name": f"env {i}",
         "provider_key": key if i % 2 else None}
        for i in range(1, 200)
    ]).execute()
    many = count_queries(caplog, lambda: signed_in.get("/workspaces"))
    assert 0 < one == many
    assert text(signed_in.get("/workspaces")).count('<tr id="env-acme-') == 200


def test_delete_an_environment_then_the_workspace_keeping_their_runs(signed_in, app):
    from tracore import runs
    from tracore.models import Run

    signed_in.hx("POST", "/workspaces", data={"name": "Acme"})
    signed_in.hx("POST", "/workspaces/acme/environments", data={"name": "prod"})
    signed_in.hx("POST", "/workspaces/acme/environments", data={"name": "staging"})
    started = signed_in.hx("POST", "/workspaces/acme/environments/prod/runs",
                           data={"input": "hello"})
    assert started.status_code == 202 and 'data-status="queued"' in text(started)

    section = signed_in.hx("DELETE", "/workspaces/acme/environments/prod")
    assert section.status_code == 200
    assert 'id="env-acme-prod"' not in text(section) and 'id="env-acme-staging"' in text(section)
    run = Run.get()
    assert run.environment is None and run.workspace_slug == "acme"  # history stays

    listing = signed_in.hx("DELETE", "/workspaces/acme")
    assert listing.status_code == 200 and 'id="ws-acme"' not in text(listing)
    assert Workspace.select().count() == 0 and Environment.select().count() == 0
    assert runs.get_run(User.get(), run.id).environment_slug == "prod"


def test_rename_a_workspace_and_an_environment_in_place(signed_in):
    signed_in.hx("POST", "/workspaces", data={"name": "Acme"})
    signed_in.hx("POST", "/workspaces", data={"name": "Globex"})
    signed_in.hx("POST", "/workspaces/acme/environments", data={"name": "prod"})
    signed_in.hx("POST", "/workspaces/acme/environments", data={"name": "staging"})

    form = text(signed_in.hx("GET", "/workspaces/acme/rename"))
    assert 'value="Acme"' in form and "New name for Acme" in form
    renamed = signed_in.hx("PUT", "/workspaces/acme/name", data={"name": "Acme EU"})
    assert renamed.status_code == 200
    assert text(renamed).startswith('<article id="ws-acme-eu"')
    clash = signed_in.hx("PUT", "/workspaces/acme-eu/name", data={"name": "globex"})
    assert clash.status_code == 422 and 'data-error-code="validation_error"' in text(clash)

    assert "New name for prod" in text(
        signed_in.hx("GET", "/workspaces/acme-eu/environments/prod/rename"))
    row = signed_in.hx("PUT", "/workspaces/acme-eu/environments/prod/name",
                       data={"name": "Production"})
    assert text(row).startswith('<tr id="env-acme-eu-production"')
    taken = signed_in.hx("PUT", "/workspaces/acme-eu/environments/production/name",
                         data={"name": "Staging"})
    assert taken.status_code == 422
    assert sorted(e.slug for e in Environment.select()) == ["production", "staging"]
