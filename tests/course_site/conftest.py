"""Chromium for the site tests, started for this package only.

Launched from the suite's one Playwright driver (tests/browser/helpers.py: Playwright's sync
API allows one per thread); this package's Chromium is closed when its last test ends.
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
