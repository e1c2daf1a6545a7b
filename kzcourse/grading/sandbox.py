"""Run the kernel that executes student code inside bubblewrap (Debian package ``bubblewrap``).

Only the *kernel* is sandboxed; nbgrader itself (the grader, the gradebook) runs as usual.
The kernel sees:

* its scratch folder (its working directory), read-write: an empty folder made for this
  kernel alone (:mod:`kzcourse.grading.phases`), thrown away afterwards — nothing of the
  submission, not even the notebook, is in it;
* the system (``/usr``, ``/bin``, ``/lib*``, a few files of ``/etc``), Python's installation
  and virtual environment, and the ``kzcourse`` package (with, in a checkout, the repository's
  ``assets/``), all read-only. The package holds no lesson source — only the student editions,
  which ``kzcourse audit --installed`` checks — so nothing in it needs hiding;
* a private, empty ``/tmp``, a fresh ``/proc`` and a minimal ``/dev``;
* a private folder holding its connection file and the Unix sockets it talks over.

Everything else — the course's ``lessons/`` (solutions, hidden tests), the gradebook, other
students' folders, the instructor's home and environment variables — does not exist for it.
It has no network (``--unshare-net``; the kernel talks to nbgrader over Unix sockets,
ZeroMQ's ``ipc`` transport, instead of TCP), runs as ``nobody`` (uid 65534) without
capabilities, in its own PID namespace (its ``/proc`` shows only the sandbox's processes),
and dies with the grader (``--die-with-parent``). bwrap itself starts with the kernel's clean
environment (:func:`kernel_env`), so no process in the sandbox can read a grader's variable.

Limits per sandbox (``prlimit`` from util-linux, set on the kernel and inherited by whatever it
starts), each a ``c.SandboxedKernelManager`` setting: ``memory_limit`` (address space, default
2 GiB: over it allocations fail with ``MemoryError``), ``cpu_limit`` (600 CPU seconds: over it
the kernel is killed), ``file_size_limit`` (64 MiB per file written: over it writing fails with
``OSError: File too large``), ``process_limit`` (128 processes and threads: over it ``fork`` fails; RLIMIT_NPROC for a
grader that is not root, a ``pids`` cgroup for root, whose processes RLIMIT_NPROC ignores). A kernel
killed by a limit ends the student's phase with that reason (``kernel-died`` flag).

How it plugs into nbgrader: :func:`configure` puts :class:`Execute` (nbgrader's ``Execute``
two-phase ``Execute``, whose kernels start through :class:`SandboxedKernelManager`) in place of
nbgrader's ``Execute``
in ``Autograde.autograde_preprocessors``. Settings stay nbgrader's: ``c.Execute.timeout`` etc.
apply unchanged, because the class keeps nbgrader's name.

>>> from traitlets.config import Config
>>> c = Config()
>>> if available():
...     configure(c)
...     assert any(p is Execute for p in c.Autograde.autograde_preprocessors)
"""
from __future__ import annotations

import asyncio
import functools
import os
import signal
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager
from nbgrader.preprocessors import Execute as NbgraderExecute
from traitlets import Int, List, Unicode, default

from kzcourse.errors import KzCourseError
from kzcourse.grading import internals
from kzcourse.grading.phases import TwoPhaseExecute

NOBODY = 65534
_ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "timezone", "nsswitch.conf", "hosts",
              "mime.types", "fonts", "alternatives", "ssl")
_TOP_DIRS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
_ENV_KEEP = ("LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "TZ", "NBGRADER_EXECUTION", "PYDEVD_DISABLE_FILE_VALIDATION",
             "JPY_SESSION_NAME", "MPLBACKEND")


#: Default limits of one sandbox (``c.SandboxedKernelManager.<name>`` changes them; README, "Sandbox").
MEMORY_LIMIT = 2 << 30  # bytes of address space per process
CPU_LIMIT = 600  # CPU seconds per process
CPU_GRACE = 5  # seconds between the CPU limit's SIGXCPU (soft) and SIGKILL (hard)
FILE_SIZE_LIMIT = 64 << 20  # bytes per file written
PROCESS_LIMIT = 128  # processes and threads on top of the user's own


def _user_tasks() -> int:
    """How many processes and threads the grader's real uid runs now (what RLIMIT_NPROC counts)."""
    uid, n = os.getuid(), 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    n += len(os.listdir(f"/proc/{entry.name}/task"))
            except OSError:
                continue
    return n


PIDS_CGROUP = Path("/sys/fs/cgroup/pids")


