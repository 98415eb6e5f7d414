"""The provider cards in a real browser, against the provider stub over HTTP."""

import datetime as dt

from playwright.sync_api import expect

from tests.e2e.conftest import register, settled
from tracore.models import ProviderKey, utcnow

GOOD = "sk-ant-e2e-good-key-1111"
OTHER_GOOD = "sk-ant-e2e-good-key-2222"
BAD = "sk-ant-e2e-revoked-9999"


def connect(page, provider, key, model=None):
    card = page.locator(f"#card-{provider}")
    card.get_by_role("button", name="Connect").click()
    card.get_by_label("API key").fill(key)
    settled(page)
    if model:
        card.locator("select[name=default_model]").select_option(model)
    card.get_by_role("button", name="Test & Save").click()
    return card


def test_connect_test_replace_default_model_and_remove(page, live_url, stub):
    stub.accept(GOOD)
    register(page, live_url)

    card = connect(page, "anthropic", GOOD, "claude-sonnet-4-5")
    badge = page.locator("#badge-anthropic")
    expect(badge).to_have_attribute("data-status", "connected")
    expect(card).to_contain_text("…1111")
    expect(card.get_by_label("Default model")).to_have_value("claude-sonnet-4-5")
    assert GOOD not in page.content()

    # Test replaces only the badge: another node of the card keeps its identity.
    page.evaluate("document.querySelector('#card-anthropic h2').dataset.marker = 'kept'")
    page.evaluate("document.querySelector('#badge-anthropic').dataset.marker = 'old'")
    calls = len(stub.calls)
    card.get_by_role("button", name="Test").click()
    expect(page.locator("#badge-anthropic:not([data-marker])")).to_have_count(1)
    expect(badge).to_have_attribute("data-status", "connected")
    assert page.evaluate("document.querySelector('#card-anthropic h2').dataset.marker") == "kept"
    assert len(stub.calls) == calls + 1

    # A rejected Replace shows the alert inside the card and keeps the key Connected.
    card.get_by_role("button", name="Replace").click()
    card.get_by_label("API key").fill(BAD)
    settled(page)
    card.get_by_role("button", name="Test & Save").click()
    alert = card.get_by_role("alert")
    expect(alert).to_have_attribute("data-error-code", "invalid_key")
    expect(card.get_by_label("API key")).to_have_value("")
    card.get_by_role("button", name="Cancel").click()
    expect(card.get_by_role("button", name="Replace")).to_be_visible()
    settled(page)
    expect(badge).to_have_attribute("data-status", "connected")
    expect(card).to_contain_text("…1111")

    # The default model saves on change, with no provider call.
    calls = len(stub.calls)
    card.get_by_label("Default model").select_option("claude-opus-4-7")
    expect(card.get_by_role("status").filter(has_text="Default model saved")).to_be_visible()
    page.reload()
    expect(page.locator("#card-anthropic").get_by_label("Default model")).to_have_value(
        "claude-opus-4-7"
    )
    assert len(stub.calls) == calls

    # Remove through the dialog; the card returns to its Connect state.
    card = page.locator("#card-anthropic")
    card.get_by_role("button", name="Remove").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("No environment uses it")
    dialog.get_by_role("button", name="Remove key").click()
    expect(card.get_by_role("button", name="Connect")).to_be_visible()
    expect(page.locator("#badge-anthropic")).not_to_have_attribute("data-status", "connected")
    assert stub.keys_seen("anthropic").count(BAD) == 1


def test_a_stale_key_retests_itself_when_the_profile_opens(page, live_url, stub):
    stub.accept(GOOD, OTHER_GOOD)
    register(page, live_url)
    connect(page, "anthropic", GOOD)
    connect(page, "openai", OTHER_GOOD)
    expect(page.locator("#badge-openai")).to_have_attribute("data-status", "connected")
    week_ago = utcnow() - dt.timedelta(days=8)
    ProviderKey.update(last_success_at=week_ago, last_attempt_at=week_ago).execute()

    stub.delay = 0.7  # long enough to see the spinner; both re-tests run at once
    calls = len(stub.calls)
    page.goto(f"{live_url}/profile")
    for provider in ("anthropic", "openai"):
        expect(page.locator(f"#badge-{provider}")).to_have_attribute("data-status", "checking")
    expect(page.locator("#badge-anthropic .spinner")).to_be_visible()
    for provider in ("anthropic", "openai"):
        expect(page.locator(f"#badge-{provider}")).to_have_attribute(
            "data-status", "connected"
        )
    assert len(stub.calls) == calls + 2
    assert stub.max_in_flight == 2  # the two re-tests were in flight together


def test_the_profile_works_at_360px(page, live_url, stub):
    stub.accept(GOOD)
    page.set_viewport_size({"width": 360, "height": 740})
    register(page, live_url)
    card = connect(page, "mistral", GOOD)
    expect(page.locator("#badge-mistral")).to_have_attribute("data-status", "connected")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360
    box = card.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360
