#!/usr/bin/env python3
"""Rebuild kzcourse/data/geo/ from Natural Earth via the npm package world-atlas.

world-atlas ships Natural Earth's admin-0 countries as TopoJSON at three
scales (1:10m, 1:50m, 1:110m). TopoJSON stores each stretch of border once,
as an *arc* that both neighbouring countries reference, so the Kazakhstan–Russia
border is exactly the set of arcs that the two countries share.

The script

1. installs ``world-atlas@2.0.2`` with ``npm install`` into a temporary folder;
2. decodes the TopoJSON (delta-encoded, quantised arcs) in plain Python;
3. writes ``countries_110m.geojson``: Kazakhstan, its neighbours and the other
   CSTO members (the polygons the maps draw);
4. writes ``kaz_rus_border.geojson``: the shared KAZ–RUS arcs, chained into
   lines, at each of the three scales;
5. prints the size of every file it wrote.

Run it again at any time: ``python scripts/build_borders.py`` (needs node/npm).
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PACKAGE = "world-atlas@2.0.2"
SCALES = ("10m", "50m", "110m")
OUT = Path(__file__).resolve().parent.parent / "kzcourse" / "data" / "geo"

#: ISO 3166-1 numeric (the TopoJSON feature id) -> alpha-3, for the countries kept.
COUNTRIES = {
    "398": "KAZ",  # Kazakhstan
    "643": "RUS",  # Russia
    "156": "CHN",  # China
    "417": "KGZ",  # Kyrgyzstan
    "860": "UZB",  # Uzbekistan
    "795": "TKM",  # Turkmenistan
    "496": "MNG",  # Mongolia (context, between Russia and China)
    "762": "TJK",  # Tajikistan (CSTO member)
    "004": "AFG",  # Afghanistan (context)
    "112": "BLR",  # Belarus (CSTO member)
    "051": "ARM",  # Armenia (CSTO member)
}
#: Decimal places kept: polygons are drawn at 1:110m (about 0.004 degree steps),
#: border lines keep enough digits for sub-metre lengths.
POLYGON_DIGITS = 4
LINE_DIGITS = 6


def npm_install(folder: Path) -> Path:
    """Install world-atlas into ``folder`` and return the package's directory."""
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("npm was not found: install Node.js (e.g. `apt-get install npm`) and run again.")
    subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--silent", "--prefix", str(folder), PACKAGE],
        check=True,
    )
    return folder / "node_modules" / "world-atlas"


def decode_arcs(topology: dict) -> list[list[tuple[float, float]]]:
    """Turn the quantised, delta-encoded arcs into lists of (lon, lat)."""
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x += dx
            y += dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def arc_points(arcs: list, index: int) -> list[tuple[float, float]]:
    """Points of arc ``index``; a negative index ``~i`` means arc ``i`` reversed."""
    return list(arcs[index]) if index >= 0 else list(reversed(arcs[~index]))


def ring(arcs: list, indices: list[int]) -> list[tuple[float, float]]:
    """Stitch arcs into one ring (each arc starts where the previous ended)."""
    points: list[tuple[float, float]] = []
    for i in indices:
        pts = arc_points(arcs, i)
        points.extend(pts if not points else pts[1:])
    return points


def polygons_of(geometry: dict) -> list[list[list[int]]]:
    """The arc indices of a Polygon or MultiPolygon, as a list of polygons."""
    if geometry["type"] == "Polygon":
        return [geometry["arcs"]]
    if geometry["type"] == "MultiPolygon":
        return geometry["arcs"]
    return []


def rounded(points, digits: int) -> list[list[float]]:
    return [[round(x, digits), round(y, digits)] for x, y in points]


def country_feature(arcs: list, geometry: dict) -> dict:
    code = COUNTRIES[geometry["id"]]
    polys = [[rounded(ring(arcs, r), POLYGON_DIGITS) for r in poly] for poly in polygons_of(geometry)]
    geom = {"type": "Polygon", "coordinates": polys[0]} if len(polys) == 1 else {"type": "MultiPolygon", "coordinates": polys}
    return {
        "type": "Feature",
        "id": code,
        "properties": {"iso_a3": code, "iso_n3": geometry["id"], "name": geometry["properties"]["name"]},
        "geometry": geom,
    }


def shared_border(arcs: list, a: dict, b: dict) -> list[list[tuple[float, float]]]:
    """Lines along the arcs that countries ``a`` and ``b`` both reference.

    Arcs are taken in the direction and order ``a`` uses them and joined where
    one ends at the next one's start.
    """
    def used(geometry):
        return [i for poly in polygons_of(geometry) for r in poly for i in r]

    in_b = {i if i >= 0 else ~i for i in used(b)}
    pieces = [arc_points(arcs, i) for i in used(a) if (i if i >= 0 else ~i) in in_b]
    lines: list[list[tuple[float, float]]] = []
    for piece in pieces:
        for line in lines:
            if line[-1] == piece[0]:
                line.extend(piece[1:])
                break
            if line[0] == piece[-1]:
                line[:0] = piece[:-1]
                break
        else:
            lines.append(list(piece))
    merged = True  # join lines that became adjacent (the ring may start mid-border)
    while merged and len(lines) > 1:
        merged = False
        for i, first in enumerate(lines):
            for j, second in enumerate(lines):
                if i != j and first[-1] == second[0]:
                    first.extend(second[1:])
                    del lines[j]
                    merged = True
                    break
            if merged:
                break
    return lines


def write(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, separators=(",", ":"), ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {path.relative_to(OUT.parent.parent.parent)} ({path.stat().st_size / 1024:.1f} KB)")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        pkg = npm_install(Path(tmp))
        version = json.loads((pkg / "package.json").read_text())["version"]
        borders = []
        for scale in SCALES:
            topology = json.loads((pkg / f"countries-{scale}.json").read_text())
            arcs = decode_arcs(topology)
            by_id = {g.get("id"): g for g in topology["objects"]["countries"]["geometries"]}
            missing = sorted(set(COUNTRIES) - set(by_id))
            if missing:
                sys.exit(f"countries-{scale}.json lacks the ids {missing}; check the world-atlas version.")
            lines = shared_border(arcs, by_id["398"], by_id["643"])
            coords = [rounded(line, LINE_DIGITS) for line in lines]
            borders.append(
                {
                    "type": "Feature",
                    "id": f"KAZ-RUS-{scale}",
                    "properties": {
                        "scale": scale,
                        "countries": ["KAZ", "RUS"],
                        "name": "Kazakhstan–Russia border",
                        "source": f"Natural Earth 1:{scale.replace('m', '')} million admin-0 countries via world-atlas {version}",
                        "points": sum(len(c) for c in coords),
                    },
                    "geometry": {"type": "LineString", "coordinates": coords[0]}
                    if len(coords) == 1
                    else {"type": "MultiLineString", "coordinates": coords},
                }
            )
            if scale == "110m":
                features = [country_feature(arcs, by_id[n]) for n in COUNTRIES]
                write(OUT / "countries_110m.geojson", {"type": "FeatureCollection", "features": features})
        write(OUT / "kaz_rus_border.geojson", {"type": "FeatureCollection", "features": borders})
    for f in borders:
        print(f["id"], f["geometry"]["type"], f["properties"]["points"], "points")


if __name__ == "__main__":
    main()
