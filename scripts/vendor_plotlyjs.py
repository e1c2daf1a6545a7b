#!/usr/bin/env python3
"""Vendor a gzip copy of plotly.js into assets/ (shipped as kzcourse/assets/) for charts shown outside JupyterLab.

A kzcourse figure also displays as HTML that draws itself in nbconvert's HTML, nbgrader's
feedback and the Formgrader (:func:`kzcourse.charts.figure_html`); the first figure of a
kernel carries plotly.js for the whole page. Sending the 4.8 MB script through the kernel
costs every lesson that shows a chart; the gzip copy (about 1.4 MB, 1.9 MB as base64) is
what the figure sends instead, and the page unpacks it with the browser's
``DecompressionStream``. The copy is made from the plotly.js of the installed ``plotly``
Python package, and ``assets.json`` records that package's version: a kernel whose plotly
differs sends the plain script instead.

Run it again after upgrading plotly: ``.venv/bin/python scripts/vendor_plotlyjs.py``.
"""
from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import plotly
from plotly.offline import get_plotlyjs

OUT = Path(__file__).resolve().parent.parent / "assets"
NAME = "plotly.min.js.gz"


def main() -> None:
    source = get_plotlyjs().encode("utf-8")
    packed = gzip.compress(source, compresslevel=9, mtime=0)
    (OUT / NAME).write_bytes(packed)
    manifest_path = OUT / "assets.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest[NAME] = {
        "bytes": len(packed),
        "license": "MIT",
        "package": "plotly (plotly.js as shipped in the Python package)",
        "version": plotly.__version__,
        "sha256": hashlib.sha256(packed).hexdigest(),
        "source_sha256": hashlib.sha256(source).hexdigest(),
    }
    manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{NAME}: {len(source) / 1e6:.1f} MB -> {len(packed) / 1e6:.1f} MB (plotly {plotly.__version__})")


if __name__ == "__main__":
    main()
