"""Helpers for the end-to-end tests: isolated environments, servers on free ports,
a temporary nbgrader course with released lessons, and an offline headless Chromium.

Every process these helpers start gets its own HOME, JUPYTER_* and IPYTHONDIR under
a temporary folder, listens on 127.0.0.1 only, and is stopped (process group) when
its ``with`` block ends. Browser pages may reach 127.0.0.1 and nothing else.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.browser.helpers import CHROMIUM, CHROMIUM_ARGS, playwright

ROOT = Path(__file__).resolve().parents[2]
#: Screenshots and server logs of the end-to-end tests (gitignored).
ARTIFACTS = ROOT / "test-artifacts"
BINDIR = Path(sys.executable).parent
#: Generous: the CI machine has two cores and runs other tests at the same time.
TIMEOUT_MS = 180_000


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def isolated_env(root: Path, **extra: str) -> dict[str, str]:
    """An environment whose HOME, Jupyter and IPython folders all live under ``root``.

    The venv's bin folder comes first on PATH: nbgrader calls ``alembic`` and
    ``jupyter`` by name.
    """
    env = dict(os.environ)
    for name in ("HOME", "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR",
                 "XDG_CACHE_HOME", "XDG_CONFIG_HOME"):
        folder = root / name.lower()
        folder.mkdir(parents=True, exist_ok=True)
        env[name] = str(folder)
    env["PATH"] = os.pathsep.join([str(BINDIR), env.get("PATH", "")])
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    env.pop("JUPYTERHUB_API_TOKEN", None)
    env.update(extra)
    return env


def run(args: list[str], *, cwd: Path, env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess:
    """Run a command; on failure raise with its output so the test report shows why."""
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args))} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def wait_for_http(url: str, proc: subprocess.Popen, log: Path, timeout: float = 180) -> None:
    """Wait until ``url`` answers with a success status, failing early if ``proc`` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited with {proc.returncode} before answering {url}:\n{tail(log)}")
        try:
            urllib.request.urlopen(url, timeout=5)
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            time.sleep(0.5)
    raise AssertionError(f"nothing answered at {url} within {timeout} s:\n{tail(log)}")


def tail(log: Path, lines: int = 60) -> str:
    """The end of a log file (for error messages)."""
    try:
        return "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return f"(no log at {log})"


@contextlib.contextmanager
def server(args: list[str], *, cwd: Path, env: dict[str, str], log: Path, ready_url: str,
           timeout: float = 180) -> Iterator[subprocess.Popen]:
    """Start a server in its own process group, wait for ``ready_url``, stop it afterwards."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_for_http(ready_url, proc, log, timeout)
            yield proc
        finally:
            stop(proc)


def stop(proc: subprocess.Popen, grace: float = 20) -> None:
    """SIGTERM the process group, then SIGKILL what is left after ``grace`` seconds."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def make_course(course_dir: Path, lesson_ids: list[str]) -> Path:
    """A temporary nbgrader course: the repository's nbgrader_config.py and a copy of the lessons."""
    course_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "nbgrader_config.py", course_dir)
    (course_dir / "lessons").mkdir(exist_ok=True)
    shutil.copy(ROOT / "lessons" / "course.toml", course_dir / "lessons")
    for lesson in lesson_ids:
        shutil.copytree(ROOT / "lessons" / lesson, course_dir / "lessons" / lesson,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints"), dirs_exist_ok=True)
    return course_dir


def nbgrader(course_dir: Path, env: dict[str, str], *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    """Run nbgrader's real CLI in ``course_dir``."""
    return run([sys.executable, "-m", "nbgrader", *args], cwd=course_dir, env=env, timeout=timeout)


def is_local(url: str) -> bool:
    """True for the URLs a page may load offline: 127.0.0.1/localhost and inline schemes."""
    if url.startswith(("data:", "about:", "blob:")):
        return True
    host = urlsplit(url).hostname or ""
    return host in ("127.0.0.1", "localhost")


@contextlib.contextmanager
def offline_chromium(root: Path, viewport: dict[str, int] | None = None) -> Iterator[Any]:
    """A headless Debian Chromium (fresh profile, HOME under ``root``) whose pages reach 127.0.0.1 only.

    Yields a Playwright browser context with ``context.kz_blocked``, the list of
    every URL that was aborted because it pointed elsewhere.
    """
    (root / "home").mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, HOME=str(root / "home"), XDG_CONFIG_HOME=str(root / "home"), XDG_CACHE_HOME=str(root / "home"))
    context = playwright().chromium.launch_persistent_context(
        str(root / "profile"), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, env=env,
        viewport=viewport or {"width": 1280, "height": 900},
    )
    context.kz_blocked = []

    def guard(route):
        if is_local(route.request.url):
            route.continue_()
        else:
            context.kz_blocked.append(route.request.url)
            route.abort()

    # Inline schemes (blob:, data:) never reach a network and are not routed: a routed blob: module
    # (how anywidget loads a widget's front end) never finishes loading in Chromium.
    context.route(lambda url: not url.startswith(("data:", "blob:", "about:")), guard)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context
    finally:
        context.close()


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page PNG to test-artifacts/<name>.png and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path
