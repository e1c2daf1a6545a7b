"""A PostgreSQL gradebook for a team of graders, checked against a real server.

The end-to-end tests start a throwaway PostgreSQL server (Debian's ``postgresql``, which
``make test`` installs when missing) in a temporary folder, on a free port of 127.0.0.1
with trust authentication, and drive the real ``kzcourse`` command on it: init -> release
-> submissions -> grade --jobs 2 -> export. The scores must equal those of the same
submissions graded on a SQLite course, and the rows must really be in PostgreSQL.

Without the driver, or without a server at the URL, ``kzcourse`` exits 3 (bad input)
with a message saying what was expected, what arrived and how to fix it.
"""
from __future__ import annotations

import csv
import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.grading.helpers import ROSTER, env, kz, new_course, scores, submit

LESSON = "01-article"
PLAN = {"aigerim": "right", "nurlan": "partly", "dana": "wrong", "yerlan": "blank"}
DATABASE = "kzcourse_term"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _initdb() -> str | None:
    """The newest /usr/lib/postgresql/<version>/bin/initdb (Debian's layout), or None."""
    found = glob.glob("/usr/lib/postgresql/*/bin/initdb")
    version = lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0  # noqa: E731
    return max(found, key=version) if found else None


def _without_psycopg2(tmp: Path) -> dict[str, str]:
    """The test environment with psycopg2 made unimportable, as if it were not installed:
    a sitecustomize first on PYTHONPATH sets ``sys.modules['psycopg2'] = None``."""
    hide = tmp / "hide-psycopg2"
    hide.mkdir()
    (hide / "sitecustomize.py").write_text("import sys\nsys.modules['psycopg2'] = None\n", encoding="utf-8")
    e = env()
    e["PYTHONPATH"] = str(hide) + os.pathsep + e["PYTHONPATH"]
    check = subprocess.run([sys.executable, "-c", "import psycopg2"], env=e, capture_output=True, text=True)
    assert check.returncode != 0 and "psycopg2" in check.stderr, "the driver should be hidden"
    return e


def _kz_env(e: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kzcourse", *args], cwd=cwd, env=e, capture_output=True,
                          text=True, timeout=300)


# --------------------------------------------------------------------------- no driver, no server


def test_init_without_the_driver_exits_3_and_says_to_install_the_postgres_extra(tmp_path):
    e = _without_psycopg2(tmp_path)
    result = _kz_env(e, "init", str(tmp_path / "term"), "--db-url", "postgresql://grader:secret@127.0.0.1:5432/kz")
    assert result.returncode == 3, result.stdout + result.stderr
    err = result.stderr
    assert "Traceback" not in err and "ModuleNotFoundError" not in err, err
    assert "kzcourse init: error: Gradebook database postgresql+psycopg2://grader:***@127.0.0.1:5432/kz" in err
    assert "needs the postgresql driver 'psycopg2'" in err  # what was expected
    assert "cannot import" in err  # what arrived
    assert 'pip install "kzcourse[postgres]"' in err  # how to fix it
    assert "secret" not in err, "the password is never printed"
    assert not (tmp_path / "term").exists(), "a failed init leaves no half-made course"


def test_init_with_no_server_at_the_url_exits_3_and_says_what_to_check(tmp_path):
    port = _free_port()  # nothing listens there
    result = kz("init", str(tmp_path / "term"), "--db-url", f"postgresql://grader:secret@127.0.0.1:{port}/kz")
    assert result.returncode == 3, result.stdout + result.stderr
    err = result.stderr
    assert "Traceback" not in err and "OperationalError" not in err, err
    assert f"Cannot connect to the gradebook database postgresql+psycopg2://grader:***@127.0.0.1:{port}/kz" in err
    assert "expected a PostgreSQL server accepting connections there" in err
    assert "Connection refused" in err  # what arrived, in the driver's words
    assert "Check the URL" in err and "pg_isready" in err
    assert "secret" not in err
    assert not (tmp_path / "term").exists()


@pytest.mark.parametrize("url", ["gradebook on the shared server", "postgresql://grader@dbhost:port/kzcourse",
                                 "postgresql://grader@[::1/kzcourse"])
def test_a_malformed_database_url_exits_3(tmp_path, url):
    result = kz("init", str(tmp_path / "term"), "--db-url", url)
    assert result.returncode == 3 and "is not a database URL" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


# --------------------------------------------------------------------------- a real server


