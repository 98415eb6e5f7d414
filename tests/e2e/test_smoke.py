"""The first thing a new user does: create an account, see the profile, sign out."""

from playwright.sync_api import expect

from tests.e2e.conftest import register


def test_register_land_on_profile_and_sign_out(page, live_url):
    register(page, live_url)
    expect(page.get_by_role("heading", name="Provider keys")).to_be_visible()
    expect(page.get_by_role("link", name="Workspaces")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{live_url}/login")
    page.goto(f"{live_url}/profile")
    expect(page).to_have_url(f"{live_url}/login?next=/profile")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
