"""Every route to students carries student editions only: the wheel, a venv it is installed into, the Zero to
JupyterHub image's install step, Binder's postBuild and `make lab`'s working copy. `kzcourse audit` checks each
against the lesson sources."""
from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import nbformat
import pytest

from kzcourse.lessons import course, student_dir
from tests.grading.helpers import ROOT, env, kz

pytestmark = pytest.mark.slow
SOURCES = str(ROOT / "lessons")


def _repository_copy(dest: Path) -> Path:
    """The repository as a clone has it (tracked and new, not ignored, files), copied to ``dest``."""
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        if (ROOT / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, dest / name)
    return dest


def _fresh_venv(path: Path) -> Path:
    """A new virtual environment whose third-party packages come from this test environment's site-packages
    (a .pth line, so nothing is downloaded) and which has no kzcourse: its .pth files are not read there."""
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, capture_output=True, timeout=300)
    site = next(path.glob("lib/python*/site-packages"))
    (site / "_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    probe = subprocess.run([str(path / "bin" / "python"), "-c", "import kzcourse.lessons"], cwd=path, capture_output=True)
    assert probe.returncode != 0, "the fresh venv must not see the checkout's kzcourse"
    return path


def _run(args, **kw) -> subprocess.CompletedProcess:
    result = subprocess.run(args, capture_output=True, text=True, timeout=900, **kw)
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr[-4000:]}"
    return result


def _audit(python: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(python), "-m", "kzcourse", "audit", *args, "--sources", SOURCES], cwd=cwd,
                          capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), str(ROOT)])
    return next(out.glob("kzcourse-*.whl"))


def test_wheel_carries_student_editions_assets_and_the_command_and_no_source(wheel):
    archive = zipfile.ZipFile(wheel)
    names = set(archive.namelist())
    for lesson in course():
        member = f"kzcourse/student/{lesson.id}/{lesson.id}.ipynb"
        assert archive.read(member) == lesson.student_edition.read_bytes(), "the wheel's editions are the committed ones"
    assert "kzcourse/student/course.toml" in names
    assert {f"kzcourse/assets/{p.name}" for p in (ROOT / "assets").iterdir()} <= names, "assets/ ships in the wheel"
    assert not [n for n in names if n.endswith(("instructor.md", "wrong.toml")) or "/lessons/" in n]
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "kzcourse = kzcourse.cli:main" in archive.read(entry_points).decode()
    assert not (ROOT / "setup.py").exists(), "pyproject.toml is the one build file"
    result = kz("audit", str(wheel), "--sources", SOURCES)
    assert result.returncode == 0 and "0 findings" in result.stdout, result.stdout + result.stderr


