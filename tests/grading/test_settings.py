"""Do the repository's nbgrader_config.py and the one `kzcourse init` writes apply the same course policy?"""
from __future__ import annotations

import pytest

from kzcourse.grading import integrity, sandbox, settings
from kzcourse.grading.course import init_course, load_config
from tests.grading.helpers import ROOT

SHARED = [("CourseDirectory", "source_directory"), ("CourseDirectory", "ignore"),
          ("OverwriteCells", "add_missing_cells"), ("Execute", "timeout"), ("Execute", "interrupt_on_timeout"),
          ("GenerateFeedback", "preprocessors"), ("Autograde", "autograde_preprocessors")]


@pytest.fixture(scope="module")
def term(tmp_path_factory):
    """A course directory written by `kzcourse init`."""
    return init_course(tmp_path_factory.mktemp("settings") / "term")


def _shared(config) -> dict:
    return {(section, key): config[section][key] for section, key in SHARED}


def test_an_init_course_and_the_repository_share_every_course_setting(term):
    assert _shared(term.config) == _shared(load_config(ROOT))
    assert term.config.CourseDirectory.db_url == f"sqlite:///{term.root / 'gradebook.db'}"


def test_integrity_reports_never_leave_the_instructor(term):
    for config in (load_config(ROOT), term.config):
        assert "integrity.json" in config.CourseDirectory.ignore


def test_the_canaries_surround_execute_and_the_sandbox_runs_it_when_bubblewrap_works():
    pps = settings.autograde_preprocessors()
    i = next(n for n, p in enumerate(pps) if p.__name__ == "Execute")
    assert pps[i - 1] is integrity.AddCanaries and pps[i + 1] is integrity.CheckCanaries
    assert (pps[i] is sandbox.Execute) == sandbox.available()
    assert pps.count(integrity.AddCanaries) == 1
