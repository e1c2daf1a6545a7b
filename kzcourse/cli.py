"""The ``kzcourse`` command: one thin function per verb, the work is in :mod:`kzcourse.grading`.

Like nbgrader, every subcommand acts on the course directory it runs in, or the one
``--course DIR`` names.

Exit status
-----------
==== =====================================================================
0    success
1    unexpected internal error (a bug: please report it with the traceback)
2    command-line usage error (unknown option or subcommand)
3    bad input: no course directory, unknown lesson, bad roster, misplaced
     files in submitted/, lesson not released, sandbox unavailable, gradebook
     database unusable (bad URL, driver not installed, server unreachable)
4    grading finished, but some submissions are broken (listed; not graded)
5    grading finished, but some submissions are flagged for manual review
6    both 4 and 5
7    ``audit`` found solutions, hidden tests or mark schemes in release/ or feedback/,
     or instructor-only text in the folders, wheels or environment it scanned
130  interrupted by SIGINT (Ctrl-C); 143: by SIGTERM. Run the command again to resume.
==== =====================================================================
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from kzcourse.errors import KzCourseError

EXIT_OK, EXIT_INTERNAL, EXIT_USAGE, EXIT_INPUT = 0, 1, 2, 3
EXIT_BROKEN, EXIT_FLAGGED, EXIT_BROKEN_AND_FLAGGED, EXIT_AUDIT = 4, 5, 6, 7

EPILOG = """exit status: 0 success; 1 internal error; 2 usage error; 3 bad input (course, lesson, roster,
misplaced files, sandbox, gradebook database); 4 some submissions broken; 5 some flagged for
review; 6 both; 7 audit found leaks; 130/143 interrupted by SIGINT/SIGTERM (run again to resume)."""


def _course(args, gradebook: bool = True):
    """The course of ``args``; with ``gradebook``, after checking its database can be reached (exit 3 if not)."""
    from kzcourse.grading.course import check_database, open_course

    course = open_course(args.course)
    if gradebook:
        check_database(course.db_url)
    return course


def _lessons(course, names):
    return course.check_lessons(names or None)


def cmd_init(args) -> int:
    from kzcourse.grading.course import describe_access, init_course, roster_ids, shown_db_url
    from kzcourse.lessons import lessons_dir

    course = init_course(args.dir, roster=args.roster, db_url=args.db_url, course_id=args.course_id,
                         lessons_from=args.lessons, graders_group=args.graders_group)
    print(f"Created course {course.root}")
    print(f"  lessons:   {', '.join(course.lesson_ids())} (sources, copied from {args.lessons or lessons_dir()})")
    print(f"  access:    {describe_access(course.root)}")
    print(f"  gradebook: {shown_db_url(course.db_url)} ({len(roster_ids(course))} students)")
    print(f"Next: cd {args.dir} && kzcourse release")
    return EXIT_OK


def cmd_release(args) -> int:
    from kzcourse.grading.course import CourseError

    course = _course(args)
    lessons = _lessons(course, args.lessons)
    api = course.api()
    exchange = api.exchange_is_functional if not args.no_exchange else False
    for lesson in lessons:
        result = api.generate_assignment(lesson, force=True, create=True)
        if not result.get("success"):
            raise CourseError(f"nbgrader could not generate {lesson}: {_last_line(result)}. "
                              f"Fix the source notebook lessons/{lesson}/{lesson}.ipynb and run again.")
        _stamp_due_date(course, lesson)
        where = f"release/{lesson}/"
        if exchange:
            result = api.release_assignment(lesson)
            if result.get("success"):
                where += " and the exchange"
            else:
                print(f"warning: {lesson} was generated but not released to the exchange: {_last_line(result)}",
                      file=sys.stderr)
        print(f"released {lesson} -> {where}")
    return EXIT_OK


def _stamp_due_date(course, lesson: str) -> None:
    """Show the lesson's due date in the first cell of its release (before it reaches the exchange)."""
    from kzcourse.grading.deadlines import recompute, stamp_release

    stamp_release(course, lesson)
    recompute(course, [lesson])  # generate_assignment may have rewritten the gradebook's assignment row


