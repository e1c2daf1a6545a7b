"""Course directories and rosters: bad input gives clear errors and the documented exit status 3."""
from __future__ import annotations

import pytest

from kzcourse.grading.course import RosterError, parse_roster
from kzcourse.cli import EXIT_INPUT, EXIT_USAGE, build_parser
from tests.grading.helpers import ROOT, kz


def test_roster_reads_nbgraders_import_columns():
    students = parse_roster("id,first_name,last_name,email,lms_user_id\nabai,Abai,Kunanbayev,a@x.kz,7\n")
    assert students[0].fields() == {"first_name": "Abai", "last_name": "Kunanbayev", "email": "a@x.kz",
                                    "lms_user_id": "7"}


@pytest.mark.parametrize("text, match", [
    ("id\nabai\nabai\n", r"duplicate student id 'abai' on lines 2 and 3"),
    ("id\nabai\nzhanna k\n", r"malformed student id 'zhanna k' on line 3: expected letters, digits"),
    ("id\n../etc\n", r"malformed student id '../etc' on line 2"),
    ("id\n\n,x\n", r"malformed student id '' on line 2"),
    ("name,email\nabai,a@x\n", r"no 'id' column: expected a header row with the columns id, first_name"),
    ("id,grade\nabai,5\n", r"unknown column\(s\) 'grade'"),
])
def test_bad_rosters_are_refused_with_the_line_and_the_fix(text, match):
    with pytest.raises(RosterError, match=match):
        parse_roster(text)


def test_every_subcommand_has_help():
    parser = build_parser()
    verbs = parser._subparsers._group_actions[0].choices
    assert set(verbs) == {"init", "release", "grade", "feedback", "deadline", "export", "report", "similarity", "audit",
                          "demo", "lessons", "site"}
    for verb, sub in verbs.items():
        assert sub.format_help().strip(), verb
        assert "exit status" in sub.format_help()


def test_a_missing_course_directory_exits_3_and_says_how_to_create_one(tmp_path):
    result = kz("grade", "--course", str(tmp_path / "nowhere"))
    assert result.returncode == EXIT_INPUT
    assert "does not exist" in result.stderr and "kzcourse init" in result.stderr


def test_a_folder_that_is_not_a_course_exits_3(tmp_path):
    result = kz("export", cwd=tmp_path)
    assert result.returncode == EXIT_INPUT and "has no nbgrader_config.py" in result.stderr


def test_an_unknown_option_is_a_usage_error_exit_2():
    assert kz("grade", "--jobz", "2").returncode == EXIT_USAGE


@pytest.mark.slow
def test_bad_input_on_a_real_course(tmp_path):
    """Roster with a duplicate id, unknown lesson, misplaced file in submitted/: exit 3 with the fix."""
    (tmp_path / "dup.csv").write_text("id\nabai\nabai\n")
    r = kz("init", str(tmp_path / "c0"), "--roster", str(tmp_path / "dup.csv"))
    assert r.returncode == EXIT_INPUT and "duplicate student id 'abai'" in r.stderr
    assert not (tmp_path / "c0").exists(), "a refused roster creates nothing"

    kz("init", str(tmp_path / "c"), check=0)
    course = tmp_path / "c"
    r = kz("release", "02-geografy", cwd=course)
    assert r.returncode == EXIT_INPUT and "Unknown lesson '02-geografy'" in r.stderr and "02-geography" in r.stderr
    r = kz("grade", "09-nothing", cwd=course)
    assert r.returncode == EXIT_INPUT and "Unknown lesson" in r.stderr

    (course / "submitted" / "abai").mkdir(parents=True)
    (course / "submitted" / "abai" / "01-article.ipynb").write_text("{}")
    r = kz("grade", "01-article", cwd=course)
    assert r.returncode == EXIT_INPUT and "submitted/abai/01-article.ipynb" in r.stderr

    (course / "submitted" / "abai" / "01-article.ipynb").unlink()
    (course / "submitted" / "abai" / "01-article").mkdir()
    (course / "submitted" / "abai" / "01-article" / "01-article.ipynb").write_text("{}")
    r = kz("grade", "01-article", cwd=course)
    assert r.returncode == EXIT_INPUT and "kzcourse release 01-article" in r.stderr  # not released yet

    r = kz("init", str(course))
    assert r.returncode == EXIT_INPUT and "already holds a course" in r.stderr


def test_init_makes_the_course_folder_owner_only_and_says_so(tmp_path):
    import stat

    result = kz("init", str(tmp_path / "term"), "--lessons", str(ROOT / "lessons"), check=0)
    assert stat.S_IMODE((tmp_path / "term").stat().st_mode) == 0o700
    assert "readable by its owner only" in result.stdout and str(ROOT / "lessons") in result.stdout
    assert (tmp_path / "term" / "lessons" / "01-article" / "wrong.toml").is_file()


def test_init_with_a_graders_group_gives_the_folder_to_that_group(tmp_path):
    import grp
    import os
    import stat

    group = grp.getgrgid(os.getegid()).gr_name  # a group this user is in, whoever runs the tests
    result = kz("init", str(tmp_path / "term"), "--graders-group", group, check=0)
    st = (tmp_path / "term").stat()
    assert stat.S_IMODE(st.st_mode) == 0o2770 and st.st_gid == os.getegid()
    assert f"readable by its owner and the group {group!r} only" in result.stdout
    gradebook = (tmp_path / "term" / "gradebook.db").stat()
    assert stat.S_IMODE(gradebook.st_mode) == 0o660 and gradebook.st_gid == os.getegid()


def test_init_refuses_a_folder_without_lesson_sources_and_an_unknown_group(tmp_path):
    result = kz("init", str(tmp_path / "term"), "--lessons", str(tmp_path))
    assert result.returncode == 3 and "holds no lesson sources" in result.stderr and "--lessons DIR" in result.stderr
    result = kz("init", str(tmp_path / "term2"), "--graders-group", "no-such-group-kz")
    assert result.returncode == 3 and "Unknown graders' group" in result.stderr
    assert not (tmp_path / "term2").exists(), "nothing written before the checks"
