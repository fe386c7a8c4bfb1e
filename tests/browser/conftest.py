"""Browser tests drive Debian's Chromium with Playwright (Playwright's own browser download
does not work offline). When Chromium is missing and we run as root, it is installed here."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _ensure_chromium() -> str:
    if os.path.exists(CHROMIUM):
        return CHROMIUM
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, timeout=600)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "chromium"], check=True, env=env, timeout=900
        )
        return CHROMIUM
    pytest.fail("Chromium is missing: run `sudo apt-get install chromium` and try again.")


@pytest.fixture(scope="module")
def browser():
    executable = _ensure_chromium()
    from django.db import connections
    from playwright.sync_api import sync_playwright

    # While Playwright's sync API runs, code runs in a greenlet with its own context, and
    # Django's connections opened there are invisible to pytest-django's teardown. Keep
    # Playwright to this module (scope="module") and close connections on both sides, or
    # PostgreSQL refuses to drop the test database ("accessed by other users").
    connections.close_all()

    # Playwright's sync API runs an event loop in this thread; the Django ORM calls that
    # tests make around it are still plain synchronous calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_FLAGS
        )
        yield browser
        browser.close()
        connections.close_all()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1200, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()