def _last_line(result: dict) -> str:
    text = (result.get("error") or result.get("log") or "").strip().splitlines()
    return text[-1] if text else "no message"


def cmd_grade(args) -> int:
    from kzcourse.grading.grade import grade, summarise
    from kzcourse.grading.internals import skip_unused_imports
    from kzcourse.grading.workers import Prestarted

    skip_unused_imports()
    # Workers start importing now, while this process loads the course's configuration.
    root = Path(args.course or ".").absolute()
    ungraded = Prestarted.worthwhile(root)
    prestarted = Prestarted(root, min(ungraded, max(1, args.jobs or os.cpu_count() or 1))) if ungraded else None
    try:
        course = _course(args)
        run = grade(course, args.lessons, jobs=args.jobs, timeout=args.timeout, sandbox=not args.no_sandbox,
                    force=args.force, collect=not args.no_collect, progress=not args.quiet, prestarted=prestarted)
    finally:
        if prestarted is not None:
            prestarted.close()
    from kzcourse.grading.deadlines import recompute

    recompute(course, args.lessons)  # late penalties of what was just graded
    summary = summarise(course, _lessons(course, args.lessons), run)
    print(summary.text())
    if run.interrupted_by is not None:
        return 128 + run.interrupted_by
    return summary.exit_code()


def cmd_feedback(args) -> int:
    from kzcourse.grading.feedback import feedback

    course = _course(args)
    for res in feedback(course, _lessons(course, args.lessons), release_ungraded=args.release_ungraded,
                        release=args.release):
        msg = f"feedback {res.lesson}: {len(res.written) + len(res.marked)} page(s) in feedback/"
        if res.released is True:
            msg += " and the exchange"
        elif res.released:
            msg += f" (not released: {res.released})"
        print(msg)
        if res.marked:
            print(f"  marked 'not graded yet' (written answers awaiting hand grading): {', '.join(res.marked)}")
        if res.held_back:
            print(f"  held back until hand grading is done: {', '.join(res.held_back)} "
                  f"(grade them in the Formgrader, or pass --release-ungraded)")
    return EXIT_OK


def cmd_deadline(args) -> int:
    from kzcourse.grading import deadlines

    course = _course(args)
    if args.action != "show" and (args.lesson is None or args.when is None):
        raise deadlines.CourseError(f"kzcourse deadline {args.action} needs LESSON and "
                                    f"{'DATE' if args.action == 'set' else 'STUDENT'}, e.g. "
                                    f"`kzcourse deadline set 01-article 2026-02-02T23:59+05:00` or "
                                    f"`kzcourse deadline extend 01-article aigerim --hours 48`.")
    args.student = args.when
    if args.action == "set":
        late = deadlines.set_due(course, args.lesson, args.when)
        print(f"due date of {args.lesson}: {deadlines.due_text(deadlines.parse_when(args.when))}")
    elif args.action == "extend":
        if args.remove:
            late = deadlines.extend(course, args.lesson, args.student)
            print(f"extension of {args.student} for {args.lesson} removed")
        else:
            if (args.until is None) == (args.hours is None):
                raise deadlines.CourseError("kzcourse deadline extend: give exactly one of --until DATE and "
                                            "--hours N (or --remove).")
            late = deadlines.extend(course, args.lesson, args.student, until=args.until, hours=args.hours)
            until = deadlines.load_term(course).extensions[args.lesson][args.student]
            print(f"{args.student} has until {deadlines.due_text(until)} for {args.lesson}")
    else:
        late = deadlines.recompute(course)
        term = deadlines.load_term(course)
        for lesson in course.lesson_ids():
            due = term.due.get(lesson)
            print(f"{lesson}: due {deadlines.due_text(due) if due else '(no due date)'}")
            for student, until in term.extensions.get(lesson, {}).items():
                print(f"  extension: {student} until {deadlines.due_text(until)}")
    for x in late:
        print(f"late: {x.student} {x.lesson} {x.hours_late:.2f} h after the due date"
              f"{' (extended)' if x.extended else ''}, penalty {x.penalty:.2f}")
    print(f"penalties recomputed ({len(late)} late submission(s)); term file: {deadlines.term_path(course)}")
    return EXIT_OK


