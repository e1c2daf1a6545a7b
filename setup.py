"""Build step: ship the lessons inside the wheel.

The lessons live in ``lessons/`` at the top of the repository (the nbgrader source
folder). Wheels also carry them as ``kzcourse/lessons/`` (found by
``kzcourse.lessons.lessons_dir()``), each lesson's wrong-answer fixtures
(``<id>/wrong.toml``) with it for ``kzcourse demo``. Everything else is in pyproject.toml.
"""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


class build_py_with_lessons(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads lessons/ from the checkout
        target = Path(self.build_lib) / "kzcourse" / "lessons"
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(HERE / "lessons", target, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))


setup(cmdclass={"build_py": build_py_with_lessons})
