"""Build time, size and axe-core results of the course website (``kzcourse site``).

Run: ``make site && .venv/bin/python benchmarks/bench_site.py [--site build/site]``
(without ``--site`` it builds the student site into a temporary folder and times the build).

Prints the build time, the site's size (pages, map documents, shared assets), and for every
page and every map document opened from disk in headless Chromium with every non-local
request blocked: blocked requests, script errors and axe-core violations by impact
(nodes in brackets). axe-core is the npm package ``make axe`` installs into ``.node/``.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AXE = ROOT / ".node" / "node_modules" / "axe-core" / "axe.min.js"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def _size(paths) -> float:
    return sum(p.stat().st_size for p in paths if p.is_file()) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=None, help="a built site (default: build one now)")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="kz-bench-site-")
    if args.site is None:
        from kzcourse.site import build_site

        t0 = time.perf_counter()
        site = build_site(Path(tmp) / "site")
        print(f"build: {time.perf_counter() - t0:.1f} s wall ({len(site.lessons)} lessons executed)")
        root = site.root
    else:
        root = args.site
    files = [p for p in root.rglob("*") if p.is_file()]
    print(f"size: {_size(files):.2f} MB in {len(files)} files: pages {_size(root.glob('*.html')):.2f} MB, "
          f"maps {_size((root / 'maps').glob('*')):.2f} MB, assets {_size((root / 'assets').glob('*')):.2f} MB "
          f"(plotly.min.js {_size([root / 'assets' / 'plotly.min.js']):.2f} MB), "
          f"notebooks {_size((root / 'notebooks').rglob('*')):.2f} MB")
    if not AXE.is_file():
        print(f"axe: {AXE} missing (run `make axe`)")
        return
    from playwright.sync_api import sync_playwright

    axe = AXE.read_text(encoding="utf-8")
    docs = sorted(root.glob("*.html")) + sorted((root / "maps").glob("*.html"))
    totals: Counter = Counter()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=ARGS,
                                     env=dict(os.environ, HOME=tmp))
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        blocked, errors = [], []
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:", "about:", "blob:"))
                   else (blocked.append(r.request.url), r.abort()))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        print(f"{'document':28} {'blocked':>7} {'errors':>6}  axe violations by impact (nodes)")
        for doc in docs:
            blocked.clear()
            errors.clear()
            page.goto(doc.as_uri(), wait_until="load")
            page.evaluate(axe)
            found = page.evaluate("async () => (await axe.run(document, {preload: false, resultTypes: "
                                  "['violations']})).violations.map(v => [v.id, v.impact, v.nodes.length])")
            by = Counter()
            for rule, impact, nodes in found:
                by[impact] += 1
                totals[impact] += 1
            detail = ", ".join(f"{rule} {impact} ({nodes})" for rule, impact, nodes in found) or "none"
            print(f"{str(doc.relative_to(root)):28} {len(blocked):7} {len(errors):6}  {detail}")
        browser.close()
    print("total rules violated by impact: " + (", ".join(f"{k} {v}" for k, v in sorted(totals.items())) or "none"))


if __name__ == "__main__":
    main()