def cmd_export(args) -> int:
    from kzcourse.grading.export import export

    course = _course(args)
    out = export(course, fmt=args.format, path=args.output, lessons=_lessons(course, args.lessons))
    print(f"wrote {out}")
    return EXIT_OK


def cmd_report(args) -> int:
    from kzcourse.grading.report import write_report

    course = _course(args)
    out = write_report(course, path=args.output, lessons=_lessons(course, args.lessons))
    print(f"wrote {out}")
    return EXIT_OK


def cmd_similarity(args) -> int:
    from kzcourse.grading.similarity import THRESHOLD, write_similarity

    course = _course(args, gradebook=False)
    out, results = write_similarity(course, _lessons(course, args.lessons), path=args.output, top=args.top)
    for res in results:
        above = [p for p in res.pairs if p.score >= THRESHOLD]
        print(f"similarity {res.lesson}: {res.students} submissions, {len(above)} pair(s) at or above {THRESHOLD:.2f}")
        for p in above:
            print(f"  read: {p.a} and {p.b}  score {p.score:.2f} (code {p.code:.2f}, written {p.written:.2f})")
    print(f"wrote {out} (no score was changed)")
    return EXIT_OK


def cmd_audit(args) -> int:
    from kzcourse.grading.audit import audit

    targets = [a for a in args.lessons if _is_path(a)]
    if targets or args.installed:
        return _audit_installs(args, targets, [a for a in args.lessons if not _is_path(a)])
    course = _course(args, gradebook=False)
    findings = audit(course, lessons=_lessons(course, args.lessons))
    for f in findings:
        print(f)
    if findings:
        print(f"audit: {len(findings)} leak(s) found; remove those files or regenerate them "
              f"(`kzcourse release`, `kzcourse feedback`).", file=sys.stderr)
        return EXIT_AUDIT
    print("audit: release/ and feedback/ hold no solutions, hidden tests or mark schemes")
    return EXIT_OK


def _is_path(arg: str) -> bool:
    """An audit argument naming a file or folder (else it is a lesson id)."""
    return os.sep in arg or "/" in arg or arg.endswith((".whl", ".zip", ".tar.gz")) or Path(arg).exists()


def _audit_sources(args) -> Path:
    """The lesson sources an install audit compares against: --sources, the course's, or the checkout's."""
    from kzcourse.grading.course import CourseError, open_course
    from kzcourse.lessons import lessons_dir

    if args.sources:
        return Path(args.sources)
    if args.course or Path("nbgrader_config.py").is_file():
        return open_course(args.course).source_dir
    try:
        return lessons_dir()
    except KzCourseError:
        raise CourseError("The audit compares against the lesson sources, and none were found: expected a checkout "
                          "of the course repository or a course directory, got an installed kzcourse (student "
                          "editions only). Pass the sources' folder: --sources path/to/repository/lessons.") from None


