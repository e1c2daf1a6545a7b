"""Does the grading sandbox keep student code away from the course, the network and the machine?

The unit tests start one sandboxed kernel directly; the end-to-end tests grade lesson 01 with
the real ``nbgrader autograde`` with and without the sandbox (tests/grading/sandbox_course.py)
on submissions that try to read a solution, open the gradebook, write outside their folder
or use the network (tests/grading/fixtures/sandbox-*.toml).
"""
from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from traitlets.config import Config

from kzcourse.grading import sandbox
from tests.grading.sandbox_course import HONEST, LESSON, ROOT, TRICKS, fixture, scenario  # noqa: F401 (scenario is a fixture)

needs_bwrap = pytest.mark.skipif(not sandbox.available(), reason="bubblewrap (bwrap) is not usable here")


def test_kernel_environment_carries_no_secrets_of_the_grader():
    env = sandbox.kernel_env({"GITHUB_TOKEN": "t", "HOME": "/root", "JUPYTER_RUNTIME_DIR": "/root/x", "LANG": "C"})
    assert "GITHUB_TOKEN" not in env and env["HOME"] == "/tmp/home" and env["LANG"] == "C"
    assert not any(v.startswith("/root") for v in env.values())


def test_bwrap_command_unshares_everything_and_binds_only_scratch_writable(tmp_path):
    cmd = sandbox.bwrap_command(tmp_path / "s", tmp_path / "r", {"PATH": "/usr/bin"})
    for flag in ("--unshare-all", "--die-with-parent", "--clearenv", "--new-session"):
        assert flag in cmd
    writable = [cmd[i + 1] for i, a in enumerate(cmd) if a == "--bind"]
    assert writable == [str(tmp_path / "r"), str(tmp_path / "s")]
    assert str(ROOT) not in [cmd[i + 1] for i, a in enumerate(cmd) if a == "--ro-bind"]
    assert cmd[-1] == "--"


def test_configure_swaps_in_the_sandboxed_execute_and_keeps_the_rest(tmp_path):
    if not sandbox.available():
        with pytest.raises(sandbox.SandboxError, match="Install the Debian package `bubblewrap`"):
            sandbox.configure(Config())
        return
    from nbgrader.converters.autograde import Autograde

    c = Config()
    sandbox.configure(c)
    default = Autograde.class_traits()["autograde_preprocessors"].default()
    assert c.Autograde.autograde_preprocessors == [sandbox.Execute] + default[1:]
    c.Autograde.autograde_preprocessors = [default[1]]
    with pytest.raises(sandbox.SandboxError, match="has no Execute step"):
        sandbox.configure(c)


PROBE = r'''
import os, socket, json
seen = {"uid": os.getuid(), "cwd": os.getcwd(), "lessons": os.path.exists(LESSONS), "home": os.listdir("/root"),
        "env": sorted(os.environ)}
try:
    socket.create_connection(("127.0.0.1", 22), timeout=2); seen["net"] = "open"
except OSError as exc:
    seen["net"] = type(exc).__name__
for target in ("/etc/kz-probe", "/usr/kz-probe", os.path.join(os.path.dirname(os.getcwd()), "kz-probe")):
    try:
        open(target, "w").write("x"); seen.setdefault("wrote", []).append(target)
    except OSError:
        pass
open("inside.txt", "w").write("ok")
print(json.dumps(seen))
'''


@needs_bwrap
def test_a_sandboxed_kernel_sees_only_its_folder(tmp_path):
    from nbclient import NotebookClient

    scratch = tmp_path / "student" / "lesson"
    scratch.mkdir(parents=True)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(PROBE.replace("LESSONS", repr(str(ROOT / "lessons"))))])
    c = Config()
    c.SandboxedKernelManager.scratch = str(scratch)
    NotebookClient(nb, kernel_manager_class=sandbox.SandboxedKernelManager, config=c, timeout=60,
                   resources={"metadata": {"path": str(scratch)}}).execute()
    import json

    seen = json.loads(nb.cells[0].outputs[0]["text"])
    assert seen["uid"] == sandbox.NOBODY and seen["cwd"] == str(scratch.resolve())
    assert seen["lessons"] is False
    assert set(seen["home"]) <= {".pyenv"}  # the instructor's home shows at most the Python installation
    assert seen["net"] != "open"
    # /etc and /usr are read-only; the scratch folder's parent exists only in the sandbox's private /tmp
    assert [w for w in seen.get("wrote", []) if not w.endswith("/student/kz-probe")] == []
    assert not any(k.startswith(("GITHUB", "AWS", "SSH")) for k in seen["env"])
    assert (scratch / "inside.txt").read_text() == "ok"
    assert not (tmp_path / "student" / "kz-probe").exists()


