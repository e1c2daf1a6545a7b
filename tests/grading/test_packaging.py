"""The lessons ship inside the wheel, so `kzcourse init` works from a plain `pip install`."""
from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest

from kzcourse.lessons import course
from tests.grading.helpers import ROOT


@pytest.mark.slow
def test_wheel_contains_every_lesson_its_wrong_answers_and_the_kzcourse_command(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(tmp_path), str(ROOT)],
                   check=True, capture_output=True, timeout=600)
    wheel = next(tmp_path.glob("kzcourse-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "kzcourse/lessons/course.toml" in names
    for lesson in course():
        assert f"kzcourse/lessons/{lesson.id}/{lesson.id}.ipynb" in names
        assert f"kzcourse/lessons/{lesson.id}/instructor.md" in names
        assert f"kzcourse/lessons/{lesson.id}/wrong.toml" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "kzcourse = kzcourse.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