def _audit_installs(args, targets: list[str], stray: list[str]) -> int:
    from kzcourse.grading.audit import KINDS, editable_checkouts, installed_paths, scan, source_secrets
    from kzcourse.grading.course import CourseError

    if stray:
        raise CourseError(f"{', '.join(map(repr, stray))}: expected folders, wheels or files to audit (lesson ids "
                          "only audit a course's release/ and feedback/). Check the paths.")
    secrets = source_secrets(_audit_sources(args))
    if args.installed:
        targets = targets + [str(p) for p in installed_paths()]
        for checkout in editable_checkouts():
            print(f"note: kzcourse is installed in editable mode from {checkout}: that checkout is the instructor's "
                  f"edition and is not scanned; give students a wheel or `kzcourse lessons DIR`.", file=sys.stderr)
    for line, where in secrets.in_package.items():
        print(f"note: a solution line also stands in kzcourse's own code ({where}); public code, not searched: "
              f"{line[:80]!r}", file=sys.stderr)
    findings = scan(targets, secrets)
    for f in findings:
        print(f)
    counts = ", ".join(f"{secrets.count(k)} {k}" for k in KINDS)
    print(f"audit: compared {', '.join(targets)} with the lines of {len(secrets.lessons)} lesson sources in "
          f"{secrets.source} ({counts} lines)", file=sys.stderr)
    if findings:
        print(f"audit: {len(findings)} finding(s): these files hold instructor-only text; ship student editions "
              f"only (`kzcourse lessons DIR`, the wheel built from pyproject.toml).", file=sys.stderr)
        return EXIT_AUDIT
    print("audit: 0 findings: no solution, hidden test, mark scheme, instructor note or wrong-answer fixture")
    return EXIT_OK


def cmd_lessons(args) -> int:
    from kzcourse.lessons import copy_student_editions, write_lab_settings, write_student_jupyter_config

    print(copy_student_editions(args.dir, lessons=args.lesson or None))
    if args.lab_settings:
        for path in write_lab_settings(args.lab_settings):
            print(f"  JupyterLab setting: {path}")
    if args.jupyter_config:
        for path in write_student_jupyter_config(args.jupyter_config):
            print(f"  Jupyter config (nbgrader's instructor tools off): {path}")
    return EXIT_OK


def cmd_demo(args) -> int:
    from kzcourse.grading.demo import demo

    result = demo(args.dir, students=args.students, lessons=args.lessons or None, jobs=args.jobs,
                  sandbox=not args.no_sandbox)
    print(result)
    return EXIT_OK


