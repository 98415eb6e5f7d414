"""Start a run from /workspaces and watch it finish, with a real worker process."""

from playwright.sync_api import expect

from tests.e2e.conftest import register, settled
from tests.e2e.test_profile_cards import connect

KEY = "sk-ant-e2e-run-key-8181"


def test_run_from_an_environment_and_watch_it_finish(page, live_url, stub, worker):
    stub.accept(KEY, "system-mistral-key-0000")
    register(page, live_url)
    connect(page, "anthropic", KEY)
    expect(page.locator("#badge-anthropic")).to_have_attribute("data-status", "connected")

    page.get_by_role("link", name="Workspaces").click()
    page.get_by_label("Workspace name").fill("Acme")
    page.get_by_role("button", name="Create workspace").click()
    settled(page)
    workspace = page.locator("#ws-acme")
    for name in ("prod", "staging"):
        workspace.get_by_label("Environment name").fill(name)
        workspace.get_by_role("button", name="Create environment").click()
        expect(page.locator(f"#env-acme-{name}")).to_be_visible()
        settled(page)
    prod = page.locator("#env-acme-prod")
    prod.get_by_label("Key").select_option("anthropic")
    settled(page)
    prod.get_by_role("button", name="Save").click()
    expect(prod).to_have_attribute("data-source", "profile_default")
    settled(page)

    prod.get_by_label("Run input").fill("Extract the invoice total.")
    prod.get_by_role("button", name="Run").click()
    row = page.locator("#run-list tr").first
    expect(row).to_contain_text("anthropic · claude-haiku-4-5")
    expect(row).to_contain_text("Your key …8181")
    expect(row).to_have_attribute("data-status", "succeeded", timeout=20_000)
    expect(row).to_contain_text("stub anthropic answer")
    expect(prod.get_by_label("Run input")).to_have_value("")

    staging = page.locator("#env-acme-staging")
    staging.get_by_label("Run input").fill("Hello")
    staging.get_by_role("button", name="Run").click()
    first = page.locator("#run-list tr").first
    expect(first).to_contain_text("mistral · pixtral-large-latest")
    expect(first).to_contain_text("Tracore system key")
    expect(first).to_have_attribute("data-status", "succeeded", timeout=20_000)


def test_an_empty_run_input_shows_the_error_beside_the_form(page, live_url, stub):
    register(page, live_url)
    page.goto(f"{live_url}/workspaces")
    page.get_by_label("Workspace name").fill("Acme")
    page.get_by_role("button", name="Create workspace").click()
    settled(page)
    workspace = page.locator("#ws-acme")
    workspace.get_by_label("Environment name").fill("prod")
    workspace.get_by_role("button", name="Create environment").click()
    settled(page)
    prod = page.locator("#env-acme-prod")
    prod.get_by_label("Run input").fill("   ")
    prod.get_by_role("button", name="Run").click()
    alert = prod.get_by_role("alert")
    expect(alert).to_have_attribute("data-error-code", "validation_error")
    expect(page.locator("#run-list tr")).to_have_count(0)