def process_cgroup(limit: int) -> Path | None:
    """A new cgroup (v1 ``pids`` controller) allowing ``limit`` tasks, or None where none can be made.

    RLIMIT_NPROC is not enforced for root's processes (the sandbox's uid maps to the grader's),
    so a grader running as root limits processes with a cgroup instead.
    """
    if os.getuid() != 0 or not limit or not (PIDS_CGROUP / "cgroup.procs").exists():
        return None
    try:
        path = Path(tempfile.mkdtemp(prefix="kzcourse-", dir=PIDS_CGROUP))
        (path / "pids.max").write_text(str(int(limit)))
    except OSError:
        return None
    return path


def limit_command(memory: int = MEMORY_LIMIT, cpu: int = CPU_LIMIT, fsize: int = FILE_SIZE_LIMIT,
                  nproc: int = PROCESS_LIMIT) -> list[str]:
    """The ``prlimit`` prefix (util-linux) that starts the kernel with the sandbox's resource limits.

    The CPU limit's hard value lies :data:`CPU_GRACE` seconds above its soft one: at the soft
    limit the kernel gets ``SIGXCPU`` (and dies of it, so the flag can say "CPU time limit"); were
    both equal, Linux would send ``SIGKILL``, which reads like running out of memory. Core dumps
    are off, so a kernel killed that way leaves no ``core`` file in the student's folder.

    >>> limit_command(memory=1 << 30, cpu=60, fsize=0, nproc=0)[1:]
    ['--as=1073741824', '--cpu=60:65', '--core=0', '--']
    """
    prlimit = shutil.which("prlimit") or "/usr/bin/prlimit"
    args = [prlimit]
    if memory:
        args.append(f"--as={int(memory)}")
    if cpu:
        args += [f"--cpu={int(cpu)}:{int(cpu) + CPU_GRACE}", "--core=0"]
    if fsize:
        args.append(f"--fsize={int(fsize)}")
    if nproc and os.getuid() != 0:
        args.append(f"--nproc={_user_tasks() + int(nproc)}")
    return args + ["--"] if len(args) > 1 else []


class SandboxError(KzCourseError, RuntimeError):
    """bubblewrap is missing or cannot create a sandbox on this machine."""


def _bwrap() -> str | None:
    return shutil.which("bwrap") or (("/usr/bin/bwrap") if os.access("/usr/bin/bwrap", os.X_OK) else None)


@functools.lru_cache(maxsize=None)
def _probe(bwrap: str, uid: int | None) -> str:
    """Run ``true`` in the sandbox; return "" when it works, else bwrap's complaint."""
    args = [bwrap, *_base_args(uid), "--", "/bin/true" if os.path.exists("/bin/true") else "/usr/bin/true"]
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return "" if done.returncode == 0 else (done.stderr.strip() or f"exit status {done.returncode}")


def available() -> bool:
    """Whether bubblewrap is installed and can build the sandbox here (user, PID and network namespaces).

    >>> isinstance(available(), bool)
    True
    """
    bwrap = _bwrap()
    return bool(bwrap) and _probe(bwrap, NOBODY) == ""


def _base_args(uid: int | None) -> list[str]:
    """bwrap arguments that do not depend on the submission: namespaces, system folders, Python."""
    args = ["--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL", "--hostname", "sandbox"]
    if uid is not None:
        args += ["--unshare-user", "--uid", str(uid), "--gid", str(uid)]
    args += ["--ro-bind", "/usr", "/usr"]
    for name in _TOP_DIRS:
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    args += ["--dir", "/etc"]
    for name in _ETC_FILES:
        if os.path.exists(f"/etc/{name}"):
            args += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/dev/shm", "--dir", "/tmp/home"]
    return args


def _python_dirs() -> list[Path]:
    """Folders the kernel's Python needs: the installation, the virtualenv, and kzcourse itself."""
    import kzcourse

    found = [Path(p).resolve() for p in {sys.base_prefix, sys.base_exec_prefix, sys.prefix, sys.exec_prefix}]
    package = Path(kzcourse.__file__).resolve().parent
    found.append(package)
    if not (package / "assets").is_dir() and (package.parent / "assets" / "assets.json").is_file():
        found.append(package.parent / "assets")  # a checkout: the top-level assets/ (offline maps, plotly.js)
    out: list[Path] = []
    for path in sorted(set(found), key=lambda p: len(p.parts)):
        if not any(path == o or o in path.parents for o in out) and not path.is_relative_to("/usr"):
            out.append(path)
    return out