def cmd_site(args) -> int:
    from kzcourse.site.build import Launch, build_site

    launch = Launch(binder=args.binder, binder_path=args.binder_path, hub=args.hub, repo=args.repo,
                    branch=args.branch, lite=args.lite)
    site = build_site(args.out, edition="instructor" if args.instructor else "student", launch=launch,
                      lessons=args.lessons or None, progress=True)
    print(site)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kzcourse",
        description="Run a term of the kzcourse lessons on nbgrader: create a course, release lessons, grade "
                    "in parallel inside a sandbox, give feedback, export grades, analyse items, audit releases.",
        epilog=EPILOG,
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--course", metavar="DIR", default=None,
                        help="the course directory (default: the current folder)")
    sub = parser.add_subparsers(dest="verb", metavar="COMMAND", required=True)

    def add(name, func, help_, lessons=True, course=True):
        p = sub.add_parser(name, parents=[common] if course else [], help=help_, description=help_, epilog=EPILOG)
        if lessons:
            p.add_argument("lessons", nargs="*", metavar="LESSON", help="lesson ids (default: every lesson)")
        p.set_defaults(func=func)
        return p

    p = add("init", cmd_init, "Create a course directory for a new term: lessons, nbgrader config, gradebook "
            "with the roster, exchange.", lessons=False, course=False)
    p.add_argument("dir", metavar="DIR", help="folder to create (it must not hold a course already)")
    p.add_argument("--roster", metavar="CSV", help="students: CSV with the column id and optionally first_name, "
                   "last_name, email, lms_user_id")
    p.add_argument("--db-url", metavar="URL", default=None,
                   help="gradebook database URL (default: SQLite gradebook.db in DIR; "
                        "e.g. postgresql://user@host/db for a team of graders)")
    p.add_argument("--course-id", default="kzcourse", help="nbgrader course id (default: kzcourse)")
    p.add_argument("--lessons", metavar="DIR", default=None,
                   help="the lesson sources to copy (default: lessons/ of the checkout kzcourse runs from); "
                        "an installed kzcourse has none: pass the course repository's lessons/")
    p.add_argument("--graders-group", metavar="GROUP", default=None,
                   help="Unix group of the graders: the course folder is then readable and writable by its owner "
                        "and GROUP (mode 2770); without it, by its owner only (700)")

    p = add("release", cmd_release, "Generate the student version of lessons (release/<lesson>/) and release "
            "them to the exchange when one is configured.")
    p.add_argument("--no-exchange", action="store_true", help="only generate release/, do not use the exchange")

    p = add("grade", cmd_grade, "Collect and autograde submissions in parallel, sandboxed, resumable.")
    p.add_argument("--jobs", "-j", type=int, default=None, metavar="N", help="worker processes (default: CPU count)")
    p.add_argument("--timeout", type=int, default=None, metavar="S",
                   help="per-cell time limit in seconds (default: Execute.timeout of the config)")
    p.add_argument("--force", action="store_true", help="regrade every submission, not only what is left")
    p.add_argument("--no-sandbox", action="store_true",
                   help="run student code with your own rights (only for submissions you trust)")
    p.add_argument("--no-collect", action="store_true", help="do not collect from the exchange first")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")

    p = add("feedback", cmd_feedback, "Write feedback HTML per student (feedback/), without hidden tests.")
    p.add_argument("--release", action="store_true", help="also release the feedback to the exchange")
    p.add_argument("--release-ungraded", action="store_true",
                   help="also write feedback for submissions whose written answers await hand grading, marked "
                        "'not graded yet' (default: hold them back)")

    p = add("deadline", cmd_deadline, "Due dates, per-student extensions and late penalties (deadlines.toml, "
            "mirrored into the gradebook); every change recomputes the penalties already given.", lessons=False)
    p.add_argument("action", choices=("show", "set", "extend"), help="show the dates and late work; set LESSON "
                   "DATE; extend LESSON STUDENT (--until DATE | --hours N | --remove)")
    p.add_argument("lesson", nargs="?", metavar="LESSON")
    p.add_argument("when", nargs="?", metavar="DATE|STUDENT",
                   help="set: the due date, ISO 8601 with a UTC offset (2026-02-02T23:59+05:00); extend: the student")
    p.add_argument("--until", metavar="DATE", help="extend: the student's own due date")
    p.add_argument("--hours", type=float, metavar="N", help="extend: hours after the lesson's due date")
    p.add_argument("--remove", action="store_true", help="extend: remove the student's extension")

    p = add("export", cmd_export, "Export grades in the column layout of a gradebook import.")
    p.add_argument("--format", choices=("csv", "canvas", "moodle"), default="csv",
                   help="csv (one row per student and lesson), canvas or moodle (one row per student)")
    p.add_argument("--output", "-o", metavar="FILE", default=None, help="output file (default: grades-<format>.csv)")

    p = add("report", cmd_report, "Write an HTML report: item analysis per question, score distributions, "
            "flagged and broken submissions.")
    p.add_argument("--output", "-o", metavar="FILE", default=None, help="output file (default: report.html)")

    p = add("similarity", cmd_similarity, "Compare students' code (names normalised) and written answers per "
            "lesson, starter code and class-common passages discounted; write similarity.html with the most "
            "similar pairs side by side. Changes no score.")
    p.add_argument("--output", "-o", metavar="FILE", default=None, help="output file (default: similarity.html)")
    p.add_argument("--top", type=int, default=10, metavar="N", help="pairs listed per lesson (default 10)")

    p = add("audit", cmd_audit, "Scan release/ and feedback/ (no PATH), or folders, wheels and installed "
            "environments (PATH..., --installed), for solutions, hidden tests, mark schemes, instructor notes and "
            "wrong-answer fixtures, matched line by line against the lesson sources; exit 7 on any.")
    p.add_argument("--installed", action="store_true",
                   help="also scan the environment of the Python running kzcourse (site-packages, share/jupyter)")
    p.add_argument("--sources", metavar="DIR", default=None,
                   help="the instructor's lessons folder to compare with (default: the course's, or the checkout's)")
    p.description += (" PATH arguments (anything naming a file or folder: dist/*.whl, an image root, a working "
                      "copy) are scanned; other arguments are lesson ids of the course.")

    p = add("lessons", cmd_lessons, "Copy the student editions of the lessons (no solutions, no hidden tests) "
            "into DIR, with a start page; then `jupyter lab DIR`. Lessons already in DIR are kept.",
            lessons=False, course=False)
    p.add_argument("dir", metavar="DIR", help="folder to work in (created when missing)")
    p.add_argument("lesson", nargs="*", metavar="LESSON", help="lesson ids (default: every lesson)")
    p.add_argument("--lab-settings", metavar="DIR", default=None,
                   help="also write JupyterLab user settings into DIR (e.g. ~/.jupyter/lab/user-settings): "
                        "Markdown opens rendered, so the start page is a page of links; no news prompt")
    p.add_argument("--jupyter-config", metavar="DIR", default=None,
                   help="also write a Jupyter config folder for students into DIR (use it as JUPYTER_CONFIG_DIR): "
                        "nbgrader's Formgrader, course list and Create Assignment are switched off")

    p = add("demo", cmd_demo, "Create a complete sample term in DIR: synthetic roster, varied submissions, "
            "graded, with feedback and the report.", lessons=False, course=False)
    p.add_argument("dir", metavar="DIR", help="folder to create")
    p.add_argument("--students", type=int, default=6, help="number of synthetic students (at least 5)")
    p.add_argument("--lessons", nargs="*", metavar="LESSON", default=None,
                   help="lessons to grade (default: every lesson)")
    p.add_argument("--jobs", "-j", type=int, default=None, metavar="N", help="worker processes")
    p.add_argument("--no-sandbox", action="store_true", help="grade without the sandbox")

    p = add("site", cmd_site, "Build the course website (offline, searchable) from the student editions; "
            "--instructor builds the instructor edition instead.", lessons=False, course=False)
    p.add_argument("out", metavar="OUT", help="folder for the site (an earlier build of the same edition is replaced)")
    p.add_argument("lessons", nargs="*", metavar="LESSON", help="lesson ids (default: every lesson)")
    p.add_argument("--instructor", action="store_true",
                   help="build the instructor edition (solutions, hidden tests, mark schemes): never publish it")
    p.add_argument("--binder", metavar="URL", help="Binder URL of the repository, e.g. https://BINDER/v2/gh/ORG/REPO/main")
    p.add_argument("--binder-path", metavar="PATH", default="{id}/{id}.ipynb",
                   help="where the Binder image holds each lesson ({id} is the lesson id; default: %(default)s)")
    p.add_argument("--hub", metavar="URL", help="JupyterHub base URL for nbgitpuller launch links")
    p.add_argument("--repo", metavar="GIT_URL", help="git repository holding the student editions (with --hub)")
    p.add_argument("--branch", default="student", help="branch of --repo with the student editions (default: student)")
    p.add_argument("--lite", metavar="URL", help="JupyterLite deployment holding the student editions")
    return parser


def _tools_on_path() -> None:
    """Put this Python's bin folder first on PATH: nbgrader runs ``alembic`` (and kernels) by name,
    and ``.venv/bin/kzcourse`` may be run without activating the environment."""
    bindir = os.path.dirname(sys.executable)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join([bindir, os.environ.get("PATH", "")])


def main(argv: list[str] | None = None) -> int:
    """Run the ``kzcourse`` command; return its exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _tools_on_path()
    try:
        return args.func(args)
    except KzCourseError as exc:
        print(f"kzcourse {args.verb}: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print(f"kzcourse {args.verb}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
