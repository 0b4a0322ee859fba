"""The /map page and its viewport reads over 100,000 scan candidates, through real HTTP.

Issue 14's target: the map of a 100,000-candidate workspace answers in under 1 s. This
script builds such a workspace, starts ``sitewatch serve`` on it (a real process on
loopback), signs in and times, wall-clock from the client, ``REPEATS`` requests of each:

- ``/map`` (the page) and ``/api/outlines`` (the base map every map page loads);
- ``/api/map/sites`` and ``/api/map/scenes`` over the whole country;
- ``/api/map/candidates`` at country zoom (the whole of North Korea at zoom 7: more than
  ``limits.MAP_POINTS`` in view, so grid clusters), at region zoom (zoom 10 around
  Pyongyang: clusters too) and at city zoom (zoom 14: points, best first, capped);

- ``/api/scans/ID/candidates?limit=20``: the triage queue's first page of places (the
  scan's new candidates grouped and scored, 20 places loaded whole); its floor is the raw
  fetch of the columns grouping needs;

with p50/p99 and the payload size of each, and "the map view": the page plus the calls
map.js makes before it marks itself ready (outlines, sites, candidates, scenes), summed
at p50 (the browser makes the data calls in parallel, so this over-counts).

Floor, in the same run: the raw SQL behind the candidate answers on the same SQLite file
(``sqlite3``, no ORM, no HTTP): the count of the viewport and, for the cluster answers,
the bare ``GROUP BY``.

The workspace: the shipped DPRK reference sites (``import_sites``, the real service), 60
scene rows and one scan whose 100,000 candidates are bulk-inserted as real ``candidates``
rows (one ``INSERT`` of ORM dicts, bbox columns filled as ``set_bbox`` does; the scan
engine would take hours to find that many), at random points inside the shipped outline
of North Korea, with beta-distributed scores.

Run: .venv/bin/python benchmarks/map_scale.py   (about a minute)
"""

from __future__ import annotations

import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import shapely
from shapely.geometry import box
from sqlalchemy import insert

from measure import machine, save_results
from sitewatch import limits
from sitewatch.auth.users import add_user
from sitewatch.catalog.reference import country_outline, load_reference
from sitewatch.catalog.sites import import_sites
from sitewatch.db.models import Candidate, Scan, Scene
from sitewatch.workspace import init_workspace

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "map_scale.json"
SITEWATCH = str(Path(sys.executable).parent / "sitewatch")
CANDIDATES = 100_000
REPEATS = 30
PASSWORD = "benchmark password"
TARGET_S = 1.0
PYONGYANG = (125.75, 39.03)
SCAN_ID = "scan-prk"
#: The floor key of the triage queue's row: its raw SQL is a fetch, not a viewport count.
PLACES = "places"


def _views(country: tuple[float, float, float, float]) -> dict[str, tuple[str, str | None]]:
    """Name -> (path, the raw SQL floor's viewport key) of every timed request."""
    whole = ",".join(f"{v:.4f}" for v in country)
    region = _around(PYONGYANG, 0.9, 0.6)
    city = _around(PYONGYANG, 0.06, 0.04)
    return {
        "page /map": ("/map", None),
        "base map /api/outlines": ("/api/outlines", None),
        "sites, country": (f"/api/map/sites?bbox={whole}", None),
        "scenes, country": (f"/api/map/scenes?bbox={whole}", None),
        "candidates, country zoom 7": (f"/api/map/candidates?bbox={whole}&zoom=7", whole),
        "candidates, region zoom 10": (f"/api/map/candidates?bbox={region}&zoom=10", region),
        "candidates, city zoom 14": (f"/api/map/candidates?bbox={city}&zoom=14", city),
        "triage queue, first page": (f"/api/scans/{SCAN_ID}/candidates?limit=20", PLACES),
    }


def _around(centre: tuple[float, float], half_lon: float, half_lat: float) -> str:
    lon, lat = centre
    return f"{lon - half_lon:.4f},{lat - half_lat:.4f},{lon + half_lon:.4f},{lat + half_lat:.4f}"


