#!/usr/bin/env python3
"""Vendor the JavaScript and CSS that offline maps inline into assets/ (the
repository's top-level folder of static media, shipped in the wheel as kzcourse/assets/).

Offline maps (``kzcourse.maps.*(offline=True)``) must open from a saved HTML file
with no network at all. They need Leaflet only: kzcourse's markers are inline SVG
(no icon fonts), the day slider is kzcourse's own script, and the basemap is the
country polygons shipped in ``kzcourse/data/geo``.

The script

1. ``npm install``s the packages in :data:`PACKAGES` into a temporary folder;
2. copies ``leaflet.js`` (already minified) and its licence;
3. writes ``leaflet.css`` without its comments and with the images it refers to (``url(images/...)``)
   replaced by ``data:`` URIs, so the stylesheet needs no other file;
4. records every file's package, version, licence and SHA-256 in ``assets.json``
   (``assets/SOURCE.md`` explains them).

Run it again at any time: ``python scripts/vendor_assets.py`` (needs node/npm).
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PACKAGES = {"leaflet": "1.9.4"}
OUT = Path(__file__).resolve().parent.parent / "assets"


def npm_install(folder: Path) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("npm was not found: install Node.js (e.g. `apt-get install npm`) and run again.")
    specs = [f"{name}@{version}" for name, version in PACKAGES.items()]
    subprocess.run([npm, "install", "--no-audit", "--no-fund", "--silent", "--prefix", str(folder), *specs], check=True)
    return folder / "node_modules"


def inline_images(css: str, folder: Path) -> str:
    """Replace ``url(images/x.png)`` in ``css`` with a base64 ``data:`` URI of that file."""

    def repl(match: re.Match) -> str:
        path = folder / match.group(1).strip("'\"")
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{data})"

    return re.sub(r"url\(([^)]+\.png)\)", repl, css)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        modules = npm_install(Path(tmp))
        leaflet = modules / "leaflet"
        meta = json.loads((leaflet / "package.json").read_text())
        if meta["version"] != PACKAGES["leaflet"]:
            sys.exit(f"npm installed leaflet {meta['version']}, expected {PACKAGES['leaflet']}.")
        shutil.copyfile(leaflet / "dist" / "leaflet.js", OUT / "leaflet.js")
        css = (leaflet / "dist" / "leaflet.css").read_text(encoding="utf-8")
        css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)  # comments only (they hold bug-tracker links)
        css = inline_images(css, leaflet / "dist")
        (OUT / "leaflet.css").write_text(css, encoding="utf-8")
        shutil.copyfile(leaflet / "LICENSE", OUT / "LICENSE.leaflet.txt")
        files = {}
        for name in ("leaflet.js", "leaflet.css", "LICENSE.leaflet.txt"):
            body = (OUT / name).read_bytes()
            files[name] = {
                "package": "leaflet",
                "version": meta["version"],
                "license": meta.get("license", ""),
                "sha256": hashlib.sha256(body).hexdigest(),
                "bytes": len(body),
            }
            print(f"wrote assets/{name} ({len(body) / 1024:.1f} KB)")
        (OUT / "assets.json").write_text(json.dumps(files, indent=2, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
