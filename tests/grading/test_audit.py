"""`kzcourse audit PATH...`: folders, wheels and archives compared line by line with the lesson sources."""
from __future__ import annotations

import json
import shutil
import zipfile

import nbformat

from kzcourse.grading.audit import KINDS, normalise, scan, source_secrets
from kzcourse.lessons import lessons_dir, student_dir
from tests.grading.helpers import ROOT, kz


def _solution_line(lesson: str = "02-geography") -> str:
    nb = nbformat.read(lessons_dir() / lesson / f"{lesson}.ipynb", as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code")
    return next(l for l in cell.source.splitlines() if "SOLUTION" not in l and len(l) > 20)


def test_secrets_hold_every_kind_and_nothing_a_student_edition_shows():
    secrets = source_secrets(lessons_dir())
    assert all(secrets.count(kind) for kind in KINDS)
    shown = {normalise(line) for nb in student_dir().glob("*/*.ipynb")
             for cell in json.loads(nb.read_text(encoding="utf-8"))["cells"]
             for line in "".join(cell["source"]).splitlines()}
    assert not shown & set(secrets.lines)


def test_the_student_editions_have_no_finding():
    assert scan([student_dir()], source_secrets(lessons_dir())) == []


def test_the_sources_themselves_are_found_by_file_and_line(tmp_path):
    findings = scan([lessons_dir() / "02-geography"], source_secrets(lessons_dir()))
    kinds = {f.kind for f in findings}
    assert {"solution", "hidden test", "mark scheme", "instructor note", "wrong-answer fixture",
            "instructor file"} <= kinds
    for f in findings:
        if f.kind != "instructor file":
            lines = (lessons_dir() / "02-geography" / f.path.rsplit("/", 1)[-1]).read_text(encoding="utf-8").splitlines()
            assert normalise(f.text) in normalise(json.loads(f'"{lines[f.line - 1].strip().rstrip(",").strip(chr(34))}"')
                                                  if f.path.endswith(".ipynb") else lines[f.line - 1])


def test_a_planted_line_is_found_whatever_its_quotes_and_spacing(tmp_path):
    line = _solution_line()
    copy = tmp_path / "student"
    shutil.copytree(student_dir(), copy)
    (copy / "notes.py").write_text("x = 1\n\n    " + line.replace('"', "'").replace(" = ", "   =  ") + "\n",
                                   encoding="utf-8")
    [finding] = scan([copy], source_secrets(lessons_dir()))
    assert (finding.path, finding.line, finding.kind, finding.lesson) == (str(copy / "notes.py"), 3, "solution",
                                                                        "02-geography")


def test_a_wheel_is_scanned_member_by_member(tmp_path):
    wheel = tmp_path / "kzcourse-0.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        z.write(student_dir() / "01-article" / "01-article.ipynb", "kzcourse/student/01-article/01-article.ipynb")
        z.write(lessons_dir() / "03-timeline" / "wrong.toml", "kzcourse/x/wrong.toml")
    findings = scan([wheel], source_secrets(lessons_dir()))
    assert findings and {f.path for f in findings} == {f"{wheel}!kzcourse/x/wrong.toml"}
    # A fixture's lines are found as fixture lines (or as the solution lines some of them repeat).
    assert {"instructor file", "wrong-answer fixture"} <= {f.kind for f in findings} <= {
        "instructor file", "wrong-answer fixture", "solution"}


def test_cli_exit_status_names_file_and_line(tmp_path):
    copy = tmp_path / "work"
    shutil.copytree(student_dir(), copy)
    nb = nbformat.read(copy / "02-geography" / "02-geography.ipynb", as_version=4)
    code = next(c for c in nb.cells if c.cell_type == "code")
    code.source += "\n" + _solution_line()
    nbformat.write(nb, copy / "02-geography" / "02-geography.ipynb")
    result = kz("audit", str(copy), "--sources", str(ROOT / "lessons"))
    assert result.returncode == 7, result.stdout + result.stderr
    [row] = result.stdout.splitlines()
    path, line = row.split(": ", 1)[0].rsplit(":", 1)
    assert path == str(copy / "02-geography" / "02-geography.ipynb")
    assert _solution_line().strip().replace('"', '\\"') in (copy / "02-geography" / "02-geography.ipynb").read_text(
        encoding="utf-8").splitlines()[int(line) - 1]
    assert kz("audit", str(student_dir())).returncode == 0


def test_cli_audit_bad_input(tmp_path):
    result = kz("audit", str(tmp_path / "missing"), "--sources", str(ROOT / "lessons"))
    assert result.returncode == 3 and "Nothing to audit" in result.stderr
    result = kz("audit", str(student_dir()), "--sources", str(tmp_path))
    assert result.returncode == 3 and "holds no lesson sources" in result.stderr
