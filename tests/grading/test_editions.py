"""The student editions: committed in kzcourse/student/, equal to what `kzcourse release` makes from the
sources, and copied into a working folder by `kzcourse lessons DIR`."""
from __future__ import annotations

import json
import re

import pytest

from kzcourse.grading.editions import build
from kzcourse.lessons import START_PAGE, course, lesson, student_dir
from tests.grading.helpers import ROOT, kz


@pytest.mark.slow
def test_committed_student_editions_are_what_kzcourse_release_makes(tmp_path):
    """Every committed student edition is byte for byte the release of its source, so the wheel (which
    carries kzcourse/student/) gives students what the truth table grades. Stale: run
    `python -m kzcourse.grading.editions` and commit."""
    kz("init", str(tmp_path / "course"), check=0)
    kz("release", "--no-exchange", cwd=tmp_path / "course", check=0)
    stale = []
    for lesson in course():
        released = tmp_path / "course" / "release" / lesson.id / f"{lesson.id}.ipynb"
        if released.read_bytes() != lesson.student_edition.read_bytes():
            stale.append(lesson.id)
    assert not stale, f"stale student editions {stale}: run `python -m kzcourse.grading.editions` and commit"
    assert (student_dir() / "course.toml").read_bytes() == (ROOT / "lessons" / "course.toml").read_bytes()
    assert sorted(p.parent.name for p in student_dir().glob("*/*.ipynb")) == sorted(l.id for l in course())


def test_student_editions_hold_no_marker_and_no_instructor_file():
    files = sorted(p.relative_to(student_dir()).as_posix() for p in student_dir().rglob("*") if p.is_file())
    assert files == sorted(["course.toml"] + [f"{l.id}/{l.id}.ipynb" for l in course()])
    for lesson in course():
        text = lesson.student_edition.read_text(encoding="utf-8")
        assert not re.search(r"BEGIN (SOLUTION|HIDDEN TESTS|MARK SCHEME)", text), lesson.id
        nb = json.loads(text)
        locked = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("locked")]
        assert locked and all("checksum" in c["metadata"]["nbgrader"] for c in locked), "Validate needs the checksums"


@pytest.mark.slow
def test_build_writes_only_the_lessons_asked_for(tmp_path):
    written = build(tmp_path, lessons=["03-timeline"])
    assert [p.relative_to(tmp_path).as_posix() for p in written] == ["course.toml", "03-timeline/03-timeline.ipynb"]
    assert (tmp_path / "03-timeline" / "03-timeline.ipynb").read_bytes() == lesson("03-timeline").student_edition.read_bytes()


def test_kzcourse_lessons_copies_student_editions_keeps_work_and_links_every_lesson(tmp_path):
    work = tmp_path / "work"
    result = kz("lessons", str(work), "--lab-settings", str(tmp_path / "settings"), check=0)
    assert f"jupyter lab {work}" in result.stdout
    for lesson in course():
        assert (work / lesson.id / f"{lesson.id}.ipynb").read_bytes() == lesson.student_edition.read_bytes()
    page = (work / START_PAGE).read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)]+\.ipynb)\)", page)
    first = course()[0]
    assert links[0] == f"{first.id}/{first.id}.ipynb", "the first lesson is one click away, at the top"
    assert sorted(set(links)) == sorted(f"{l.id}/{l.id}.ipynb" for l in course())
    assert all((work / link).is_file() for link in links)
    for lesson in course():
        assert f"About {lesson.minutes} minutes" in page and all(o in page for o in lesson.objectives)
    viewers = json.loads((tmp_path / "settings" / "@jupyterlab" / "docmanager-extension" /
                          "plugin.jupyterlab-settings").read_text(encoding="utf-8"))
    assert viewers == {"defaultViewers": {"markdown": "Markdown Preview"}}
    # A student's work is never overwritten by a second copy.
    mine = work / first.id / f"{first.id}.ipynb"
    mine.write_text(mine.read_text(encoding="utf-8").replace("YOUR CODE HERE", "my answer"), encoding="utf-8")
    again = kz("lessons", str(work), check=0)
    assert f"kept your own copy of {len(course())}" in again.stdout and "my answer" in mine.read_text(encoding="utf-8")


def test_kzcourse_lessons_refuses_a_file_and_an_unknown_lesson(tmp_path):
    (tmp_path / "file").write_text("x", encoding="utf-8")
    result = kz("lessons", str(tmp_path / "file"))
    assert result.returncode == 3 and "is a file: expected a folder" in result.stderr
    result = kz("lessons", str(tmp_path / "w"), "09-nothing")
    assert result.returncode == 3 and "01-article" in result.stderr
