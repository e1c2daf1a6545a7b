"""Where the course's static media are: the repository's top-level ``assets/``, shipped as ``kzcourse/assets/``.

``pyproject.toml`` force-includes ``assets/`` into the wheel as ``kzcourse/assets/``; a checkout
(and an editable install) reads the top-level folder itself.
"""
from __future__ import annotations

from pathlib import Path

from kzcourse.errors import DataError


def assets_dir() -> Path:
    """The folder holding ``assets.json`` and the files it lists.

    >>> (assets_dir() / "assets.json").is_file()
    True
    """
    here = Path(__file__).resolve().parent
    for folder in (here / "assets", here.parent / "assets"):  # an installed kzcourse, then a checkout
        if (folder / "assets.json").is_file():
            return folder
    raise DataError(f"The course's assets are missing: expected assets.json in {here / 'assets'} (an installed "
                    f"kzcourse) or {here.parent / 'assets'} (a checkout). Reinstall kzcourse.")
