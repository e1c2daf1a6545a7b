"""Chromium for the site tests, started for this package only.

Playwright's sync API allows one running instance per process. The suite's session-wide
``_chromium_context`` (tests/conftest.py) would stay open into tests/e2e/, whose tests start
their own; this package's instance is stopped when its last test ends.
"""
from __future__ import annotations

import os

import pytest

from tests.browser.helpers import CHROMIUM, LOCAL_SCHEMES, chromium, watch
from tests.e2e.helpers import is_local


@pytest.fixture(scope="package")
def site_chromium():
    """A headless Chromium context (fresh profile, HOME in a temporary folder) for this package."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api")
    with chromium("kz-site-chromium-") as context:
        yield context


@pytest.fixture
def site_page(site_chromium):
    """A page that may load files and 127.0.0.1 only; ``kz_blocked`` and ``kz_errors`` as ``browser_page``'s."""
    page = watch(site_chromium.new_page(), lambda url: url.startswith(LOCAL_SCHEMES) or is_local(url))
    try:
        yield page
    finally:
        page.close()
