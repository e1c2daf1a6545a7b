"""Does the released Almaty lesson work for a student in JupyterLab, in a real browser, offline?

One test, one JupyterLab server, one headless Chromium that may reach 127.0.0.1 and
nothing else. Screenshots go to test-artifacts/jupyterlab-*.png.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.browser.helpers import CHROMIUM
from tests.browser.maps_expect import almaty_expected
from tests.e2e import helpers

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.slow]

LESSON = "04-almaty"
CHART_LESSON = "03-timeline"  # 04 draws no plotly chart; 03's timeline does


def _lab_settings(folder: Path) -> Path:
    """JupyterLab user settings for the test: every cell kept in the DOM, no news or update checks."""
    settings = {
        "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
    }
    for name, value in settings.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on 127.0.0.1 in a temporary course holding the released lessons."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (make chromium)")
    pytest.importorskip("playwright.sync_api")
    root = tmp_path_factory.mktemp("lab")
    # The classroom behind a firewall: the documented switch that makes every map inline Leaflet
    # and draw the vendored country polygons instead of tiles (README, "Maps offline").
    env = helpers.isolated_env(root / "env", KZCOURSE_OFFLINE="1")
    course = helpers.make_course(root / "course", [LESSON, CHART_LESSON])
    for lesson in (LESSON, CHART_LESSON):
        helpers.nbgrader(course, env, "generate_assignment", lesson, "--force")
    port, token = helpers.free_port(), secrets.token_hex(16)
    args = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={course}",
        f"--LabApp.user_settings_dir={_lab_settings(root / 'settings')}",
        f"--LabApp.workspaces_dir={root / 'workspaces'}",
        "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if os.geteuid() == 0:  # CI containers run as root; Jupyter refuses that unless told
        args.append("--allow-root")
    url = f"http://127.0.0.1:{port}"
    log = helpers.ARTIFACTS / "jupyterlab-server.log"
    with helpers.server(args, cwd=course, env=env, log=log, ready_url=f"{url}/api/status?token={token}"):
        yield {"url": url, "token": token, "course": course, "root": root, "log": log}


def _solved_copy(source: Path, release: Path, target: Path) -> Path:
    """The release with every answer cell replaced by the source's solution: a student's finished copy."""
    import nbformat

    src = {c.metadata.nbgrader["grade_id"]: c.source for c in nbformat.read(source, as_version=4).cells
           if c.get("metadata", {}).get("nbgrader", {}).get("solution")}
    nb = nbformat.read(release, as_version=4)
    for cell in nb.cells:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution") and gid in src:
            cell.source = "\n".join(l for l in src[gid].splitlines() if "### BEGIN SOLUTION" not in l and "### END SOLUTION" not in l)
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    return target


def _sessions(lab) -> list[dict]:
    """The server's notebook sessions (each with its kernel's state and browser connections)."""
    with urllib.request.urlopen(f"{lab['url']}/api/sessions?token={lab['token']}", timeout=10) as response:
        return json.load(response)


def _shut_down_sessions(lab) -> None:
    """Shut down every running notebook's kernel, as a student closing a finished notebook would."""
    for session in _sessions(lab):
        request = urllib.request.Request(
            f"{lab['url']}/api/sessions/{session['id']}?token={lab['token']}", method="DELETE")
        urllib.request.urlopen(request, timeout=60).close()


def _open_notebook(page, lab, path: str):
    """Open ``path`` in JupyterLab; return the notebook panel once its kernel is connected and idle.

    The page's own status widgets say "idle" for a moment before the kernel has even started
    (measured: the panel's execution indicator goes idle -> initializing -> idle), so they cannot
    tell a connected kernel from none. The server can: wait until it has a session for this
    notebook whose kernel is idle and has a browser connection, then for the panel to agree.
    The notebooks opened before are closed first (their kernels shut down, the workspace reset
    with ``?reset``): JupyterLab would otherwise reopen them all on every page load, and on a
    busy machine one of them was seen to hang while loading.
    """
    _shut_down_sessions(lab)
    page.goto(f"{lab['url']}/lab/tree/{path}?reset&token={lab['token']}")
    panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    panel.locator(".jp-Notebook .jp-Cell").first.wait_for()
    panel.locator(".jp-Toolbar-kernelName:has-text('Python 3')").wait_for()
    deadline, session = time.monotonic() + helpers.TIMEOUT_MS / 1000, None
    while time.monotonic() < deadline:
        session = next((s for s in _sessions(lab) if s.get("path") == path), None)
        kernel = (session or {}).get("kernel") or {}
        if kernel.get("execution_state") == "idle" and kernel.get("connections", 0) >= 1:
            break
        page.wait_for_timeout(500)  # not time.sleep: the request guard runs only while Playwright waits
    else:
        raise AssertionError(f"no connected idle kernel for {path} after {helpers.TIMEOUT_MS / 1000:.0f} s: {session}")
    panel.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for()
    return panel