def build_workspace(root: Path) -> tuple[float, float, float, float]:
    """The workspace described above; returns the country's bounds."""
    outline = country_outline("PRK")
    rng = np.random.default_rng(14)
    lons, lats = _points_inside(outline, CANDIDATES, rng)
    scores = rng.beta(2.0, 5.0, CANDIDATES)
    created = datetime(2024, 6, 1, tzinfo=UTC)
    with init_workspace(root) as workspace, workspace.session() as session:
        import_sites(session, load_reference("dprk"))
        add_user(session, "bench", "analyst", PASSWORD)
        session.add(_scan(outline))
        session.add_all(_scenes(outline, rng))
        session.flush()
        half = 0.0008  # a candidate of about 140 x 180 m
        rows = [
            {
                "id": f"c{number:06d}",
                "scan_id": "scan-prk",
                "tile_key": f"{int(lon * 20)}_{int(lat * 20)}",
                "geometry": box(lon - half, lat - half, lon + half, lat + half),
                "centroid_lon": lon,
                "centroid_lat": lat,
                "area_m2": 25_000.0,
                "score": score,
                "max_score": min(1.0, score * 1.5),
                "known": False,
                "chips": {},
                "status": "new",
                "status_reason": "",
                "created_at": created,
                "min_lon": lon - half,
                "min_lat": lat - half,
                "max_lon": lon + half,
                "max_lat": lat + half,
            }
            for number, (lon, lat, score) in enumerate(
                zip(lons.tolist(), lats.tolist(), scores.tolist(), strict=True)
            )
        ]
        session.execute(insert(Candidate), rows)
    return outline.bounds


def _points_inside(outline: Any, count: int, rng: np.random.Generator) -> tuple[Any, Any]:
    west, south, east, north = outline.bounds
    lons, lats = np.empty(0), np.empty(0)
    while lons.size < count:
        x = rng.uniform(west, east, count)
        y = rng.uniform(south, north, count)
        inside = shapely.contains_xy(outline, x, y)
        lons, lats = np.concatenate([lons, x[inside]]), np.concatenate([lats, y[inside]])
    return lons[:count], lats[:count]


def _scan(outline: Any) -> Scan:
    start = datetime(2023, 3, 1, tzinfo=UTC)
    return Scan(
        id=SCAN_ID,
        aoi_spec="country:PRK",
        geometry=outline,
        before_start=start,
        before_end=start + timedelta(days=90),
        after_start=start + timedelta(days=365),
        after_end=start + timedelta(days=455),
        method="cva",
        parameters={},
        crs="EPSG:32652",
        tile_size_m=5120.0,
        status="done",
    )


def _scenes(outline: Any, rng: np.random.Generator) -> list[Scene]:
    """60 scene rows of 1 x 1 degree over the country, 2017-2024 (no files: none is read)."""
    west, south, east, north = outline.bounds
    scenes = []
    for number in range(60):
        lon, lat = rng.uniform(west, east - 1), rng.uniform(south, north - 1)
        footprint = box(lon, lat, lon + 1, lat + 1)
        scene = Scene(
            id=f"scene-{number:02d}",
            datetime=datetime(2017, 1, 1, tzinfo=UTC) + timedelta(days=int(number * 48)),
            footprint=footprint,
            crs="EPSG:32652",
            bands=["B04"],
            stac_item={},
        )
        scene.set_bbox(footprint)
        scenes.append(scene)
    return scenes


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_up(base: str, server: subprocess.Popen[bytes]) -> None:
    for _ in range(600):
        if server.poll() is not None:
            raise SystemExit(f"sitewatch serve exited with {server.returncode}")
        try:
            if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise SystemExit("sitewatch serve did not answer within 30 s")


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def time_requests(client: httpx.Client, path: str) -> dict[str, Any]:
    times, size = [], 0
    client.get(path).raise_for_status()  # warm (first-use imports, the page cache)
    for _ in range(REPEATS):
        begun = time.perf_counter()
        answer = client.get(path)
        times.append(time.perf_counter() - begun)
        answer.raise_for_status()
        size = len(answer.content)
    result: dict[str, Any] = {
        "p50_s": statistics.median(times),
        "p99_s": _percentile(times, 0.99),
        "bytes": size,
    }
    if path.startswith("/api/map/candidates"):
        data = answer.json()
        result.update(kind=data["kind"], total=data["total"], items=len(data["items"]))
    elif path.startswith("/api/scans/"):
        data = answer.json()
        result.update(kind="places", total=data["total"], items=len(data["items"]))
    return result


def places_floor(database: Path) -> dict[str, float]:
    """The raw SQL the queue cannot do without: every new candidate's grouping columns
    (outline, area, scores, edge, vegetation share, centre), fetched."""
    sql = (
        "SELECT id, scan_id, geometry, area_m2, score, max_score, edge, vegetation_share, "
        "centroid_lon, centroid_lat FROM candidates "
        "WHERE scan_id = ? AND status = 'new' AND known = 0"
    )
    with sqlite3.connect(database) as connection:
        connection.execute(sql, (SCAN_ID,)).fetchall()
        times = []
        for _ in range(REPEATS):
            begun = time.perf_counter()
            connection.execute(sql, (SCAN_ID,)).fetchall()
            times.append(time.perf_counter() - begun)
    return {"sql_fetch_p50_s": statistics.median(times)}