def _processes_in(folder: Path) -> list[int]:
    """Pids of processes whose working directory is ``folder``."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and os.readlink(proc / "cwd") == str(folder):
                found.append(int(proc.name))
        except OSError:
            continue
    return found


@needs_bwrap
def test_when_execution_ends_nothing_the_student_started_still_runs(tmp_path):
    """The kernel is stopped by killing its PID namespace: a child process and a thread it left
    running die with it before the scratch folder is scrubbed, and no exit handler runs."""
    from nbclient import NotebookClient

    scratch = tmp_path / "student" / "lesson"
    scratch.mkdir(parents=True)
    code = ("import atexit, subprocess, sys, threading, time\n"
            "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
            "threading.Thread(target=lambda: (time.sleep(3), open('late.txt', 'w').write('x')), daemon=True).start()\n"
            "atexit.register(lambda: open('atexit.txt', 'w').write('x'))\n"
            "print(child.pid)")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    c = Config()
    c.SandboxedKernelManager.scratch = str(scratch)
    client = NotebookClient(nb, kernel_manager_class=sandbox.SandboxedKernelManager, config=c, timeout=60,
                            resources={"metadata": {"path": str(scratch)}})
    client.execute()
    assert nb.cells[0].outputs[0]["text"].strip().isdigit(), nb.cells[0].outputs
    assert _processes_in(scratch.resolve()) == [], "the kernel's child outlived the kernel"
    import time

    time.sleep(4)
    assert sorted(p.name for p in scratch.iterdir()) == [], "the thread or an exit handler wrote after the end"


SEALED = r'''
import os, json
pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
environ = {}
for pid in pids:
    try:
        environ[pid] = open(f"/proc/{pid}/environ", "rb").read().decode(errors="replace")
    except OSError as exc:
        environ[pid] = type(exc).__name__
print(json.dumps({"pids": pids, "environ": environ}))
'''


def _run_sandboxed(tmp_path: Path, code: str, **limits) -> list:
    from nbclient import NotebookClient

    scratch = tmp_path / "scratch"
    scratch.mkdir(exist_ok=True)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    c = Config()
    c.SandboxedKernelManager.scratch = str(scratch)
    for key, value in limits.items():
        setattr(c.SandboxedKernelManager, key, value)
    NotebookClient(nb, kernel_manager_class=sandbox.SandboxedKernelManager, config=c, timeout=60, allow_errors=True,
                   resources={"metadata": {"path": str(scratch)}}).execute()
    return nb.cells[0].outputs


@needs_bwrap
def test_the_sandbox_shows_no_grader_process_nor_environment(tmp_path, monkeypatch):
    """/proc in the sandbox lists only its own processes, and none of them (bwrap's child, pid 1,
    included) has a variable of the grader's environment."""
    import json

    monkeypatch.setenv("KZ_INSTRUCTOR_SECRET", "s3cr3t-of-the-instructor")
    seen = json.loads(_run_sandboxed(tmp_path, SEALED)[0]["text"])
    assert seen["pids"][0] == 1 and len(seen["pids"]) <= 4, seen["pids"]
    assert not any("s3cr3t-of-the-instructor" in e or "KZ_INSTRUCTOR_SECRET" in e for e in seen["environ"].values())


@needs_bwrap
def test_memory_over_the_limit_fails_with_memory_error_and_the_kernel_lives(tmp_path):
    outputs = _run_sandboxed(tmp_path, "try:\n    x = bytearray(900 * 2**20)\nexcept MemoryError:\n"
                                       "    print('refused')", memory_limit=768 << 20)
    assert [o.get("text", "").strip() for o in outputs] == ["refused"]


@needs_bwrap
def test_a_file_over_the_size_limit_cannot_be_written(tmp_path):
    outputs = _run_sandboxed(tmp_path, "open('big', 'wb').write(b'x' * (8 << 20))", file_size_limit=1 << 20)
    assert outputs[-1]["output_type"] == "error" and "File too large" in outputs[-1]["evalue"], outputs
    assert (tmp_path / "scratch" / "big").stat().st_size <= 1 << 20


@needs_bwrap
def test_processes_over_the_limit_are_refused(tmp_path):
    code = ("import subprocess, sys\nprocs, err = [], None\ntry:\n    for _ in range(200):\n"
            "        procs.append(subprocess.Popen(['sleep', '30']))\nexcept OSError as exc:\n    err = type(exc).__name__\n"
            "print(len(procs), err)")
    outputs = _run_sandboxed(tmp_path, code, process_limit=40)
    started, err = outputs[0]["text"].split()
    assert int(started) < 40 and err in ("BlockingIOError", "PermissionError", "OSError"), outputs


# ----------------------------------------------------------------------------- end to end


