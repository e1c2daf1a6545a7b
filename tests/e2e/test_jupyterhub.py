"""Does a whole class work on a real JupyterHub: release, fetch, submit, grade, feedback?

A real JupyterHub (PyPI ``jupyterhub``, proxied by ``configurable-http-proxy`` from npm)
on 127.0.0.1 with the dummy authenticator, one instructor and three students, and
nbgrader's exchange on a shared folder. Students act only through their own
single-user servers (nbgrader's ``assignment_list`` server extension and Jupyter's
contents API), with their own API tokens. The instructor uses ``kzcourse``.

Spawner: ``SimpleLocalProcessSpawner`` — every user's server runs as the hub's user
(root here) with its own home folder under a temporary directory. The alternative,
``LocalProcessSpawner`` with real accounts made by ``useradd``, would change the
machine's /etc/passwd (left behind if the run is killed) and need the venv and the
temporary folders readable by those accounts. The price: Unix permissions on the
exchange are not exercised here, and because every server runs as root, nbgrader
cannot tell students apart by their OS user; each student's home holds an
``nbgrader_config.py`` naming them (``CourseDirectory.student_id``), as nbgrader
itself does on Kubernetes, where every user is ``jovyan`` and ``JUPYTERHUB_USER``
names them.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from tests.e2e import helpers

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

LESSON = "01-article"
COURSE_ID = "kzcourse"  # nbgrader_config.py's CourseDirectory.course_id
INSTRUCTOR = "instructor"
STUDENTS = {"student-right": "right", "student-partial": "partly right", "student-blank": "blank"}
PASSWORD = "kz-e2e-" + secrets.token_hex(4)


def _proxy_command() -> str:
    """configurable-http-proxy: the project-local npm install (make test) or one on PATH."""
    local = helpers.ROOT / ".node" / "node_modules" / ".bin" / "configurable-http-proxy"
    if local.exists():
        return str(local)
    found = shutil.which("configurable-http-proxy")
    if not found:
        pytest.skip("configurable-http-proxy is not installed: `npm install --prefix .node configurable-http-proxy` (make test does it)")
    return found


HUB_CONFIG = '''
import os
c = get_config()  # noqa: F821
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.command = [{proxy!r}]
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
c.ConfigurableHTTPProxy.pid_file = {root!r} + "/proxy.pid"
c.JupyterHub.db_url = "sqlite:///" + {root!r} + "/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = {root!r} + "/cookie_secret"
c.JupyterHub.pid_file = {root!r} + "/jupyterhub.pid"
c.JupyterHub.cleanup_servers = True

c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = {password!r}
c.Authenticator.allowed_users = set({users!r})
c.Authenticator.admin_users = {{{instructor!r}}}

c.JupyterHub.spawner_class = "simple"  # SimpleLocalProcessSpawner: see the test module's docstring
c.SimpleLocalProcessSpawner.home_dir_template = {root!r} + "/homes/{{username}}"
c.Spawner.cmd = [{singleuser!r}]
c.Spawner.args = ["--allow-root"]  # the servers run as the hub's user, root in CI
c.Spawner.start_timeout = 300
c.Spawner.http_timeout = 300
c.Spawner.env_keep = ["PATH", "LANG", "LC_ALL", "JUPYTER_PLATFORM_DIRS", "PYDEVD_DISABLE_FILE_VALIDATION"]

def per_user_folders(spawner):
    home = {root!r} + "/homes/" + spawner.user.name
    spawner.environment.update({{
        "JUPYTER_CONFIG_DIR": home + "/.jupyter",
        "JUPYTER_DATA_DIR": home + "/.local/share/jupyter",
        "JUPYTER_RUNTIME_DIR": home + "/.local/share/jupyter/runtime",
        "IPYTHONDIR": home + "/.ipython",
    }})

c.Spawner.pre_spawn_hook = per_user_folders

# The test drives the hub as a service with its own token.
c.JupyterHub.services = [{{"name": "e2e-driver", "api_token": {service_token!r}}}]
c.JupyterHub.load_roles = [{{"name": "e2e-driver", "services": ["e2e-driver"],
                             "scopes": ["admin:users", "admin:servers", "tokens"]}}]
'''

STUDENT_NBGRADER_CONFIG = '''c = get_config()  # noqa: F821
c.CourseDirectory.course_id = {course!r}
c.Exchange.root = {exchange!r}
# Every server runs as the hub's user (SimpleLocalProcessSpawner): name the student explicitly.
c.CourseDirectory.student_id = {user!r}
'''


class Hub:
    """Talks to the hub's REST API and to users' single-user servers through the proxy."""

    def __init__(self, url: str, service_token: str):
        import requests

        self.url, self.requests = url, requests
        self.service = {"Authorization": f"token {service_token}"}
        self.tokens: dict[str, str] = {}

    def api(self, method: str, path: str, token: dict | None = None, **kwargs):
        r = self.requests.request(method, f"{self.url}/hub/api{path}", headers=token or self.service, timeout=120, **kwargs)
        assert r.status_code < 400, f"{method} /hub/api{path}: {r.status_code} {r.text}"
        return r.json() if r.text else None

    def user(self, name: str, method: str, path: str, **kwargs):
        """A request to ``name``'s own server, with ``name``'s own token."""
        headers = {"Authorization": f"token {self.tokens[name]}"}
        r = self.requests.request(method, f"{self.url}/user/{name}{path}", headers=headers, timeout=600, **kwargs)
        assert r.status_code < 400, f"{name}: {method} {path}: {r.status_code} {r.text[:2000]}"
        return r.json() if r.text else None

    def login(self, name: str, password: str) -> tuple[bool, str]:
        """Log in through the hub's login form: (did the dummy authenticator let the user in, what the hub said)."""
        s = self.requests.Session()
        page = s.get(f"{self.url}/hub/login", timeout=60)
        xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text)
        data = {"username": name, "password": password, **({"_xsrf": xsrf.group(1)} if xsrf else {})}
        r = s.post(f"{self.url}/hub/login", data=data, allow_redirects=False, timeout=60)
        said = f"{r.status_code} {r.headers.get('Location')} cookies={sorted(s.cookies.keys())}"
        return r.status_code == 302 and "jupyterhub-hub-login" in s.cookies, said

    def start_server(self, name: str, timeout: float = 300) -> None:
        headers = {"Authorization": f"token {self.tokens[name]}"}
        r = self.requests.post(f"{self.url}/hub/api/users/{name}/server", headers=headers, timeout=120)
        assert r.status_code in (201, 202), f"starting {name}'s server: {r.status_code} {r.text}"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            model = self.api("GET", f"/users/{name}")
            server = model.get("servers", {}).get("", {})
            if server.get("ready"):
                return
            time.sleep(1)
        raise AssertionError(f"{name}'s server was not ready within {timeout} s: {model}")


