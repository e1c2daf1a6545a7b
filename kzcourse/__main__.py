"""``python -m kzcourse`` runs the ``kzcourse`` command (see :mod:`kzcourse.cli`)."""
from kzcourse.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