def sql_floor(database: Path, bbox_text: str, zoom: int, clusters: bool) -> dict[str, float]:
    """The raw SQL of the answer on the same file: count, and the bare GROUP BY."""
    west, south, east, north = (float(v) for v in bbox_text.split(","))
    where = "centroid_lon BETWEEN ? AND ? AND centroid_lat BETWEEN ? AND ?"
    box_args = (west, east, south, north)
    cell = 360.0 / (2**zoom * limits.MAP_CELLS_PER_TILE)
    lat_cell = cell * np.cos(np.radians((south + north) / 2))
    group = (
        "SELECT count(*), avg(score), max(score), avg(centroid_lon), avg(centroid_lat) "
        f"FROM candidates WHERE {where} GROUP BY CAST((centroid_lon - ?) / ? AS INTEGER), "
        "CAST((centroid_lat - ?) / ? AS INTEGER)"
    )
    floors = {}
    with sqlite3.connect(database) as connection:
        queries = {"sql_count_p50_s": (f"SELECT count(*) FROM candidates WHERE {where}", box_args)}
        if clusters:
            queries["sql_group_by_p50_s"] = (group, (*box_args, west, cell, south, lat_cell))
        for name, (sql, args) in queries.items():
            connection.execute(sql, args).fetchall()
            times = []
            for _ in range(REPEATS):
                begun = time.perf_counter()
                connection.execute(sql, args).fetchall()
                times.append(time.perf_counter() - begun)
            floors[name] = statistics.median(times)
    return floors


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="map-scale-") as folder:
        root = Path(folder) / "ws"
        begun = time.perf_counter()
        country = build_workspace(root)
        built_s = time.perf_counter() - begun
        print(f"workspace of {CANDIDATES:,} candidates built in {built_s:.1f} s")
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        argv = [SITEWATCH, "--workspace", str(root), "serve", "--port", str(port)]
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        server = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL)
        try:
            _wait_until_up(base, server)
            with httpx.Client(base_url=base, timeout=60) as client:
                login = client.post("/api/login", json={"name": "bench", "password": PASSWORD})
                login.raise_for_status()
                rows = {}
                for name, (path, floor_box) in _views(country).items():
                    rows[name] = {"path": path, **time_requests(client, path)}
                    if floor_box == PLACES:
                        rows[name].update(places_floor(root / "sitewatch.db"))
                    elif floor_box is not None:
                        zoom = int(path.rsplit("zoom=", 1)[1])
                        clusters = rows[name]["kind"] == "clusters"
                        rows[name].update(
                            sql_floor(root / "sitewatch.db", floor_box, zoom, clusters)
                        )
        finally:
            server.terminate()
            server.wait(timeout=30)
    map_view = sum(
        rows[name]["p50_s"]
        for name in (
            "page /map",
            "base map /api/outlines",
            "sites, country",
            "candidates, country zoom 7",
            "scenes, country",
        )
    )
    report = {
        "benchmark": "map_scale",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(database="SQLite", server="sitewatch serve (uvicorn), loopback"),
        "candidates": CANDIDATES,
        "repeats": REPEATS,
        "map_points_bound": limits.MAP_POINTS,
        "workspace_build_s": round(built_s, 2),
        "requests": rows,
        "map_view_p50_sum_s": map_view,
        "target_s": TARGET_S,
        "target_met": map_view < TARGET_S,
    }
    save_results(RESULTS, report)
    print_table(report)


def print_table(report: dict[str, Any]) -> None:
    print(
        f"\n{'request':30} {'p50 ms':>8} {'p99 ms':>8} {'KB':>8} {'answer':>22} "
        f"{'SQL floor ms':>16}"
    )
    for name, row in report["requests"].items():
        answer = f"{row['items']} {row['kind']} of {row['total']}" if "kind" in row else ""
        floor = ""
        if "sql_count_p50_s" in row:
            floor = f"count {row['sql_count_p50_s'] * 1000:.1f}"
            if "sql_group_by_p50_s" in row:
                floor += f" + group {row['sql_group_by_p50_s'] * 1000:.1f}"
        if "sql_fetch_p50_s" in row:
            floor = f"fetch {row['sql_fetch_p50_s'] * 1000:.1f}"
        print(
            f"{name:30} {row['p50_s'] * 1000:8.1f} {row['p99_s'] * 1000:8.1f} "
            f"{row['bytes'] / 1024:8.1f} {answer:>22} {floor:>16}"
        )
    print(
        f"\nmap view (page + outlines + sites + candidates + scenes, p50 summed): "
        f"{report['map_view_p50_sum_s']:.3f} s (target {report['target_s']} s)"
    )


if __name__ == "__main__":
    main()
