"""Test-session isolation: Jupyter, IPython and Chromium never write into the user's home.

Applies to the whole suite (tests/ and the doctests in kzcourse/).
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

_ISOLATED = ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR", "HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME")


def pytest_configure(config):
    root = Path(tempfile.mkdtemp(prefix="kzcourse-test-home-"))
    config._kz_isolation_root = root
    for name in _ISOLATED:
        folder = root / name.lower()
        folder.mkdir(parents=True, exist_ok=True)
        os.environ[name] = str(folder)
    # Tools nbgrader calls by name (alembic, jupyter) must come from this environment.
    bindir = os.path.dirname(sys.executable)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    # Kernels started by nbclient/nbgrader must find the venv's own ipykernel spec, not the user's.
    os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")
    os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
