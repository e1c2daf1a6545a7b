"""What a student sees after `make lab`: JupyterLab on the working copy of student editions, landing on the start
page through the token URL the server prints, with no "Jupyter news" prompt, the first lesson one click away.

The server runs with the exact arguments of the Makefile's `lab` recipe (read with `make -n`), plus a port and
--no-browser; the browser opens the URL the server printed, token and all. Screenshot: test-artifacts/make-lab.png.
"""
from __future__ import annotations

import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kzcourse.lessons import course
from tests.browser.helpers import CHROMIUM
from tests.e2e import helpers

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.slow]


def _recipe(work: Path, config: Path) -> tuple[list[str], list[str]]:
    """The `lab` recipe's two steps for LAB_DIR=work and STUDENT_CONFIG=config: the working-copy command
    and JupyterLab's arguments."""
    lines = subprocess.run(["make", "-s", "-n", "lab", f"LAB_DIR={work}", f"STUDENT_CONFIG={config}"],
                           cwd=helpers.ROOT, capture_output=True, text=True, check=True).stdout.splitlines()
    copy = next(shlex.split(l) for l in lines if " kzcourse lessons " in l)
    lab = shlex.split(next(l for l in lines if "jupyter lab " in l))
    # The server runs with the students' config folder, the one the copy step writes.
    assert copy[copy.index("--jupyter-config") + 1] == str(config), copy
    assert [a for a in lab if a.startswith("JUPYTER_CONFIG_DIR=")][-1] == f"JUPYTER_CONFIG_DIR={config}", lab
    return copy[copy.index("-m"):], lab[lab.index(next(a for a in lab if a.endswith("/jupyter"))) + 2:]


def test_make_lab_lands_on_the_start_page_of_the_working_copy(tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (make chromium)")
    pytest.importorskip("playwright.sync_api")
    work, config = tmp_path / "lab", tmp_path / "student-config"
    copy_args, lab_args = _recipe(work, config)
    env = helpers.isolated_env(tmp_path / "env")
    helpers.run([sys.executable, *copy_args], cwd=helpers.ROOT, env=env)
    env["JUPYTER_CONFIG_DIR"] = str(config)
    assert "--LabApp.default_url=/lab/tree/START.md" in lab_args
    port = helpers.free_port()
    log = helpers.ARTIFACTS / "make-lab-server.log"
    args = [sys.executable, "-m", "jupyter", "lab", *lab_args, "--no-browser", "--ip=127.0.0.1", f"--port={port}"]
    with helpers.server(args, cwd=work, env=env, log=log, ready_url=f"http://127.0.0.1:{port}/api"):
        deadline = time.monotonic() + 60
        while not (found := re.search(rf"http://127\.0\.0\.1:{port}/\S+", log.read_text(encoding="utf-8"))):
            assert time.monotonic() < deadline, helpers.tail(log)
            time.sleep(0.5)
        url = found.group(0)
        assert "/lab/tree/START.md?token=" in url, f"the printed URL loses the start page: {url}"
        with helpers.offline_chromium(tmp_path / "chromium") as context:
            page = context.new_page()
            page.goto(url)
            rendered = page.locator(".jp-RenderedMarkdown:has-text('Start here')")
            rendered.wait_for()
            for lesson in course():
                assert rendered.locator(f"a:has-text('{lesson.title}')").count() >= 1, lesson.id
            assert f"About {course()[0].minutes} minutes" in rendered.inner_text()
            listing = page.locator(".jp-DirListing-content .jp-DirListing-itemText")
            listing.first.wait_for()
            names = sorted(listing.all_inner_texts())
            assert names == sorted(["START.md"] + [l.id for l in course()]), names
            time.sleep(3)  # the news prompt, when enabled, appears a moment after the page
            assert not page.get_by_text("notified", exact=False).count(), "no Jupyter news prompt"
            helpers.screenshot(page, "make-lab")
            first = course()[0]
            rendered.locator("a", has_text=first.title).first.click()  # the first link: "Start here"
            page.locator(f".jp-NotebookPanel .jp-RenderedMarkdown:has-text('{first.title}')").first.wait_for()
            assert f"{first.id}.ipynb" in page.locator(".lm-TabBar-tab.jp-mod-current[data-type='document-title']").inner_text()
            assert not context.kz_blocked, context.kz_blocked

            # nbgrader's instructor tools are off for students: no Formgrader page, no Create Assignment
            # panel; the assignment list (fetch, submit) is still there.
            base = url.split("/lab/")[0]
            token = url.split("token=")[1]
            assert page.request.get(f"{base}/formgrader?token={token}").status == 404
            disabled = page.evaluate("JSON.parse(document.getElementById('jupyter-config-data').textContent)"
                                     ".disabledExtensions")
            assert {"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment"} <= set(disabled), disabled
            page.locator(".lm-MenuBar-item", has_text="Nbgrader").click()
            items = page.locator(".lm-Menu-itemLabel").all_inner_texts()
            assert "Assignment List" in items and "Formgrader" not in items and "Course List" not in items, items
            page.keyboard.press("Escape")
            assert not page.locator(".jp-SideBar [title*='Create Assignment' i], [data-id*='create-assignment' i]").count()