def bwrap_command(scratch: Path, runtime: Path, env: dict[str, str], *, uid: int | None = NOBODY,
                  read_only: list[str] | tuple[str, ...] = ()) -> list[str]:
    """The bwrap command line (without the kernel's own command) for one kernel.

    Parameters
    ----------
    scratch : Path
        The only folder the kernel may write (and its working directory).
    runtime : Path
        A private folder for the connection file and the kernel's Unix sockets.
    env : dict
        The kernel's whole environment (bwrap starts from an empty one).
    uid : int or None
        The uid (and gid) inside the sandbox; ``None`` keeps the grader's.
    read_only : sequence of str
        Extra folders to show read-only (``SandboxedKernelManager.read_only``).

    Examples
    --------
    >>> cmd = bwrap_command(Path("/srv/s1"), Path("/tmp/k1"), {"PATH": "/usr/bin"})
    >>> cmd[0].endswith("bwrap") and "--unshare-all" in cmd and cmd[cmd.index("--chdir") + 1]
    '/srv/s1'
    """
    bwrap = _bwrap() or "bwrap"
    args = [bwrap, *_base_args(uid)]
    for path in _python_dirs() + [Path(p) for p in read_only]:
        args += ["--ro-bind", str(path), str(path)]
    passwd = runtime / "passwd"
    group = runtime / "group"
    if runtime.is_dir():
        passwd.write_text(f"root:x:0:0:root:/:/usr/sbin/nologin\nnobody:x:{NOBODY}:{NOBODY}:nobody:/tmp/home:/usr/sbin/nologin\n")
        group.write_text(f"root:x:0:\nnogroup:x:{NOBODY}:\n")
        args += ["--ro-bind", str(passwd), "/etc/passwd", "--ro-bind", str(group), "/etc/group"]
    args += ["--bind", str(runtime), str(runtime), "--bind", str(scratch), str(scratch), "--chdir", str(scratch)]
    # The notebook being graded sits in the scratch folder with its hidden tests restored by
    # nbgrader: the kernel sees an empty file in its place (and in place of any other notebook).
    notebooks = sorted(p for p in Path(scratch).rglob("*.ipynb") if p.is_file() and not p.is_symlink()) \
        if Path(scratch).is_dir() else []
    if notebooks and runtime.is_dir():
        blank = runtime / "hidden-notebook"
        blank.write_text("")
        for path in notebooks:
            args += ["--ro-bind", str(blank), str(path)]
    args += ["--remount-ro", "/", "--clearenv"]
    for key, value in sorted(env.items()):
        args += ["--setenv", key, value]
    return args + ["--"]


