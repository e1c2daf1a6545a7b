"""Everything kzcourse's grading does by reaching into other libraries' internals, in one place.

Each trick is used only with the versions it was checked against (:func:`checked`); with any
other version the library's own, slower behaviour is used and nothing changes in grading.

* :func:`skip_unused_imports`: keeps jsonschema's optional ``rfc3987_syntax`` out of grading
  processes (jsonschema 4);
* :func:`create_schema`: a template gradebook stamped with the real one's alembic version, so
  nbgrader does not start ``alembic`` in a subprocess (nbgrader 0.9);
* :func:`fast_scratch_gradebooks`: ``PRAGMA synchronous=OFF`` for throw-away scratch gradebooks
  (SQLAlchemy 2);
* :func:`ready_client`: jupyter_client's kernel client without its 0.2 s idle wait when a kernel
  comes up (jupyter_client 8), used by :mod:`kzcourse.grading.sandbox`.

Two-phase grading itself (:mod:`kzcourse.grading.phases`) subclasses nbgrader's ``Execute``
through nbclient's public hooks, checked against nbclient 0.10-0.11; :func:`checked` is also
what its tests use to say which versions grading was verified with.
"""
from __future__ import annotations

import functools
import os
import sys
import time
from importlib import metadata
from pathlib import Path
from queue import Empty

#: Library -> version prefixes the tricks here were checked against.
CHECKED = {"jsonschema": ("4.",), "nbgrader": ("0.9.",), "sqlalchemy": ("2.",), "jupyter_client": ("8.",),
           "nbclient": ("0.10.", "0.11.")}


@functools.lru_cache(maxsize=None)
def checked(library: str) -> bool:
    """Whether the installed ``library`` is a version the tricks for it were checked against.

    >>> checked("nbgrader") in (True, False)
    True
    """
    try:
        version = metadata.version(library)
    except metadata.PackageNotFoundError:
        return False
    return version.startswith(CHECKED.get(library, ()))


def skip_unused_imports() -> None:
    """Keep ``rfc3987_syntax`` out of a grading process (it costs 1.2 s at import, and is never used there).

    ``import nbformat`` imports ``jsonschema``, whose format module imports the optional
    ``rfc3987_syntax`` when it is installed, which builds a Lark grammar at import time. That
    module serves one purpose: jsonschema's ``iri`` and ``iri-reference`` *format* checks. In
    ``kzcourse grade``'s processes nothing validates with a format checker: nbformat validates
    notebooks with fastjsonschema (or with jsonschema without a format checker), nbgrader
    validates its cell metadata with ``jsonschema.validate`` without one, and no schema either
    uses holds an ``iri`` format. (jupyter_events, the one library here that passes a format
    checker, validates only inside a Jupyter server.) Marking the module as absent is what
    jsonschema sees when the package is not installed: the two format checks are simply not
    registered. Call this before anything imports ``jsonschema``; afterwards it does nothing.
    The student's kernel is another process and is not affected.

    >>> import sys
    >>> skip_unused_imports()
    >>> "jsonschema" in sys.modules or sys.modules.get("rfc3987_syntax", 0) is None
    True
    """
    if "jsonschema" not in sys.modules and checked("jsonschema"):
        sys.modules.setdefault("rfc3987_syntax", None)


def create_schema(db_url: str, path: Path) -> None:
    """Create nbgrader's tables in a new SQLite file, stamped with the real gradebook's schema version.

    Opening a new database, nbgrader's ``Gradebook`` asks the ``alembic`` command for the
    schema version in a subprocess (about 3 s, a second Python with its imports). The real
    gradebook already carries that version, so the template takes it from there and nbgrader
    opens the template as an existing database. Without a version to copy, nothing is
    created and nbgrader does it the usual way.
    """
    if not checked("nbgrader"):
        return
    import sqlalchemy as sa
    from nbgrader.api import Base

    src = sa.create_engine(db_url)
    try:
        with src.connect() as conn:
            version = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    except sa.exc.SQLAlchemyError:
        version = None
    finally:
        src.dispose()
    if not version:
        return
    dst = sa.create_engine(f"sqlite:///{path}")
    try:
        Base.metadata.create_all(bind=dst)
        with dst.begin() as conn:
            conn.execute(sa.text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
            conn.execute(sa.text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": version})
    finally:
        dst.dispose()


def fast_scratch_gradebooks(scratch_root: Path) -> None:
    """Commit to scratch gradebooks without waiting for the disk.

    nbgrader commits its gradebook some 40 times per submission, and SQLite waits for the
    disk (fsync) at each commit: about 0.1 s per submission here. A worker's gradebooks are
    scratch copies under ``scratch_root``, read back by the same worker right after
    autograding and thrown away: if the machine fails meanwhile, the submission is simply
    graded again (nothing reached the real course or the journal). So connections to files
    under ``scratch_root`` use ``PRAGMA synchronous=OFF``; every other database keeps its
    settings.
    """
    if not checked("sqlalchemy"):
        return
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    root = str(scratch_root.resolve()) + os.sep

    def on_connect(dbapi_connection, connection_record):
        if type(dbapi_connection).__module__.split(".")[0] not in ("sqlite3", "pysqlite2"):
            return
        files = [row[2] for row in dbapi_connection.execute("PRAGMA database_list").fetchall()]
        if files and files[0] and os.path.realpath(files[0]).startswith(root):
            dbapi_connection.execute("PRAGMA synchronous=OFF")

    if not event.contains(Engine, "connect", on_connect):
        event.listen(Engine, "connect", on_connect)


@functools.lru_cache(maxsize=None)
def ready_client() -> type:
    """:class:`ReadyClient` (built on first use) with a checked jupyter_client, else its own ``AsyncKernelClient``."""
    from jupyter_client.asynchronous import AsyncKernelClient

    if not checked("jupyter_client"):
        return AsyncKernelClient

    class ReadyClient(AsyncKernelClient):
        """jupyter_client's async client, without its idle wait when a kernel comes up.

        jupyter_client's ``wait_for_ready`` ends by reading IOPub until nothing has arrived for
        0.2 s, only to throw those messages away. Every execution in nbclient (and so in
        nbgrader) reads only the IOPub messages whose parent is its own request, so stray
        messages cannot reach a cell's outputs: this client drains what has already arrived
        and goes on, saving 0.2 s per kernel. The readiness check itself is jupyter_client's:
        a ``kernel_info_reply`` on the shell channel and a message on IOPub.
        """

        async def wait_for_ready(self, timeout: float | None = None) -> None:
            deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
            while True:
                self.kernel_info()
                try:
                    msg = await self.shell_channel.get_msg(timeout=1)
                except Empty:
                    msg = None
                if msg is not None and msg["msg_type"] == "kernel_info_reply":
                    try:  # IOPub is connected once a message (the request's status) arrives
                        await self.iopub_channel.get_msg(timeout=0.2)
                    except Empty:
                        pass
                    else:
                        self._handle_kernel_info_reply(msg)
                        break
                if not await self._async_is_alive():
                    raise RuntimeError("Kernel died before replying to kernel_info")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Kernel didn't respond in {timeout:.0f} seconds")
            while True:  # drop what is already queued, without waiting for more
                try:
                    await self.iopub_channel.get_msg(timeout=0)
                except Empty:
                    break

    return ReadyClient
