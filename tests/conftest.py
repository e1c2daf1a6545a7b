"""Shared fixtures for tests/.

``browser_page``: a headless Chromium page (Playwright, sync API) that may not reach
any network host. Tests that use it are marked ``@pytest.mark.browser`` and are
skipped when Playwright or /usr/bin/chromium is missing.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from tests.browser.helpers import CHROMIUM, CHROMIUM_ARGS, LOCAL_SCHEMES


@pytest.fixture(scope="session")
def _chromium_context():
    """One isolated Chromium for the session: fresh user-data-dir, HOME in a temp dir."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    root = Path(tempfile.mkdtemp(prefix="kz-chromium-"))
    (root / "home").mkdir()
    env = dict(os.environ, HOME=str(root / "home"), XDG_CONFIG_HOME=str(root / "home"), XDG_CACHE_HOME=str(root / "home"))
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(root / "profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            env=env,
            viewport={"width": 1000, "height": 700},
        )
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def browser_page(_chromium_context):
    """A new page that aborts (and records) every request to a non-local URL.

    ``page.kz_blocked``: URLs that were aborted; ``page.kz_errors``: uncaught
    exceptions and console errors.
    """
    page = _chromium_context.new_page()
    page.kz_blocked = []
    page.kz_errors = []

    def guard(route):
        url = route.request.url
        if url.startswith(LOCAL_SCHEMES):
            route.continue_()
        else:
            page.kz_blocked.append(url)
            route.abort()

    page.route("**/*", guard)
    page.on("pageerror", lambda exc: page.kz_errors.append(f"pageerror: {exc}"))
    page.on("console", lambda msg: page.kz_errors.append(f"console: {msg.text}") if msg.type == "error" else None)
    try:
        yield page
    finally:
        page.close()