def kernel_env(inherited: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a sandboxed kernel: a few harmless variables, none of the grader's secrets.

    >>> env = kernel_env({"LANG": "C.UTF-8", "AWS_SECRET_ACCESS_KEY": "x", "HOME": "/root"})
    >>> env["LANG"], env["HOME"], "AWS_SECRET_ACCESS_KEY" in env
    ('C.UTF-8', '/tmp/home', False)
    """
    inherited = inherited if inherited is not None else dict(os.environ)
    env = {k: v for k, v in inherited.items() if k in _ENV_KEEP}
    bindir = str(Path(sys.executable).parent)
    env.update(
        PATH=os.pathsep.join([bindir, "/usr/local/bin", "/usr/bin", "/bin"]),
        HOME="/tmp/home", TMPDIR="/tmp", IPYTHONDIR="/tmp/home/.ipython", MPLCONFIGDIR="/tmp/home/.matplotlib",
        JUPYTER_CONFIG_DIR="/tmp/home/.jupyter", JUPYTER_DATA_DIR="/tmp/home/.local/share/jupyter",
        JUPYTER_RUNTIME_DIR="/tmp/home/.jupyter-runtime", XDG_CACHE_HOME="/tmp/home/.cache",
        XDG_CONFIG_HOME="/tmp/home/.config", PYTHONNOUSERSITE="1", JUPYTER_PLATFORM_DIRS="1",
        # In its PID namespace the kernel's parent is bwrap's init, pid 1: no parent polling.
        JPY_PARENT_PID="1",
    )
    return env


def namespace_init(bwrap_pid: int) -> int | None:
    """The child of a bwrap process that is pid 1 of a new PID namespace, or None.

    Read from ``/proc``: the child's ``NSpid`` line ends in 1 when it is the init of its own
    PID namespace (bwrap without ``--as-pid-1``).

    >>> namespace_init(os.getpid()) is None
    True
    """
    children: set[int] = set()
    try:
        for task in Path(f"/proc/{bwrap_pid}/task").iterdir():
            children |= {int(p) for p in (task / "children").read_text().split()}
    except (OSError, ValueError):
        return None
    for pid in sorted(children):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        nspid = next((line.split()[1:] for line in status.splitlines() if line.startswith("NSpid:")), [])
        if len(nspid) >= 2 and nspid[-1] == "1":
            return pid
    return None


class SandboxedKernelManager(AsyncKernelManager):
    """An ``AsyncKernelManager`` whose kernel process starts inside bubblewrap.

    The kernel talks over Unix sockets (``transport = "ipc"``) in a private folder made for
    it, because it has no network. Interrupts are sent as messages (the kernel sits in its
    own session). The private folder is removed when the kernel's resources are cleaned up.
    """

    scratch = Unicode(
        "", help="The kernel's only writable folder and working directory. Empty: the folder the kernel is "
                 "started in (nbgrader: the autograded notebook's folder).",
    ).tag(config=True)
    sandbox_uid = Int(NOBODY, help="uid and gid of the kernel inside the sandbox (65534 = nobody); -1 keeps the "
                                   "grader's own.").tag(config=True)
    read_only = List(Unicode(), help="Extra folders the kernel may read (read-only), e.g. a shared data "
                                     "folder. Never list the course folder.").tag(config=True)
    memory_limit = Int(MEMORY_LIMIT, help="Address space of each process in the sandbox, in bytes (RLIMIT_AS); "
                                          "0: no limit. Over it, allocations fail with MemoryError.").tag(config=True)
    cpu_limit = Int(CPU_LIMIT, help="CPU seconds of each process in the sandbox (RLIMIT_CPU); 0: no limit. Over "
                                    "it, the kernel is killed (SIGXCPU).").tag(config=True)
    file_size_limit = Int(FILE_SIZE_LIMIT, help="Largest file the sandbox may write, in bytes (RLIMIT_FSIZE); 0: no "
                                                "limit. Over it, writing fails (File too large).").tag(config=True)
    process_limit = Int(PROCESS_LIMIT, help="Processes and threads the sandbox may add (RLIMIT_NPROC, counted on "
                                            "top of those the grader's user runs when the kernel starts); 0: no "
                                            "limit.").tag(config=True)

    _kz_runtime: str | None = None

    @default("client_factory")
    def _client_factory_default(self) -> type:
        return internals.ready_client()

    async def _async_wait(self, pollinterval: float = 0.1) -> None:
        # jupyter_client checks every 0.1 s whether a kernel it stopped has exited; a
        # sandbox is gone a few ms after it is stopped, so look more often.
        await super()._async_wait(pollinterval=min(pollinterval, 0.005))

    def _kz_namespace_init(self) -> int | None:
        """The pid of the sandbox's PID-namespace init (bwrap's child, pid 1 inside), or None."""
        process = getattr(self.provisioner, "process", None) if self.provisioner is not None else None
        if process is None or process.poll() is not None:
            return None
        return namespace_init(process.pid)

    async def _async_shutdown_kernel(self, now: bool = False, restart: bool = False) -> None:
        """Stop the kernel by ending its PID namespace: every process in the sandbox dies at once.

        jupyter_client's graceful shutdown asks the kernel to exit and waits while the
        interpreter winds down (about 0.4 s for a kernel that imported pandas), and meanwhile
        the student's exit handlers and threads still run. Here the namespace's init (bwrap's
        child) is killed; the kernel then kills every process left in the namespace, and bwrap
        exits only once the namespace is empty. So when this returns nothing of the student's
        runs any more, and the scratch folder can be scrubbed without a race. For a restart,
        or if the init cannot be found, jupyter_client's own shutdown runs.
        """
        init = None if restart else self._kz_namespace_init()
        if init is None:
            await super()._async_shutdown_kernel(now=now, restart=restart)
            return
        self.shutting_down = True
        self.stop_restarter()
        try:
            os.kill(init, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            await asyncio.wait_for(self._async_wait(), timeout=5.0)
        except asyncio.TimeoutError:
            self.log.warning("The sandbox did not exit within 5 s of its init being killed; killing bwrap")
            await self._async_kill_kernel()
        else:
            if self.has_kernel:
                assert self.provisioner is not None
                await self.provisioner.wait()
        await self._async_cleanup_resources(restart=False)

    shutdown_kernel = _async_shutdown_kernel

    async def _async_pre_start_kernel(self, *, transport_encryption: str | None = None, **kw: Any):
        bwrap = _bwrap()
        if not bwrap:
            raise SandboxError("The grading sandbox needs bubblewrap: expected a `bwrap` program on PATH, found none. "
                               "Install it (Debian/Ubuntu: `apt-get install bubblewrap`), or grade without the sandbox.")
        scratch = Path(self.scratch or kw.get("cwd") or os.getcwd()).resolve()
        if not scratch.is_dir():
            raise SandboxError(f"The sandbox's scratch folder must exist: expected a folder, got {str(scratch)!r}. "
                               "Create it (it holds the submission) before starting the kernel.")
        self._kz_cleanup()
        base = Path(tempfile.gettempdir())
        if len(str(base)) > 60:  # Unix socket paths are limited to ~107 bytes
            base = Path("/tmp")
        runtime = Path(tempfile.mkdtemp(prefix="kzk-", dir=base)).resolve()
        self._kz_runtime = str(runtime)
        self.transport = "ipc"
        self.connection_file = str(runtime / "kernel.json")
        self.ip = str(runtime / "ipc")
        self.kernel_spec.interrupt_mode = "message"
        kw["cwd"] = str(scratch)
        cmd, kw = await super()._async_pre_start_kernel(transport_encryption=transport_encryption, **kw)
        env = kernel_env(kw.get("env"))
        env.update({k: v for k, v in (self.kernel_spec.env or {}).items() if k not in env})
        # bwrap itself starts with the kernel's clean environment: the sandbox's pid 1 (bwrap's
        # child) shows its environment in /proc/1/environ, so it must hold no grader secret.
        kw["env"] = dict(env)
        uid = None if self.sandbox_uid < 0 else self.sandbox_uid
        self.kz_limits = {"memory": self.memory_limit, "cpu": self.cpu_limit, "fsize": self.file_size_limit,
                          "nproc": self.process_limit}
        wrapped = bwrap_command(scratch, runtime, env, uid=uid, read_only=list(self.read_only)) + \
            limit_command(**self.kz_limits) + list(cmd)
        cgroup = process_cgroup(self.process_limit)
        if cgroup is not None:  # bwrap and all under it join the cgroup before bwrap starts
            self._kz_cgroup = str(cgroup)
            wrapped = ["/bin/sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', str(cgroup)] + wrapped
        self.log.debug("Sandboxed kernel command: %s", wrapped)
        return wrapped, kw

    _kz_cgroup: str | None = None

    def _kz_cleanup(self) -> None:
        if self._kz_cgroup:
            for _ in range(50):  # only once empty: the sandbox's last processes may still be exiting
                try:
                    os.rmdir(self._kz_cgroup)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.01)
            self._kz_cgroup = None
        if self._kz_runtime:
            shutil.rmtree(self._kz_runtime, ignore_errors=True)
            self._kz_runtime = None

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if not restart:
            self._kz_cleanup()

    cleanup_resources = _async_cleanup_resources


class Execute(TwoPhaseExecute):
    """Two-phase ``Execute`` (:class:`kzcourse.grading.phases.TwoPhaseExecute`) whose kernels start in the sandbox.

    Both the student's kernel and the tests' kernel run inside bubblewrap, each in an empty
    scratch folder of its own. It keeps nbgrader's class name, so ``c.Execute.*`` settings
    apply to it unchanged.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("kernel_manager_class", SandboxedKernelManager)
        super().__init__(*args, **kwargs)


