"""Does the site's JupyterHub launch button open the lesson's student edition in the user's server?

A real JupyterHub on 127.0.0.1 (the configuration of ``tests/e2e/test_jupyterhub.py``), a git
repository whose ``student`` branch holds the student editions as ``<id>/<id>.ipynb`` (made
the way the README says: the site's ``notebooks/`` folder committed on its own branch), and
Chromium with every non-local request blocked: the student logs in, follows the link the
site renders (an nbgitpuller ``git-pull`` link), and JupyterLab opens the cloned lesson.
"""
from __future__ import annotations

import re
import secrets
import shutil
import subprocess
import sys

import pytest

from tests.e2e import helpers
from tests.e2e.test_jupyterhub import HUB_CONFIG, PASSWORD, Hub, _proxy_command, _stop_proxy

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.browser]

LESSON = "01-article"
STUDENT = "student-site"


def _git(*args: str, cwd) -> None:
    env = {"GIT_AUTHOR_NAME": "kzcourse", "GIT_AUTHOR_EMAIL": "kz@example.edu", "GIT_COMMITTER_NAME": "kzcourse",
           "GIT_COMMITTER_EMAIL": "kz@example.edu", "PATH": "/usr/bin:/bin", "HOME": str(cwd)}
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True)


def test_the_jupyterhub_button_opens_the_student_edition(tmp_path_factory, site_page):
    pytest.importorskip("nbgitpuller")
    from kzcourse.site import Launch, student_editions
    from kzcourse.site.build import lesson_panel
    from kzcourse.lessons import lesson

    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    proxy = _proxy_command()
    singleuser = helpers.BINDIR / "jupyterhub-singleuser"
    root = tmp_path_factory.mktemp("hub-launch")

    # The student branch: the student editions, <id>/<id>.ipynb, committed on their own branch.
    work = root / "student-work"
    student_editions(work, [LESSON])
    _git("init", "-q", "-b", "student", cwd=work)
    _git("add", ".", cwd=work)
    _git("commit", "-q", "-m", "Student editions", cwd=work)
    repo = root / "kzcourse-student.git"
    _git("clone", "-q", "--bare", str(work), str(repo), cwd=root)

    homes = root / "homes"
    (homes / STUDENT).mkdir(parents=True)
    port, service_token = helpers.free_port(), secrets.token_hex(24)
    config = root / "jupyterhub_config.py"
    config.write_text(HUB_CONFIG.format(
        port=port, hub_port=helpers.free_port(), proxy_api_port=helpers.free_port(), proxy=proxy, root=str(root),
        password=PASSWORD, users=[STUDENT], instructor=STUDENT, singleuser=str(singleuser),
        service_token=service_token,
    ), encoding="utf-8")
    url = f"http://127.0.0.1:{port}"
    launch = Launch(hub=url, repo=repo.as_uri(), branch="student")
    panel = lesson_panel(lesson(LESSON), launch, "student")
    link = re.search(r'<a class="kz-button" href="([^"]+)">Open on JupyterHub', panel).group(1).replace("&amp;", "&")
    args = [sys.executable, "-m", "jupyterhub", "-f", str(config), "--no-ssl"]
    try:
        with helpers.server(args, cwd=root, env=helpers.isolated_env(root / "hub-env"),
                            log=helpers.ARTIFACTS / "jupyterhub-site-launch.log", ready_url=f"{url}/hub/api",
                            timeout=240):
            hub = Hub(url, service_token)
            hub.tokens[STUDENT] = hub.api("POST", f"/users/{STUDENT}/tokens", json={"expires_in": 3600})["token"]
            hub.start_server(STUDENT)
            page = site_page  # files and 127.0.0.1 only
            page.set_default_timeout(helpers.TIMEOUT_MS)
            page.goto(f"{url}/hub/login")
            page.fill("input[name=username]", STUDENT)
            page.fill("input[name=password]", PASSWORD)
            page.click("input[type=submit], button[type=submit]")
            page.wait_for_url(re.compile(r".*/(user|hub)/.*"))
            page.goto(link)
            page.wait_for_url(re.compile(rf".*/lab/tree/kzcourse-student/{LESSON}/{LESSON}\.ipynb.*"))
            page.wait_for_selector(".jp-Notebook .jp-Cell")
            page.wait_for_function(
                "t => [...document.querySelectorAll('.jp-Notebook .jp-RenderedMarkdown h1')]"
                ".some(h => h.textContent.includes(t))", arg=lesson(LESSON).title)
            helpers.screenshot(page, "site-jupyterhub-launch")
            tabs = page.locator("#jp-main-dock-panel .lm-TabBar-tabLabel").all_inner_texts()
            assert f"{LESSON}.ipynb" in tabs, tabs
            assert page.kz_blocked == [], page.kz_blocked[:5]
    finally:
        _stop_proxy(root / "proxy.pid")
    cloned = homes / STUDENT / "kzcourse-student" / LESSON / f"{LESSON}.ipynb"
    assert cloned.is_file()
    text = cloned.read_text(encoding="utf-8")
    assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text
    assert "NotImplementedError" in text  # the student edition's answer stubs