def _run_cell(page, cell) -> None:
    """Run one cell with Shift+Enter and wait for its execution count.

    A keystroke that JupyterLab drops (the cell left as ``[ ]:``, not queued as ``[*]:``) is
    sent again, at most twice more; a cell that is queued or running is waited for.
    """
    prompt = cell.locator(".jp-InputPrompt")
    deadline = time.monotonic() + helpers.TIMEOUT_MS / 1000
    for attempt in range(3):
        cell.locator(".jp-InputArea-editor").click()
        page.keyboard.press("Shift+Enter")
        resend = time.monotonic() + 20
        while time.monotonic() < deadline:
            text = prompt.inner_text()
            if re.search(r"\[\d+\]", text):
                return
            if "*" not in text and time.monotonic() > resend:
                break  # not queued: the keystroke was lost
            page.wait_for_timeout(250)
        else:
            break
    raise AssertionError(f"cell never ran (prompt {prompt.inner_text()!r}) after {attempt + 1} Shift+Enter")


def _menu(page, menu: str, item: str) -> None:
    page.click(f".lm-MenuBar-itemLabel:text-is('{menu}')")
    page.click(f".lm-Menu-itemLabel:text-is('{item}')")


def _map_frames(page) -> dict[str, object]:
    """The folium map iframes on the page: ``{'explorer': frame, 'output': [frames]}``."""
    found = {"explorer": None, "output": []}
    for frame in page.frames:
        if frame.parent_frame is None:
            continue
        in_widget = frame.frame_element().evaluate("e => !!e.closest('.widget-vbox, .widget-html')")
        if in_widget:
            found["explorer"] = frame
        else:
            found["output"].append(frame)
    return found


def _markers(frame) -> int:
    return frame.eval_on_selector_all(".leaflet-marker-icon", "els => els.length")


def _validate(page, panel) -> str:
    """Press nbgrader's Validate button; return the text of its result dialog."""
    panel.locator(".validate-button").click()
    dialog = page.locator(".jp-Dialog:has-text('Validation Results')")
    dialog.wait_for()
    return dialog.inner_text()


def _close_dialog(page) -> None:
    page.locator(".jp-Dialog button.jp-mod-accept").click()
    page.locator(".jp-Dialog").wait_for(state="detached")