def configure(config: Any) -> None:
    """Make nbgrader run student kernels inside the sandbox.

    Replaces nbgrader's ``Execute`` (or the unsandboxed two-phase one) in
    ``config.Autograde.autograde_preprocessors`` (or in nbgrader's default list) by
    :class:`Execute`. Call it after any other change to ``autograde_preprocessors``.

    Parameters
    ----------
    config : traitlets.config.Config
        The configuration nbgrader's converter will be built with; changed in place.

    Raises
    ------
    SandboxError
        When bubblewrap is missing or cannot create the sandbox here.
    """
    bwrap = _bwrap()
    problem = "no `bwrap` program on PATH" if not bwrap else _probe(bwrap, NOBODY)
    if problem:
        raise SandboxError(f"The grading sandbox is not usable: expected bubblewrap to create user, PID and network "
                           f"namespaces, got: {problem}. Install the Debian package `bubblewrap` (and allow "
                           "unprivileged user namespaces), or grade without the sandbox.")
    from nbgrader.converters.autograde import Autograde

    pps = list(config.Autograde.autograde_preprocessors) if "autograde_preprocessors" in config.Autograde \
        else list(Autograde.class_traits()["autograde_preprocessors"].default())
    swapped = [Execute if (isinstance(p, type) and issubclass(p, NbgraderExecute)) or p == "nbgrader.preprocessors.Execute"
               else p for p in pps]
    if Execute not in swapped:
        raise SandboxError("Autograde.autograde_preprocessors has no Execute step to sandbox: expected nbgrader's "
                           f"Execute in the list, got {[getattr(p, '__name__', p) for p in pps]}. Add it back.")
    config.Autograde.autograde_preprocessors = swapped
