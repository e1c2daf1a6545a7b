"""Helpers for tests that open saved HTML in headless Chromium (Playwright, sync API).

The ``browser_page`` fixture in ``tests/conftest.py`` gives a page whose every request
to anything but ``file:``/``data:``/``about:``/``blob:`` is aborted and recorded in
``page.kz_blocked``; uncaught errors and console errors go to ``page.kz_errors``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

#: Chromium as installed by the system package manager (tests never download a browser).
CHROMIUM = "/usr/bin/chromium"
#: Flags for a quiet, isolated, headless Chromium.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOCAL_SCHEMES = ("file:", "data:", "about:", "blob:")


def open_html(page: Any, html: str, folder: Path, name: str = "page.html") -> Path:
    """Write ``html`` to ``folder/name``, open it in ``page`` and wait for the load event."""
    path = Path(folder) / name
    path.write_text(html, encoding="utf-8")
    page.goto(path.as_uri(), wait_until="load")
    return path


def count(page: Any, selector: str) -> int:
    """How many elements match ``selector`` in the page right now."""
    return page.eval_on_selector_all(selector, "els => els.length")
