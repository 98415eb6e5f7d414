"""Start a run from /workspaces and watch it finish, with a real worker process."""

from playwright.sync_api import expect

from tests.e2e.conftest import create_workspace, register, settled
from tests.e2e.test_profile_cards import connect

KEY = "sk-ant-e2e-run-key-8181"


def run(page, environment_row, text):
    """Start a run from an environment row; returns the newest row of the run list."""
    environment_row.get_by_label("Run input").fill(text)
    environment_row.get_by_role("button", name="Run").click()
    return page.locator("#run-list tr").first


def test_run_from_an_environment_and_watch_it_finish(page, live_url, stub, worker):
    stub.accept(KEY, "system-mistral-key-0000")
    register(page, live_url)
    connect(page, "anthropic", KEY)
    expect(page.locator("#badge-anthropic")).to_have_attribute("data-status", "connected")

    create_workspace(page, live_url, "Acme", ["prod", "staging"])
    prod = page.locator("#env-acme-prod")
    prod.get_by_label("Key").select_option("anthropic")
    settled(page)
    prod.get_by_role("button", name="Save").click()
    expect(prod).to_have_attribute("data-source", "profile_default")
    settled(page)

    row = run(page, prod, "Extract the invoice total.")
    expect(row).to_contain_text("anthropic · claude-haiku-4-5")
    expect(row).to_contain_text("Your key …8181")
    expect(row).to_have_attribute("data-status", "succeeded", timeout=20_000)
    expect(row).to_contain_text("stub anthropic answer")
    expect(prod.get_by_label("Run input")).to_have_value("")
    expect(page.get_by_text("No runs yet")).to_be_hidden()

    row = run(page, page.locator("#env-acme-staging"), "Hello")
    expect(row).to_contain_text("mistral · pixtral-large-latest")
    expect(row).to_contain_text("Tracore system key")
    expect(row).to_have_attribute("data-status", "succeeded", timeout=20_000)


def test_an_empty_run_input_shows_the_error_beside_the_form(page, live_url, stub):
    register(page, live_url)
    create_workspace(page, live_url, "Acme", ["prod"])
    prod = page.locator("#env-acme-prod")
    run(page, prod, "   ")
    alert = prod.get_by_role("alert")
    expect(alert).to_have_attribute("data-error-code", "validation_error")
    expect(page.locator("#run-list tr[data-status]")).to_have_count(0)
    expect(page.get_by_text("No runs yet")).to_be_visible()
