"""Workspaces in a real browser: assign a key per environment, then remove it from /profile."""

from playwright.sync_api import expect

from tests.e2e.conftest import create_workspace, register, settled
from tests.e2e.test_profile_cards import connect

KEY = "sk-ant-e2e-workspace-4242"


def test_assign_a_key_then_remove_it_and_the_environment_falls_back(page, live_url, stub):
    stub.accept(KEY)
    register(page, live_url)
    connect(page, "anthropic", KEY)
    expect(page.locator("#badge-anthropic")).to_have_attribute("data-status", "connected")

    create_workspace(page, live_url, "Acme", ["prod", "staging"])

    prod = page.locator("#env-acme-prod")
    prod.get_by_label("Key").select_option("anthropic")
    expect(prod.get_by_label("Model")).to_contain_text("Key default (claude-haiku-4-5)")
    settled(page)
    prod.get_by_label("Model").select_option("claude-opus-4-7")
    prod.get_by_role("button", name="Save").click()
    expect(prod).to_have_attribute("data-source", "environment")
    expect(prod).to_contain_text("Your Anthropic key · claude-opus-4-7 · set on this environment")
    staging = page.locator("#env-acme-staging")
    expect(staging).to_have_attribute("data-source", "system_fallback")
    expect(staging).to_contain_text("Tracore system Mistral · pixtral-large-latest · fallback")

    page.get_by_role("link", name="Profile").click()
    page.locator("#card-anthropic").get_by_role("button", name="Remove").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.locator("li")).to_have_text(["acme/prod"])
    dialog.get_by_role("button", name="Remove key").click()
    expect(page.locator("#card-anthropic").get_by_role("button", name="Connect")).to_be_visible()

    page.get_by_role("link", name="Workspaces").click()
    prod = page.locator("#env-acme-prod")
    expect(prod).to_have_attribute("data-source", "system_fallback")
    expect(prod).to_contain_text("Tracore system Mistral · pixtral-large-latest · fallback")
