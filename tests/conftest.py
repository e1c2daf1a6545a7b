"""Shared fixtures for tests/.

``browser_page``: a headless Chromium page (Playwright, sync API) that may not reach
any network host. Tests that use it are marked ``@pytest.mark.browser`` and are
skipped when Playwright or /usr/bin/chromium is missing.
"""
from __future__ import annotations

import os

import pytest

from tests.browser.helpers import CHROMIUM, chromium, stop_playwright, watch


def pytest_sessionfinish(session, exitstatus):
    """Stop the one Playwright driver the browser fixtures share (tests/browser/helpers.py)."""
    stop_playwright()


@pytest.fixture(scope="session")
def _chromium_context():
    """One isolated Chromium for the session: fresh user-data-dir, HOME in a temp dir."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api")
    with chromium() as context:
        yield context


@pytest.fixture
def browser_page(_chromium_context):
    """A new page that aborts (and records) every request to a non-local URL.

    ``page.kz_blocked``: URLs that were aborted; ``page.kz_errors``: uncaught
    exceptions and console errors.
    """
    page = watch(_chromium_context.new_page())
    try:
        yield page
    finally:
        page.close()