def _grade_cells(nb) -> dict[str, float]:
    return {c.metadata.nbgrader["grade_id"]: c.metadata.nbgrader.get("points", 0)
            for c in nb.cells if c.cell_type == "code" and c.get("metadata", {}).get("nbgrader", {}).get("grade")}


def _answers(source_nb, wrong: dict[str, str]) -> dict[str, str]:
    """Answer cell sources by grade_id: the source's solutions, except ``wrong`` ones."""
    answers = {}
    for c in source_nb.cells:
        meta = c.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution"):
            lines = [l for l in c.source.splitlines() if "### BEGIN SOLUTION" not in l and "### END SOLUTION" not in l]
            answers[meta["grade_id"]] = wrong.get(meta["grade_id"], "\n".join(lines))
    return answers


def _scores(course: Path, student: str) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        nb = gb.find_submission_notebook(LESSON, LESSON, student)
        return {g.name: g.score for g in nb.grades if g.cell.cell_type == "code"}


def _kzcourse(course: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    """The instructor's ``kzcourse`` command (``python -m kzcourse`` is the same entry point)."""
    return helpers.run([sys.executable, "-m", "kzcourse", *args, "--course", str(course)], cwd=course, env=env, timeout=1200)


def test_a_class_on_jupyterhub_releases_submits_grades_and_gets_feedback(tmp_path_factory):
    """Instructor releases 01-article; three students fetch and submit it through their own servers
    (right, partly right, blank); `kzcourse grade` scores them as the lesson's truth table predicts;
    released feedback reaches each student."""
    import nbformat

    pytest.importorskip("jupyterhub")
    proxy = _proxy_command()
    singleuser = helpers.BINDIR / "jupyterhub-singleuser"
    assert singleuser.exists(), f"{singleuser} is missing: pip install jupyterhub"
    timings: dict[str, float] = {}
    t0 = time.monotonic()

    root = tmp_path_factory.mktemp("hub")
    homes, exchange = root / "homes", root / "exchange"
    exchange.mkdir()
    exchange.chmod(0o1777)  # nbgrader's documented mode for a shared exchange
    users = [INSTRUCTOR, *STUDENTS]
    for name in users:
        (homes / name).mkdir(parents=True)

    # The instructor's course: the repository's config, pointed at the shared exchange.
    course = helpers.make_course(homes / INSTRUCTOR / COURSE_ID, [LESSON])
    with open(course / "nbgrader_config.py", "a", encoding="utf-8") as f:
        f.write(f"\n# On JupyterHub the exchange is the shared folder every user can reach.\nc.Exchange.root = {str(exchange)!r}\n")
    for student in STUDENTS:
        (homes / student / "nbgrader_config.py").write_text(
            STUDENT_NBGRADER_CONFIG.format(course=COURSE_ID, exchange=str(exchange), user=student), encoding="utf-8")
    instructor_env = helpers.isolated_env(root / "instructor-env", HOME=str(homes / INSTRUCTOR))

    # Expected scores, from the lesson's own points and its wrong-answer fixtures.
    source = nbformat.read(course / "lessons" / LESSON / f"{LESSON}.ipynb", as_version=4)
    full = _grade_cells(source)
    out_of = sum(c.metadata.nbgrader.get("points", 0) for c in source.cells
                 if c.get("metadata", {}).get("nbgrader", {}).get("grade"))  # autograded and written
    fixtures = tomllib.loads((helpers.ROOT / "lessons" / LESSON / "wrong.toml").read_text(encoding="utf-8"))
    questions = sorted(fixtures["wrong"])
    wrong_for_partial = {q: fixtures["wrong"][q]["code"] for q in questions[: max(1, len(questions) // 2)]}
    expected = {
        "student-right": dict(full),
        "student-partial": {cell: (0 if cell.split("_")[0] in wrong_for_partial else pts) for cell, pts in full.items()},
        "student-blank": {cell: 0 for cell in full},
    }
    assert 0 < sum(expected["student-partial"].values()) < sum(full.values())
    answers = {"student-right": _answers(source, {}), "student-partial": _answers(source, wrong_for_partial)}

    port, service_token = helpers.free_port(), secrets.token_hex(24)
    config = root / "jupyterhub_config.py"
    config.write_text(HUB_CONFIG.format(
        port=port, hub_port=helpers.free_port(), proxy_api_port=helpers.free_port(), proxy=proxy, root=str(root),
        password=PASSWORD, users=users, instructor=INSTRUCTOR, singleuser=str(singleuser), service_token=service_token,
    ), encoding="utf-8")
    hub_env = helpers.isolated_env(root / "hub-env")
    url = f"http://127.0.0.1:{port}"
    log = helpers.ARTIFACTS / "jupyterhub.log"
    args = [sys.executable, "-m", "jupyterhub", "-f", str(config), "--no-ssl"]
    try:
        _run_class(args, root, hub_env, log, url, service_token, users, course, instructor_env, exchange,
                   answers, expected, out_of, timings, t0)
    finally:
        _stop_proxy(root / "proxy.pid")
        _stop_leftover_servers(homes)


def _stop_leftover_servers(homes: Path) -> list[int]:
    """Kill any process still working in a user's home under ``homes``.

    A failed run can leave users' ``jupyterhub-singleuser`` servers behind (the hub's
    own shutdown did not reach them, and they ignore SIGTERM while busy). They are
    found by their working folder, which the spawner puts in the user's home.
    """
    killed = []
    prefix = str(homes.resolve()) + os.sep
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if (cwd + os.sep).startswith(prefix):
            try:
                os.kill(int(entry.name), signal.SIGKILL)
                killed.append(int(entry.name))
            except ProcessLookupError:
                pass
    return killed


def _stop_proxy(pid_file: Path) -> None:
    """The proxy runs in its own session: stop it if the hub left it behind."""
    try:
        pid = int(pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass


def _run_class(args, root, hub_env, log, url, service_token, users, course, instructor_env, exchange,
               answers, expected, out_of, timings, t0) -> None:
    """The hub's part of the test above: everything that happens while the hub runs."""
    with helpers.server(args, cwd=root, env=hub_env, log=log, ready_url=f"{url}/hub/api", timeout=240):
        hub = Hub(url, service_token)
        try:
            _class_on_hub(hub, users, course, instructor_env, exchange, answers, expected, out_of, timings, t0)
        finally:
            for name in users:  # ask the hub to stop every server, also when a step above failed
                try:
                    hub.api("DELETE", f"/users/{name}/server")
                except Exception:  # noqa: BLE001 - best effort; _stop_leftover_servers kills what remains
                    pass


def _class_on_hub(hub, users, course, instructor_env, exchange, answers, expected, out_of, timings, t0) -> None:
    """The class itself: logins, servers, release, submissions, grading, feedback."""
    import nbformat

    timings["hub up"] = time.monotonic() - t0

    # The dummy authenticator: the class password lets each user in, a wrong one does not.
    for name in users:
        ok, said = hub.login(name, PASSWORD)
        assert ok, f"{name} could not log in with the class password: {said}"
    assert not hub.login("student-right", "not-the-password")[0]

    # Each user gets their own API token and starts their own server.
    for name in users:
        hub.tokens[name] = hub.api("POST", f"/users/{name}/tokens", json={"note": "e2e", "expires_in": 3600})["token"]
    for name in users:
        hub.start_server(name)
    timings["servers up"] = time.monotonic() - t0

    # The instructor releases the lesson to the exchange.
    _kzcourse(course, instructor_env, "release", LESSON)
    assert (exchange / COURSE_ID / "outbound" / LESSON / f"{LESSON}.ipynb").is_file()

    # Students: see it, fetch it, answer it (through the contents API), submit it.
    for student, kind in STUDENTS.items():
        listed = hub.user(student, "GET", "/assignments", params={"course_id": COURSE_ID})
        assert listed["success"], listed
        assert [(a["assignment_id"], a["status"]) for a in listed["value"]] == [(LESSON, "released")]
        fetched = hub.user(student, "POST", "/assignments/fetch", data={"course_id": COURSE_ID, "assignment_id": LESSON})
        mine = [a for a in fetched["value"] if a["status"] == "fetched"]
        assert len(mine) == 1, fetched
        path = mine[0]["notebooks"][0]["path"]
        if student in answers:
            model = hub.user(student, "GET", f"/api/contents/{path}")
            nb = nbformat.from_dict(model["content"])
            for cell in nb.cells:
                gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
                if gid in answers[student]:
                    cell.source = answers[student][gid]
            hub.user(student, "PUT", f"/api/contents/{path}", json={"type": "notebook", "format": "json", "content": nb})
        submitted = hub.user(student, "POST", "/assignments/submit", data={"course_id": COURSE_ID, "assignment_id": LESSON})
        assert submitted.get("success", True) is not False, submitted
        statuses = {a["status"] for a in submitted["value"]}
        assert "submitted" in statuses, (kind, submitted)
    inbound = sorted(p.name.split("+")[0] for p in (exchange / COURSE_ID / "inbound").iterdir())
    assert inbound == sorted(STUDENTS), inbound
    timings["submitted"] = time.monotonic() - t0

    # The instructor collects and grades, then releases feedback.
    _kzcourse(course, instructor_env, "grade", LESSON, "--jobs", "2", "--quiet")
    timings["graded"] = time.monotonic() - t0
    for student in STUDENTS:
        assert _scores(course, student) == expected[student], student
    # Every submission has a written answer still to grade by hand: feedback is held back by default,
    # so the instructor releases it now knowingly, each page marked "Not graded yet".
    _kzcourse(course, instructor_env, "feedback", LESSON, "--release", "--release-ungraded")

    # Students fetch their feedback, through their servers, and it carries their score.
    feedback_pages: dict[str, str] = {}
    for student in STUDENTS:
        listed = hub.user(student, "POST", "/assignments/fetch_feedback", data={"course_id": COURSE_ID, "assignment_id": LESSON})
        submissions = [s for a in listed["value"] if a["status"] == "submitted" for s in a.get("submissions", [a])]
        feedback = [s for s in submissions if s.get("has_local_feedback")]
        assert feedback, (student, listed)
        folder = feedback[0]["local_feedback_path"]  # relative to the student's server root
        listing = hub.user(student, "GET", f"/api/contents/{folder}")["content"]
        assert [item["name"] for item in listing] == [f"{LESSON}.html"], (student, listing)
        page = hub.user(student, "GET", f"/api/contents/{folder}/{LESSON}.html", params={"type": "file", "format": "text"})
        feedback_pages[student] = page["content"]
        # The written answer waits for manual grading, so it counts 0 of its points for now.
        words = " ".join(re.sub(r"<[^>]+>", " ", page["content"]).split())
        got = sum(expected[student].values())
        assert f"Score: {got:.1f} / {out_of:.1f}" in words, (student, re.findall(r"Score: [0-9.]+ / [0-9.]+", words))
        # nbgrader scores an unanswered written question 0 itself (nothing to grade by hand).
        assert ("Not graded yet" in words) == (student != "student-blank"), student
    timings["feedback fetched"] = time.monotonic() - t0
    for student, page in feedback_pages.items():
        (helpers.ARTIFACTS / f"jupyterhub-feedback-{student}.html").write_text(page, encoding="utf-8")
    (helpers.ARTIFACTS / "jupyterhub-timings.json").write_text(json.dumps(timings, indent=2), encoding="utf-8")