def test_released_almaty_lesson_works_in_jupyterlab_offline(lab, tmp_path):
    """Run All on the released 04-almaty with every non-local request blocked: do both maps draw
    every marker, does moving the explorer's day slider redraw its map, does the timeline chart
    (lesson 03) draw every point, and does nbgrader's Validate report what is unanswered — and
    pass a finished copy?"""
    import nbformat

    course = lab["course"]
    release = nbformat.read(course / "release" / LESSON / f"{LESSON}.ipynb", as_version=4)
    # What a student who answers nothing should be told: every test cell fails, every written answer is missing.
    test_cells = [c for c in release.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")]
    written = [c for c in release.cells if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("grade")]
    expected = {"explorer": almaty_expected(None, day=19), "day1": almaty_expected(None, day=1),
                "map_day5": almaty_expected(None, day=5)}
    assert sum(expected["explorer"].values()) != sum(expected["day1"].values()), "pick a day whose map differs"
    _solved_copy(course / "lessons" / LESSON / f"{LESSON}.ipynb",
                          course / "release" / LESSON / f"{LESSON}.ipynb", course / "finished" / f"{LESSON}.ipynb")

    with helpers.offline_chromium(tmp_path / "chromium") as context:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        try:
            _student_session(page, context, lab, errors, expected, test_cells, written)
        except Exception:
            helpers.screenshot(page, "jupyterlab-failure")
            raise


def _student_session(page, context, lab, errors, expected, test_cells, written) -> None:
    """The browser steps of the test above (split out so a failure leaves a screenshot)."""
    import nbformat
    from kzcourse import charts

    course = lab["course"]
    received: list[int] = []  # bytes of every websocket frame the browser receives (the kernel's messages)
    page.on("websocket", lambda ws: ws.on("framereceived", lambda f: received.append(len(f))))
    panel = _open_notebook(page, lab, f"release/{LESSON}/{LESSON}.ipynb")
    helpers.screenshot(page, "jupyterlab-01-opened")

    _menu(page, "Run", "Run All Cells")
    # Run All stops at the first unanswered question, which raises NotImplementedError;
    # every cell above it (the explorer and the day-5 map) has run by then.
    panel.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").first.wait_for()
    panel.locator(".jp-OutputArea-output:has-text('NotImplementedError')").first.wait_for()

    # The explorer: a slider, and a map with every marker of 1-19 January.
    slider = panel.locator(".jp-OutputArea-output .widget-slider").first
    slider.wait_for()
    assert slider.locator(".widget-readout").inner_text().strip() == "19"
    panel.locator(".jp-OutputArea-output .widget-vbox iframe").first.wait_for()  # the explorer's map (anywidget, loads async)
    frames = _map_frames(page)
    assert frames["explorer"] is not None and len(frames["output"]) == 1, [f.url for f in page.frames]
    for frame in [frames["explorer"], *frames["output"]]:
        try:
            frame.wait_for_selector(".leaflet-marker-icon", timeout=60_000)
        except Exception:
            pass  # asserted below, with the blocked requests that explain it
    blocked = sorted(set(context.kz_blocked))
    (helpers.ARTIFACTS / "jupyterlab-blocked-requests.txt").write_text("\n".join(blocked) + "\n", encoding="utf-8")
    slider.scroll_into_view_if_needed()
    helpers.screenshot(page, "jupyterlab-02-explorer-day19")
    markers = {"explorer": _markers(frames["explorer"]), "map_day5": _markers(frames["output"][0])}
    assert markers == {k: sum(expected[k].values()) for k in markers}, (
        f"markers drawn {markers}, expected {({k: expected[k] for k in markers})}. With no network the maps "
        f"need nothing but 127.0.0.1; requests that were blocked: {blocked}"
    )

    # Zoom the explorer's map in, as a student would; the slider step below must keep that view.
    explorer = frames["explorer"]
    leaflet = "() => Object.values(window).find(v => v && v._leaflet_id && v.setView)"
    explorer.evaluate(f"() => ({leaflet})().setView([43.24, 76.93], 14)")
    page.wait_for_timeout(500)
    view = f"() => {{ const m = ({leaflet})(); return [m.getCenter().lat, m.getCenter().lng, m.getZoom()]; }}"
    before = explorer.evaluate(view)
    sockets_before = len(received)

    # Move the day slider to its left end (1 January): the explorer tells its map the new day.
    handle, track = slider.locator(".noUi-handle"), slider.locator(".noUi-base")
    h, t = handle.bounding_box(), track.bounding_box()
    page.mouse.move(h["x"] + h["width"] / 2, h["y"] + h["height"] / 2)
    page.mouse.down()
    page.mouse.move(t["x"] - 30, h["y"] + h["height"] / 2, steps=12)
    page.mouse.up()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.widget-html')].some(e => e.textContent.includes('up to 1 January 2022'))"
    )
    assert slider.locator(".widget-readout").inner_text().strip() == "1"
    assert _map_frames(page)["explorer"] is explorer  # the same map page: not sent again
    explorer.wait_for_function(f"() => document.querySelectorAll('.leaflet-marker-icon').length === {sum(expected['day1'].values())}")
    assert explorer.evaluate(view) == pytest.approx(before)  # the student's centre and zoom are kept
    step_bytes = sum(received[sockets_before:])
    (helpers.ARTIFACTS / "jupyterlab-explorer-step-bytes.txt").write_text(f"{step_bytes}\n", encoding="utf-8")
    assert 0 < step_bytes < 20_000, f"one slider step received {step_bytes} bytes over the websocket"
    helpers.screenshot(page, "jupyterlab-03-explorer-day1")

    # Validate the unanswered notebook: every test cell and written answer is reported.
    text = _validate(page, panel)
    helpers.screenshot(page, "jupyterlab-04-validate-unanswered")
    assert "Success!" not in text
    assert text.count("The following cell failed") == len(test_cells) + len(written), text
    for cell in test_cells:
        assert cell.source.splitlines()[0] in text
    assert "You did not provide a response" in text
    _close_dialog(page)

    # A finished copy (the source's answers in the released notebook) validates.
    panel = _open_notebook(page, lab, f"finished/{LESSON}.ipynb")
    text = _validate(page, panel)
    helpers.screenshot(page, "jupyterlab-05-validate-finished")
    assert "Success! Your notebook passes all the tests." in text, text
    _close_dialog(page)

    # The timeline chart of lesson 03 (04 has no plotly chart): run the import cell and the chart cell.
    chart_nb = nbformat.read(course / "release" / CHART_LESSON / f"{CHART_LESSON}.ipynb", as_version=4)
    index = {"imports": next(i for i, c in enumerate(chart_nb.cells) if c.cell_type == "code"),
             "chart": next(i for i, c in enumerate(chart_nb.cells) if "charts.timeline_figure()" in c.source)}
    panel = _open_notebook(page, lab, f"release/{CHART_LESSON}/{CHART_LESSON}.ipynb")
    cells = panel.locator(".jp-Notebook .jp-Cell")
    for key in ("imports", "chart"):
        _run_cell(page, cells.nth(index[key]))
    chart = cells.nth(index["chart"])
    chart.locator(".js-plotly-plot .scatterlayer .trace").first.wait_for()
    chart.scroll_into_view_if_needed()
    helpers.screenshot(page, "jupyterlab-06-timeline-chart")
    points = chart.locator(".js-plotly-plot .scatterlayer .trace").evaluate_all(
        "els => els.map(e => e.querySelectorAll('path.point').length)")
    figure = charts.timeline_figure()
    assert points == [len(trace.x) for trace in figure.data]

    assert errors == [], errors
