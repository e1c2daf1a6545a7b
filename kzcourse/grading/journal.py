"""The grading journal: what became of each submission, one JSON line per graded or broken one.

``kzcourse grade`` appends a line to ``<course>/.kzcourse/journal.jsonl`` after it has recorded a
submission (the gradebook first, then the journal; the file is flushed and synced), so the last
line per ``(student, lesson)`` is what the course holds. Other tools (``kzcourse report``,
``export``) read it with :func:`read_journal`. A torn last line (a killed process) is skipped.

Line format (keys sorted; every line has all the keys in the first group):

* ``student``, ``lesson``: the submission (``submitted/<student>/<lesson>/``);
* ``digest``: SHA-256 of its content (:func:`kzcourse.grading.submission.submission_digest`);
  a submission whose digest changed is graded again;
* ``status``: ``"graded"`` or ``"broken"`` (not a notebook at all: nothing recorded, never a 0);
* ``reason``: why it is broken, one line for people (``""`` when graded);
* ``flags``: what a human should look at, each ``{"code", "cell", "message"}``
  (:mod:`kzcourse.grading.integrity` lists the codes: ``kernel-died``, ``time-limit``,
  ``edited-metadata``, ``submission-files``, ...); a flag never changes a score;
* ``score``, ``max_score``: the autograded points (``null`` when broken);
* ``seconds``: how long grading it took; ``time``: when it was recorded (UTC, ISO 8601);
* ``log`` (broken only): nbgrader's log and traceback, or the worker's (last 12,000 characters).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

from kzcourse.grading.course import Course

JOURNAL = "journal.jsonl"


@dataclass
class Task:
    """One submission to grade."""

    student: str
    lesson: str
    digest: str
    extension_seconds: float | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.student, self.lesson)


@dataclass
class Outcome:
    """What became of one submission in a run."""

    student: str
    lesson: str
    status: str  # "graded" or "broken"
    reason: str = ""
    score: float | None = None
    max_score: float | None = None
    flags: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    digest: str = ""

    @property
    def flagged(self) -> bool:
        return bool(self.flags)


def read_journal(course: Course) -> dict[tuple[str, str], dict]:
    """The last journal entry per (student, lesson)."""
    path = course.state_dir / JOURNAL
    entries: dict[tuple[str, str], dict] = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                e = json.loads(line)
                entries[(e["student"], e["lesson"])] = e
            except (ValueError, KeyError):
                continue  # a torn last line from a killed process
    return entries


def append_journal(course: Course, entry: dict) -> None:
    """Append one entry (see the module docstring), flushed and synced before it returns."""
    course.state_dir.mkdir(exist_ok=True)
    with open(course.state_dir / JOURNAL, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry, sort_keys=True) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
