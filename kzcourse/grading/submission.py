"""What a student hands in is data: a submission folder read with ``lstat``, links never followed.

:func:`take_submission` copies only the notebook (and nbgrader's ``timestamp.txt`` and ``submission_secret.txt``) out of
``submitted/<student>/<lesson>/``; :func:`submission_digest` identifies its content for the
journal without following a link or opening a FIFO; :func:`check_submitted_layout` refuses
files where nbgrader expects folders.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import stat
from pathlib import Path

from kzcourse.grading.course import Course, CourseError


#: A submitted notebook larger than this is refused (broken), never read into memory.
MAX_NOTEBOOK_BYTES = 64 << 20


#: The small text files nbgrader itself writes beside a submitted notebook: ``timestamp.txt`` (when it was
#: submitted; late penalties) and ``submission_secret.txt`` (written by ``nbgrader submit``; ``nbgrader
#: release_feedback`` names the feedback after it so only that student can fetch it). They are carried
#: through grading as regular files (never links) into ``autograded/`` and so into ``feedback/``.
NBGRADER_FILES = ("timestamp.txt", "submission_secret.txt")


def _entries(folder: Path) -> list[tuple[str, os.stat_result]]:
    """Every entry under ``folder`` (relative path, lstat), links never followed."""
    out = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        for name in sorted(dirnames + filenames):
            path = Path(dirpath) / name
            out.append((str(path.relative_to(folder)), path.lstat()))
    return sorted(out)


def _read_regular(path: Path, limit: int) -> bytes:
    """The bytes of a regular file, opened without following a link; OSError otherwise."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(f"{path.name} is not a regular file")
        if st.st_size > limit:
            raise OSError(f"{path.name} has {st.st_size} bytes, more than the {limit} allowed")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            return fh.read()
    finally:
        os.close(fd)


def submission_digest(folder: Path) -> str:
    """SHA-256 over the relative paths and bytes of every file in a submission folder (links not followed).

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "a.ipynb").write_text("{}")
    >>> len(submission_digest(d))
    64
    """
    h = hashlib.sha256()
    for rel, st in _entries(folder):
        if ".ipynb_checkpoints" in Path(rel).parts or stat.S_ISDIR(st.st_mode):
            continue
        h.update(rel.encode() + b"\0")
        if stat.S_ISREG(st.st_mode):  # links are never followed: a link counts by its target's name
            h.update(_read_regular(folder / rel, 1 << 62) + b"\0")
        elif stat.S_ISLNK(st.st_mode):
            h.update(b"link:" + os.fsencode(os.readlink(folder / rel)) + b"\0")
        else:
            h.update(f"special:{stat.S_IFMT(st.st_mode)}".encode() + b"\0")
    return h.hexdigest()


def check_submitted_layout(course: Course) -> None:
    """Refuse files placed where nbgrader expects folders: ``submitted/<student>/<lesson>/``.

    Raises :class:`CourseError` listing each misplaced file and where it belongs.
    """
    submitted = course.folder("submitted")
    if not submitted.is_dir():
        return
    stray = []
    for entry in sorted(submitted.iterdir()):
        if entry.name.startswith("."):
            continue
        if not entry.is_dir():
            stray.append(f"{entry.relative_to(course.root)} (a file directly in submitted/)")
            continue
        for sub in sorted(entry.iterdir()):
            if not sub.name.startswith(".") and not sub.is_dir():
                stray.append(f"{sub.relative_to(course.root)} (a file directly in a student's folder)")
    if stray:
        raise CourseError(
            "Files are not where nbgrader expects them: " + "; ".join(stray) + ". Expected each submission in "
            "submitted/<student>/<lesson>/<lesson>.ipynb. Move each file into its student's lesson folder "
            "(or delete it), then run the command again."
        )


def take_submission(folder: Path, dest: Path, notebooks: list[str]) -> tuple[str | None, list[dict]]:
    """Copy a submission's notebooks (and nbgrader's own :data:`NBGRADER_FILES`) into ``dest``, as data.

    Every entry is looked at with ``lstat`` before anything is read: only regular files named
    ``<notebook>.ipynb`` are copied (opened without following links); links, devices, FIFOs,
    folders and other files are never followed, read or copied, and are flagged. Returns the
    reason the submission cannot be graded (or None) and the flags.

    >>> import tempfile
    >>> src, dst = Path(tempfile.mkdtemp()), Path(tempfile.mkdtemp()) / "s"
    >>> import nbformat
    >>> nbformat.write(nbformat.v4.new_notebook(), src / "l1.ipynb")
    >>> (src / "kzcourse").mkdir(); (src / "db").symlink_to("/etc/passwd")
    >>> reason, flags = take_submission(src, dst, ["l1"])
    >>> reason, sorted(p.name for p in dst.iterdir()), flags[0]["code"]
    (None, ['l1.ipynb'], 'submission-files')
    """
    import nbformat

    dest.mkdir(parents=True, exist_ok=True)
    entries = _entries(folder)
    wanted = {f"{name}.ipynb" for name in notebooks}
    ignored = []
    for rel, st in entries:
        if ".ipynb_checkpoints" in Path(rel).parts:
            continue
        if rel in wanted and stat.S_ISREG(st.st_mode):
            continue
        if rel in NBGRADER_FILES and stat.S_ISREG(st.st_mode) and st.st_size < 1024:
            shutil.copyfile(folder / rel, dest / rel, follow_symlinks=False)
            continue
        kind = ("a symbolic link" if stat.S_ISLNK(st.st_mode) else "a folder" if stat.S_ISDIR(st.st_mode)
                else "a file" if stat.S_ISREG(st.st_mode) else "a device, FIFO or socket")
        ignored.append(f"{rel} ({kind})")
    for name in notebooks:
        path = folder / f"{name}.ipynb"
        present = ", ".join(rel for rel, _ in entries if "/" not in rel) or "nothing"
        try:
            st = path.lstat()
        except FileNotFoundError:
            return (f"no {name}.ipynb in the submission (found: {present}); expected the lesson's notebook under "
                    "its own name"), []
        if not stat.S_ISREG(st.st_mode):
            return (f"{name}.ipynb is not a notebook file but "
                    f"{'a symbolic link' if stat.S_ISLNK(st.st_mode) else 'a folder or special file'}; only a "
                    "notebook file is graded (links are never followed)"), []
        try:
            data = _read_regular(path, MAX_NOTEBOOK_BYTES)
            nb = nbformat.reads(data.decode("utf-8"), as_version=4)
            nbformat.validate(nb)
        except Exception as exc:  # JSON, encoding or schema errors of every kind
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            return f"{name}.ipynb is not a valid notebook ({type(exc).__name__}: {first[:200]})", []
        (dest / f"{name}.ipynb").write_bytes(data)
    flags = []
    if ignored:
        shown = "; ".join(ignored[:10]) + (f"; and {len(ignored) - 10} more" if len(ignored) > 10 else "")
        flags.append({"code": "submission-files", "cell": "",
                      "message": f"the submission folder holds more than the notebook, none of it graded or copied: "
                                 f"{shown}"})
    return None, flags
