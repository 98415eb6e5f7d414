"""Browser tests: the real app on a real port, driven by Debian's headless Chromium.

The app reaches the provider stub over HTTP through TRACORE_<ID>_BASE_URL.
"""

from __future__ import annotations

import os

import pytest

from tests.conftest import require_or_skip

CHROMIUM = "/usr/bin/chromium"


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser_type_launch_args():
    require_or_skip(
        os.path.exists(CHROMIUM), f"{CHROMIUM} is not installed (apt-get install chromium)"
    )
    return {
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture
def page(page):
    page.set_default_timeout(10_000)
    return page


def register(page, live_url, email="ada@example.com", password="correct horse battery"):
    page.goto(f"{live_url}/register")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(f"{live_url}/profile")


def settled(page):
    """Wait until htmx has no request in flight and has finished swapping and settling."""
    page.wait_for_function(
        "() => !document.querySelector("
        "'.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
    )


def create_workspace(page, live_url, name, environments):
    """On /workspaces: create a workspace and its environments; returns its section."""
    page.goto(f"{live_url}/workspaces")
    page.get_by_label("Workspace name").fill(name)
    page.get_by_role("button", name="Create workspace").click()
    settled(page)
    workspace = page.locator(f"#ws-{name.lower()}")
    for env in environments:
        workspace.get_by_label("Environment name").fill(env)
        workspace.get_by_role("button", name="Create environment").click()
        page.locator(f"#env-{name.lower()}-{env}").wait_for()
        settled(page)
    return workspace