def test_wheel_installed_in_a_fresh_venv_has_no_finding_and_works_for_students(wheel, tmp_path):
    venv = _fresh_venv(tmp_path / "venv")
    python = venv / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", str(wheel)])
    result = _audit(python, "--installed", cwd=tmp_path)
    assert result.returncode == 0 and "0 findings" in result.stdout, result.stdout + result.stderr
    assert str(venv) in result.stderr, "--installed scans the venv"
    # The student route: one command copies the editions; the sources are not there to copy.
    _run([str(venv / "bin" / "kzcourse"), "lessons", str(tmp_path / "work")], cwd=tmp_path)
    for lesson in course():
        assert (tmp_path / "work" / lesson.id / f"{lesson.id}.ipynb").read_bytes() == lesson.student_edition.read_bytes()
    init = subprocess.run([str(venv / "bin" / "kzcourse"), "init", str(tmp_path / "term")], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert init.returncode == 3 and "--lessons DIR" in init.stderr, init.stderr
    # Plant one solution line in a copy of the installed package: found, exit 7, file and line named.
    site = next(venv.glob("lib/python*/site-packages"))
    copy = shutil.copytree(site / "kzcourse", tmp_path / "planted" / "kzcourse")
    source = nbformat.read(ROOT / "lessons" / "04-almaty" / "04-almaty.ipynb", as_version=4)
    line = next(l for c in source.cells if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"
                for l in c.source.splitlines() if "SOLUTION" not in l and len(l) > 20)
    target = copy / "student" / "04-almaty" / "04-almaty.ipynb"
    nb = nbformat.read(target, as_version=4)
    next(c for c in nb.cells if c.cell_type == "code").source += "\n" + line
    nbformat.write(nb, target)
    planted = _audit(python, str(tmp_path / "planted"), cwd=tmp_path)
    assert planted.returncode == 7, planted.stdout + planted.stderr
    [finding] = planted.stdout.splitlines()
    where, number = finding.split(": ", 1)[0].rsplit(":", 1)
    assert where == str(target) and "solution of 04-almaty" in finding
    assert json.dumps(line.strip())[1:-1] in target.read_text(encoding="utf-8").splitlines()[int(number) - 1]


def test_the_z2jh_image_install_step_run_into_a_venv_has_no_finding(tmp_path):
    """The Dockerfile's two stages, run here: the wheel stage's command on a copy of the build context, then the
    image's install command into a fresh venv. The image stage receives only what the wheel stage built."""
    dockerfile = (ROOT / "deploy" / "z2jh" / "Dockerfile").read_text(encoding="utf-8")
    stages = re.split(r"(?m)^FROM ", dockerfile)[1:]
    assert len(stages) == 2 and "COPY . " not in stages[1] and "COPY --from=wheel" in stages[1]
    runs = [[line[4:] for line in stage.splitlines() if line.startswith("RUN ")] for stage in stages]
    context = _repository_copy(tmp_path / "context")
    dist, venv = tmp_path / "dist", _fresh_venv(tmp_path / "venv")
    pip = f"{shlex.quote(str(venv / 'bin' / 'python'))} -m pip"

    def here(command: str) -> str:
        return re.sub(r"^pip ", pip + " ", command.replace("/tmp/src", str(context)).replace("/tmp/dist", str(dist)))

    [build] = runs[0]
    install = next(c for c in runs[1] if "pip install" in c)
    _run(["bash", "-c", here(build)])
    _run(["bash", "-c", here(install)])
    result = _audit(venv / "bin" / "python", "--installed", cwd=tmp_path)
    assert result.returncode == 0 and "0 findings" in result.stdout, result.stdout + result.stderr
    assert next(venv.glob("lib/python*/site-packages/kzcourse/student/01-article/01-article.ipynb"))


def test_binder_postbuild_leaves_student_editions_only(tmp_path):
    repo = _repository_copy(tmp_path / "home")
    venv = _fresh_venv(tmp_path / "venv")
    run_env = dict(env(), PATH=f"{venv / 'bin'}:{env()['PATH']}", HOME=str(repo),
                   JUPYTER_CONFIG_DIR=str(repo / ".jupyter"))
    run_env.pop("PYTHONPATH")
    _run(["bash", str(repo / "binder" / "postBuild")], cwd=repo, env=run_env)
    left = sorted(p.name for p in repo.iterdir())
    assert left == sorted([".jupyter", "START.md"] + [l.id for l in course()]), left
    for lesson in course():
        assert (repo / lesson.id / f"{lesson.id}.ipynb").read_bytes() == lesson.student_edition.read_bytes()
    for target in (repo, venv):
        result = kz("audit", str(target), "--sources", SOURCES)
        assert result.returncode == 0 and "0 findings" in result.stdout, result.stdout + result.stderr


def test_make_lab_working_copy_is_student_only_and_validate_passes_on_a_finished_copy(tmp_path):
    work = tmp_path / "lab"
    _run(["make", "-s", "lab-copy", f"LAB_DIR={work}"], cwd=ROOT, env=env())
    assert sorted(p.relative_to(work).as_posix() for p in work.rglob("*") if p.is_file()) == sorted(
        ["START.md"] + [f"{l.id}/{l.id}.ipynb" for l in course()])
    assert not (ROOT / "build" / "lab").exists() or work.resolve() != (ROOT / "build" / "lab").resolve()
    result = kz("audit", str(work), "--sources", SOURCES)
    assert result.returncode == 0 and "0 findings" in result.stdout, result.stdout + result.stderr
    # A finished copy: the student wrote the source's answers into the working copy's notebook.
    lesson = "01-article"
    source = nbformat.read(ROOT / "lessons" / lesson / f"{lesson}.ipynb", as_version=4)
    answers = {c.metadata.nbgrader["grade_id"]: c.source for c in source.cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    path = work / lesson / f"{lesson}.ipynb"
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = "\n".join(l for l in answers[gid].splitlines() if "SOLUTION" not in l)
    nbformat.write(nb, path)
    validate = _run([sys.executable, "-m", "nbgrader", "validate", str(path)], cwd=work, env=env())
    assert "Success! Your notebook passes all the tests." in validate.stdout, validate.stdout
    blank = _run([sys.executable, "-m", "nbgrader", "validate", str(work / "02-geography" / "02-geography.ipynb")],
                 cwd=work, env=env())
    assert "Success!" not in blank.stdout, "an unanswered lesson does not pass"
