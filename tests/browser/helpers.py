"""Helpers for tests that open saved HTML in headless Chromium (Playwright, sync API).

The ``browser_page`` fixture in ``tests/conftest.py`` gives a page whose every request
to anything but ``file:``/``data:``/``about:``/``blob:`` is aborted and recorded in
``page.kz_blocked``; uncaught errors and console errors go to ``page.kz_errors``.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
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


_PLAYWRIGHT: Any = None


def playwright() -> Any:
    """The one Playwright driver of this test process, started on first use.

    Playwright's sync API refuses a second ``sync_playwright()`` while one is running in the
    same thread ("using Playwright Sync API inside the asyncio loop"), so every fixture of the
    suite (tests/conftest.py, tests/course_site/, tests/e2e/) launches its Chromium from this
    driver instead of starting its own; :func:`stop_playwright` ends it when the session ends.
    """
    global _PLAYWRIGHT
    if _PLAYWRIGHT is None:
        from playwright.sync_api import sync_playwright

        _PLAYWRIGHT = sync_playwright().start()
    return _PLAYWRIGHT


def stop_playwright() -> None:
    """Stop the shared driver if it was started (called by tests/conftest.py at session end)."""
    global _PLAYWRIGHT
    if _PLAYWRIGHT is not None:
        _PLAYWRIGHT.stop()
        _PLAYWRIGHT = None


@contextlib.contextmanager
def chromium(prefix: str = "kz-chromium-") -> Iterator[Any]:
    """An isolated headless Chromium context: fresh profile and HOME in a new temporary folder.

    The caller skips first when Playwright or Chromium is missing (see tests/conftest.py).
    """
    root = Path(tempfile.mkdtemp(prefix=prefix))
    (root / "home").mkdir()
    env = dict(os.environ, HOME=str(root / "home"), XDG_CONFIG_HOME=str(root / "home"), XDG_CACHE_HOME=str(root / "home"))
    context = playwright().chromium.launch_persistent_context(
        str(root / "profile"), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, env=env,
        viewport={"width": 1000, "height": 700},
    )
    try:
        yield context
    finally:
        context.close()


def watch(page: Any, allowed: Any = None) -> Any:
    """Abort (and record in ``page.kz_blocked``) every request ``allowed(url)`` refuses (default: any
    non-local scheme); record uncaught errors and console errors in ``page.kz_errors``. Returns ``page``."""
    allowed = allowed or (lambda url: url.startswith(LOCAL_SCHEMES))
    page.kz_blocked, page.kz_errors = [], []

    def guard(route):
        url = route.request.url
        if allowed(url):
            route.continue_()
        else:
            page.kz_blocked.append(url)
            route.abort()

    page.route("**/*", guard)
    page.on("pageerror", lambda exc: page.kz_errors.append(f"pageerror: {exc}"))
    page.on("console", lambda msg: page.kz_errors.append(f"console: {msg.text}") if msg.type == "error" else None)
    return page


def open_html(page: Any, html: str, folder: Path, name: str = "page.html") -> Path:
    """Write ``html`` to ``folder/name``, open it in ``page`` and wait for the load event."""
    path = Path(folder) / name
    path.write_text(html, encoding="utf-8")
    page.goto(path.as_uri(), wait_until="load")
    return path


def count(page: Any, selector: str) -> int:
    """How many elements match ``selector`` in the page right now."""
    return page.eval_on_selector_all(selector, "els => els.length")
