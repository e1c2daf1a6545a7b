"""Do the repository's nbgrader_config.py and the one `kzcourse init` writes apply the same course policy?"""
from __future__ import annotations

import pytest

from kzcourse.grading import phases, sandbox, settings
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


def test_two_phase_execute_replaces_nbgraders_execute_once_and_is_sandboxed_when_bubblewrap_works():
    from nbgrader.preprocessors import Execute as NbgraderExecute

    for config in (load_config(ROOT), settings_config()):
        pps = config.Autograde.autograde_preprocessors
        executes = [p for p in pps if isinstance(p, type) and issubclass(p, NbgraderExecute)]
        assert len(executes) == 1 and issubclass(executes[0], phases.TwoPhaseExecute)
        assert (executes[0] is sandbox.Execute) == sandbox.available()
        assert pps[-4:] == settings.autograde_preprocessors(sandbox=False)[-4:]
        assert pps[-1].__name__ == "SafeOutputs", "outputs are made safe after the grades are read from them"


def test_rewriting_an_old_course_list_drops_the_canaries_and_keeps_one_execute():
    old = ["kzcourse.grading.integrity.AddCanaries", "nbgrader.preprocessors.Execute",
           "kzcourse.grading.integrity.CheckCanaries", "nbgrader.preprocessors.SaveAutoGrades"]
    names = [p.__name__ for p in settings.autograde_preprocessors(sandbox=False, pps=old)]
    assert names == ["TwoPhaseExecute", "SaveAutoGrades", "SafeOutputs"]


def settings_config():
    from traitlets.config import Config

    c = Config()
    settings.apply(c)
    return c
