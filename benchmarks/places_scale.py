"""Places at country scale: a page of places and one candidate's place over 100,000
candidates, in process, against the whole listing's grouping and the raw SQL fetch.

What an analyst waits for when triaging a country's scan: the queue's page of places
(:func:`sitewatch.scan.places.page_places`: every listed candidate grouped and scored, the
page's places loaded whole) and, on each dismissal, the place of the dismissed candidate
(:func:`sitewatch.scan.places.place_of`, which reads only the candidate's neighbourhood).
Beside them in the same run: the grouping of the whole listing from its columns
(:class:`~sitewatch.scan.places.ListedColumns` and :func:`~sitewatch.scan.places.group_columns`,
what ``place_of`` would cost if it grouped everything) and the floor, the raw SQL fetch of
the columns grouping needs (``sqlite3``, no ORM).

The workspace is ``benchmarks/map_scale.py``'s: 100,000 candidates at random points inside
North Korea, 140 x 180 m each. ``place_of`` is timed on ``REPEATS`` candidates spread over
the listing (every 1,000th id), reads only: nothing is dismissed.

Run: PYTHONPATH=src .venv/bin/python benchmarks/places_scale.py   (about a minute)
Writes benchmarks/results/places_scale.json and prints a table.
"""

from __future__ import annotations

import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from map_scale import CANDIDATES, SCAN_ID, build_workspace
from measure import machine, save_results
from sitewatch.scan.places import (
    ListedColumns,
    group_columns,
    load_place_model,
    page_places,
    place_of,
)
from sitewatch.workspace import open_workspace

RESULTS = Path(__file__).parent / "results" / "places_scale.json"
REPEATS = 20
PAGE = 20
FETCH = (
    "SELECT id, scan_id, geometry, area_m2, score, max_score, edge, vegetation_share, "
    "centroid_lon, centroid_lat FROM candidates WHERE scan_id = ? AND status = 'new' "
    "AND known = 0"
)


def timed(work) -> tuple[float, Any]:
    begun = time.perf_counter()
    result = work()
    return time.perf_counter() - begun, result


def summary(seconds: list[float]) -> dict[str, float]:
    return {"p50_s": statistics.median(seconds), "max_s": max(seconds)}


def main() -> None:
    rows: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="places-scale-") as folder:
        root = Path(folder) / "ws"
        build_workspace(root)
        with sqlite3.connect(root / "sitewatch.db") as connection:
            connection.execute(FETCH, (SCAN_ID,)).fetchall()
            fetch = [
                timed(lambda: connection.execute(FETCH, (SCAN_ID,)).fetchall())[0] for _ in range(3)
            ]
        with open_workspace(root) as workspace, workspace.session() as session:
            filters = {"scan_id": SCAN_ID, "status": "new", "include_known": False}
            page_s, places = [], None
            for _ in range(3):
                seconds, places = timed(lambda: page_places(session, **filters, limit=PAGE))
                page_s.append(seconds)
            model = load_place_model()
            whole_s = [
                timed(
                    lambda: group_columns(
                        ListedColumns.query(session, SCAN_ID, "new", False), model
                    )
                )[0]
                for _ in range(3)
            ]
            ids = [f"c{number:06d}" for number in range(0, CANDIDATES, CANDIDATES // REPEATS)]
            place_s, sizes = [], []
            for candidate_id in ids:
                seconds, place = timed(lambda name=candidate_id: place_of(session, name))
                place_s.append(seconds)
                sizes.append(len(place.members))
    rows["queue page of 20 places"] = {
        **summary(page_s),
        "places": places.total,
        "candidates": places.candidates,
    }
    rows["grouping the whole listing (peer)"] = summary(whole_s)
    rows["one candidate's place (place_of)"] = {
        **summary(place_s),
        "members_max": max(sizes),
    }
    rows["floor: raw SQL fetch of the columns"] = summary(fetch)
    report = {
        "benchmark": "places_scale",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(database="SQLite"),
        "candidates": CANDIDATES,
        "rows": rows,
    }
    save_results(RESULTS, report)
    print(f"\n{'what':40} {'p50 ms':>9} {'max ms':>9}")
    for name, row in rows.items():
        print(f"{name:40} {row['p50_s'] * 1000:9.1f} {row['max_s'] * 1000:9.1f}")


if __name__ == "__main__":
    main()