@pytest.fixture(scope="module")
def postgres():
    """A throwaway PostgreSQL server: ``{"port", "url", "connect"}``; stopped and deleted afterwards."""
    initdb = _initdb()
    if initdb is None:
        pytest.skip("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb); "
                    "`make test` installs Debian's postgresql, or run apt-get install postgresql")
    psycopg2 = pytest.importorskip("psycopg2", reason="psycopg2-binary is part of the test extra: pip install -e .[test]")
    bindir = Path(initdb).parent
    # PostgreSQL refuses to run as root: as root, run it as the `postgres` system user.
    as_postgres, owner = [], None
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no `postgres` user to run the server as")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    root = Path(tempfile.mkdtemp(prefix="kz-postgres-"))  # not under pytest's folder: the server user must enter it
    data, sockets, log = root / "data", root / "sockets", root / "server.log"
    sockets.mkdir()
    if owner is not None:
        for path in (root, sockets):
            os.chown(path, owner.pw_uid, owner.pw_gid)
    pg_ctl = [*as_postgres, str(bindir / "pg_ctl"), "-D", str(data)]
    started = False

    def run(cmd):
        result = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=120)
        log_text = log.read_text(errors="replace")[-3000:] if log.exists() else ""
        assert result.returncode == 0, f"{cmd} failed:\n{result.stdout}\n{result.stderr}\n{log_text}"

    try:
        run([*as_postgres, initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "--encoding=UTF8",
             "--locale=C", "--no-sync"])
        port = _free_port()
        options = (f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off "
                   f"-c synchronous_commit=off -c full_page_writes=off")
        run([*pg_ctl, "-l", str(log), "-o", options, "-w", "-t", "60", "start"])
        started = True

        def connect(dbname=DATABASE):
            return psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname=dbname)

        admin = connect("postgres")
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute(f"CREATE DATABASE {DATABASE}")
        admin.close()
        yield {"port": port, "url": f"postgresql://postgres@127.0.0.1:{port}/{DATABASE}", "connect": connect}
    finally:
        if started:
            subprocess.run([*pg_ctl, "-m", "fast", "-w", "stop"], cwd=root, capture_output=True, timeout=120)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def graded(postgres, tmp_path_factory):
    """The same submissions graded on a PostgreSQL course and on a SQLite course."""
    tmp = tmp_path_factory.mktemp("pg-term")
    (tmp / "roster.csv").write_text(ROSTER, encoding="utf-8")
    course = tmp / "course"
    init = kz("init", str(course), "--roster", str(tmp / "roster.csv"), "--db-url", postgres["url"], check=0)
    kz("release", LESSON, cwd=course, check=0)
    submit(course, LESSON, PLAN)
    grade = kz("grade", "--jobs", "2", cwd=course, check=0)
    kz("export", "--format", "csv", cwd=course, check=0)

    sqlite_course = new_course(tmp_path_factory.mktemp("sqlite-term"), lessons=[LESSON])
    submit(sqlite_course, LESSON, PLAN)
    kz("grade", "--jobs", "2", cwd=sqlite_course, check=0)
    kz("export", "--format", "csv", cwd=sqlite_course, check=0)
    return {"course": course, "sqlite": sqlite_course, "init": init, "grade": grade}


def _csv(course: Path) -> list[dict]:
    with open(course / "grades-csv.csv", encoding="utf-8") as f:
        return sorted(csv.DictReader(f), key=lambda r: (r["student_id"], r["lesson"]))


@pytest.mark.slow
@pytest.mark.e2e
def test_init_writes_a_postgres_course_with_the_roster_and_no_sqlite_file(postgres, graded):
    course = graded["course"]
    out = graded["init"].stdout
    assert f"gradebook: postgresql+psycopg2://postgres@127.0.0.1:{postgres['port']}/{DATABASE} (4 students)" in out
    assert "postgresql+psycopg2://" in (course / "nbgrader_config.py").read_text(encoding="utf-8")
    assert not (course / "gradebook.db").exists(), "nothing fell back to a SQLite gradebook"


@pytest.mark.slow
@pytest.mark.e2e
def test_grading_on_postgres_gives_the_scores_of_the_same_submissions_on_sqlite(graded):
    assert f"graded {len(PLAN)} submission(s)" in graded["grade"].stdout, graded["grade"].stdout
    pg_rows, sqlite_rows = _csv(graded["course"]), _csv(graded["sqlite"])
    assert [(r["student_id"], r["status"]) for r in pg_rows] == [(s, "graded") for s in sorted(PLAN)]
    assert pg_rows == sqlite_rows
    total = {r["student_id"]: float(r["score"]) for r in pg_rows}
    assert total["aigerim"] > total["nurlan"] > 0 and total["yerlan"] == 0  # right > partly > blank


@pytest.mark.slow
@pytest.mark.e2e
def test_the_grades_are_rows_in_postgresql_cell_by_cell(postgres, graded):
    conn = postgres["connect"]()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT id FROM student ORDER BY id")
            students = [row[0] for row in cur.fetchall()]
            cur.execute("""
                SELECT sa.student_id, a.name, bc.name, g.auto_score, g.needs_manual_grade
                FROM grade g
                JOIN submitted_notebook sn ON g.notebook_id = sn.id
                JOIN submitted_assignment sa ON sn.assignment_id = sa.id
                JOIN assignment a ON sa.assignment_id = a.id
                JOIN base_cell bc ON g.cell_id = bc.id""")
            rows = cur.fetchall()
    finally:
        conn.close()
    assert students == ["aigerim", "dana", "nurlan", "yerlan"]
    in_postgres: dict[tuple, dict] = {}
    for student, lesson, cell, auto_score, needs_manual in rows:
        in_postgres.setdefault((student, lesson), {})[cell] = (auto_score, needs_manual)
    in_sqlite = {key: {c: v for c, v in cells.items() if not c.startswith("comment:")}
                 for key, cells in scores(graded["sqlite"]).items()}
    assert set(in_postgres) == {(s, LESSON) for s in PLAN}
    assert in_postgres == in_sqlite


@pytest.mark.slow
@pytest.mark.e2e
def test_a_postgres_course_without_the_driver_exits_3(graded, tmp_path):
    result = _kz_env(_without_psycopg2(tmp_path), "export", cwd=graded["course"])
    assert result.returncode == 3, result.stdout + result.stderr
    assert "needs the postgresql driver 'psycopg2'" in result.stderr
    assert 'pip install "kzcourse[postgres]"' in result.stderr


@pytest.mark.slow
@pytest.mark.e2e
def test_init_on_a_database_that_does_not_exist_exits_3(postgres, tmp_path):
    url = f"postgresql://postgres@127.0.0.1:{postgres['port']}/no_such_database"
    result = kz("init", str(tmp_path / "term"), "--db-url", url)
    assert result.returncode == 3, result.stdout + result.stderr
    assert 'database "no_such_database" does not exist' in result.stderr and "createdb" in result.stderr
    assert not (tmp_path / "term").exists()