@pytest.mark.slow
@needs_bwrap
@pytest.mark.parametrize("student", HONEST)
def test_an_honest_submission_scores_exactly_the_same_in_the_sandbox(scenario, student):
    assert scenario["kzcourse"]["scores"][student] == scenario["plain"]["scores"][student]


@pytest.mark.slow
@needs_bwrap
@pytest.mark.parametrize("attack", ["sandbox-read-solution", "sandbox-open-gradebook", "sandbox-network"])
def test_an_attack_that_works_without_the_sandbox_gains_nothing_inside_it(scenario, attack):
    plain, kz = scenario["plain"]["scores"], scenario["kzcourse"]["scores"]
    assert sum(plain[attack].values()) > sum(plain["wrong"].values()), "the attack should work on plain nbgrader"
    assert kz[attack] == kz["wrong"], f"{attack} gained points inside the sandbox"


@pytest.mark.slow
@needs_bwrap
def test_the_gradebook_is_untouched_by_the_sandboxed_attack(scenario):
    from nbgrader.api import Gradebook

    course = scenario["kzcourse"]["course"]
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        manual = [g.manual_score for sub in gb.assignment_submissions(LESSON) for nb in sub.notebooks
                  for g in nb.grades]
    assert manual and all(m is None for m in manual)


def _escapes(root: Path, marker: str) -> list[str]:
    return sorted(str(p) for p in root.rglob(f"*escape-{marker}*"))


@pytest.mark.slow
@needs_bwrap
def test_writing_outside_the_folder_works_without_the_sandbox_and_fails_inside_it(scenario):
    home = Path(os.path.expanduser("~"))
    plain, kz = scenario["plain"], scenario["kzcourse"]
    # without the sandbox the attack lands: files in the course, /tmp and home, a changed config
    assert _escapes(plain["course"], plain["marker"]) and Path(f"/tmp/escape-{plain['marker']}.txt").exists()
    assert (home / f"escape-{plain['marker']}.txt").exists()
    assert plain["config_after"] != plain["config_before"]
    # inside it nothing lands, and the link it made stays in its thrown-away scratch folder
    assert _escapes(kz["course"], kz["marker"]) == []
    assert not Path(f"/tmp/escape-{kz['marker']}.txt").exists() and not (home / f"escape-{kz['marker']}.txt").exists()
    assert kz["config_after"] == kz["config_before"]
    folder = kz["course"] / "autograded" / "sandbox-write-outside" / LESSON
    assert not [p for p in folder.rglob("*") if p.is_symlink()]
    assert sorted(p.name for p in folder.iterdir()) == [f"{LESSON}.ipynb", "integrity.json"]
    for path in (Path(f"/tmp/escape-{plain['marker']}.txt"), home / f"escape-{plain['marker']}.txt"):
        path.unlink(missing_ok=True)


def test_a_process_over_the_cpu_limit_dies_of_sigxcpu_and_is_reported_as_such():
    """The CPU limit kills with SIGXCPU, not SIGKILL, so the flag names the CPU limit rather than
    suggesting the submission ran out of memory."""
    import signal
    import subprocess
    import sys

    from kzcourse.grading.phases import _signal_reason

    command = sandbox.limit_command(memory=0, cpu=1, fsize=0, nproc=0) + [sys.executable, "-c", "while True: pass"]
    done = subprocess.run(command, timeout=60)
    assert done.returncode == -signal.SIGXCPU, done.returncode
    assert _signal_reason(done.returncode, {"cpu": 1}) == "CPU time limit 1 s exceeded"


@pytest.mark.slow
@needs_bwrap
@pytest.mark.parametrize("trick", [t for t in TRICKS if fixture(t).get("beats_plain_nbgrader", True)])
def test_a_trick_that_beats_plain_nbgrader_gains_nothing_under_kzcourse(scenario, trick):
    """Each trick fixture is live — it raises a wrong answer's score under plain nbgrader (one
    kernel for answers and tests) — and gains nothing under kzcourse's two phases. The first
    assertion keeps the fixtures honest: when lesson 01's questions change, a trick aimed at the
    old question scores nothing anywhere, and the second assertion would pass for no reason."""
    plain, kz = scenario["plain"]["scores"], scenario["kzcourse"]["scores"]
    assert sum(plain[trick].values()) > sum(plain["wrong"].values()), (
        f"{trick} no longer beats plain nbgrader ({plain[trick]} vs wrong {plain['wrong']}): the fixture is stale; "
        f"aim it at lesson 01's current questions (tests/grading/fixtures/{trick}.toml)")
    assert kz[trick] == kz["wrong"], f"{trick} gained points under kzcourse: {kz[trick]} vs {kz['wrong']}"
