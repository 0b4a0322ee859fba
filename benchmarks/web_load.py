"""The workbench under load: ``sitewatch serve`` answering many clients at once.

A real server (``sitewatch serve --workers N``, one process per core by default, started
as the CLI starts it) over a workspace
built here: the synthetic demo (``run_demo``: sites, two scenes, a detection run) plus a
real Sentinel-2 scene of OSCD (Beihai) when ``../shared/data`` is present. One signed-in
session is shared by ``--clients`` concurrent clients (httpx, asyncio), which hammer one
target at a time for ``--seconds``; each target is measured alone, so its figures are its
own. Reported per target: requests/s, p50 and p99 latency, errors (any answer but 200, or
no answer).

The floor, measured in the same run on the same tiles: rio-tiler alone, in this process,
rendering the scene tiles (read, the same fixed stretch, PNG), one thread and then one
thread per core, with no HTTP, no session and no database.

Targets of issue 14 (stated, not asserted; this is a 2-core machine shared by the client
and the server): 0 errors at 50 clients, API p99 < 300 ms, tile p99 < 800 ms.

Run: PYTHONPATH=src .venv/bin/python benchmarks/web_load.py [--clients 50] [--seconds 15]
(about two minutes)
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import numpy as np
from morecantile import Tile
from rio_tiler.constants import WEB_MERCATOR_TMS as WEB_MERCATOR
from rio_tiler.errors import TileOutsideBounds
from rio_tiler.io import Reader
from rio_tiler.models import ImageData

from measure import machine, save_results
from sitewatch.auth.users import add_user
from sitewatch.demo.runner import run_demo
from sitewatch.imagery.ingest import add_scenes
from sitewatch.imagery.tiles import PNG_OPTIONS, scene_layer, scene_stretch, scene_tilejson
from sitewatch.scan.candidates import list_candidates
from sitewatch.workspace import open_workspace

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "web_load.json"
OSCD_SCENE = ROOT.parent / "shared" / "data" / "oscd" / "images" / "beihai" / "imgs_1"
USER, PASSWORD = "loadtest", "load test password"
TARGET_P99_MS = {"api": 300.0, "tile": 800.0}
REQUEST_TIMEOUT_S = 30.0


@dataclass
class Target:
    """One thing the clients ask for: a name, its kind (api or tile) and its URLs, cycled."""

    name: str
    kind: str
    urls: list[str]


@dataclass
class Tally:
    latencies_s: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1


def targets(client: httpx.Client, ids: dict[str, str | list[str]]) -> list[Target]:
    """The table of what is measured. To add a route, add a row here (and its ids to
    :func:`build_workspace`); rows whose route the server does not have are skipped."""
    site, scan = ids["site"], ids["scan"]
    rows = [
        Target("site list", "api", ["/api/sites?limit=100"]),
        Target("one site", "api", [f"/api/sites/{site}"]),
        Target("site page", "api", [f"/sites/{site}"]),
        Target("scene list", "api", [f"/api/scenes?site={site}"]),
        Target("candidate queue", "api", [f"/api/scans/{scan}/candidates?include_known=true"]),
        Target("one candidate", "api", [f"/api/candidates/{c}" for c in ids["candidates"]]),
        Target("candidate page", "api", [f"/candidates/{c}" for c in ids["candidates"]]),
        Target("scene tiles.json", "api", [f"/api/scenes/{ids['scenes'][0]}/tiles.json"]),
    ]
    for scene_id in ids["scenes"]:
        meta = client.get(f"/api/scenes/{scene_id}/tiles.json").json()
        urls = [_tile_url(meta["tiles"][0], tile) for tile in _tiles_of(meta)]
        rows.append(Target(f"tiles {meta['sensor']} {scene_id[:18]}", "tile", urls))
    present = []
    for row in rows:
        status = client.get(row.urls[0]).status_code
        if status == 200:
            present.append(row)
        else:
            print(f"skipped {row.name}: {row.urls[0]} answers {status}")
    return present


def _tiles_of(meta: dict) -> list[Tile]:
    """Every tile over the scene at each of its zoom levels: varied z/x/y, as a map pans."""
    west, south, east, north = meta["bounds"]
    zooms = list(range(meta["minzoom"], meta["maxzoom"] + 1))
    return list(WEB_MERCATOR.tiles(west, south, east, north, zooms))


def _tile_url(template: str, tile: Tile) -> str:
    return (
        template.replace("{z}", str(tile.z)).replace("{x}", str(tile.x)).replace("{y}", str(tile.y))
    )


def build_workspace(folder: Path) -> dict[str, str | list[str]]:
    """The demo workspace (+ an OSCD scene when present) and a user; the ids to ask for."""
    result = run_demo(folder)
    with open_workspace(result.workspace) as workspace, workspace.session() as session:
        add_user(session, USER, "viewer", PASSWORD)
        scenes = list(result.scene_ids[:1])
        if OSCD_SCENE.is_dir():
            scenes.append(add_scenes(session, [OSCD_SCENE])[0].scene_id)
        else:
            print(f"no real scene: {OSCD_SCENE} is absent")
        found = list_candidates(session, scan_id=result.scan_id, include_known=True, limit=10)
        candidates = [candidate.id for candidate in found]
    return {
        "site": result.site_id,
        "scenes": scenes,
        "scan": result.scan_id,
        "candidates": candidates,
    }


def start_server(root: Path, log: Path, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    """``sitewatch serve`` as the command line runs it, on a free port it picks itself;
    ready once it prints its URL (printed after the socket listens)."""
    entry = "from sitewatch.cli.main import run; run()"
    command = [
        sys.executable,
        "-c",
        entry,
        "--workspace",
        str(root),
        "serve",
        "--port",
        "0",
        "--workers",
        str(workers),
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SITEWATCH_")}
    with log.open("wb") as errors:
        server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=errors)
    assert server.stdout is not None
    found = re.search(rb"serving on (http://\S+)/", server.stdout.readline())
    if found is None:
        server.kill()
        raise SystemExit(f"sitewatch serve did not start: {log.read_text()}")
    return server, found.group(1).decode()


async def hammer(
    base: str, cookies: httpx.Cookies, target: Target, clients: int, seconds: float, think: float
):
    """``clients`` clients asking for ``target``'s URLs in turn for ``seconds``, each
    pausing ``think`` seconds after an answer (0: as fast as the server answers)."""
    tally = Tally()
    urls = itertools.cycle(target.urls)
    # Idle connections are dropped after 4 s, before uvicorn's 5 s keep-alive closes them:
    # at httpx's default of 5 s both ends race, and a request sent on a connection the
    # server is closing fails (ReadError), which a browser would silently retry.
    limits = httpx.Limits(
        max_connections=clients, max_keepalive_connections=clients, keepalive_expiry=4.0
    )
    async with httpx.AsyncClient(
        base_url=base, cookies=cookies, limits=limits, timeout=REQUEST_TIMEOUT_S
    ) as client:
        stop = time.monotonic() + seconds

        async def one_client() -> None:
            while time.monotonic() < stop:
                url = next(urls)
                started = time.perf_counter()
                try:
                    answer = await client.get(url)
                except httpx.HTTPError as exc:
                    tally.error(type(exc).__name__)
                    continue
                tally.latencies_s.append(time.perf_counter() - started)
                if answer.status_code != 200:
                    tally.error(str(answer.status_code))
                if think:
                    await asyncio.sleep(think)

        started = time.monotonic()
        await asyncio.gather(*(one_client() for _ in range(clients)))
        elapsed = time.monotonic() - started
    return tally, elapsed


def summary(name: str, kind: str, tally: Tally, elapsed: float, clients: int, think: float) -> dict:
    latencies = np.array(tally.latencies_s) * 1000
    return {
        "target": name,
        "kind": kind,
        "clients": clients,
        "think_s": think,
        "requests": len(latencies),
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(float(np.percentile(latencies, 50)), 1) if latencies.size else None,
        "p99_ms": round(float(np.percentile(latencies, 99)), 1) if latencies.size else None,
        "errors": sum(tally.errors.values()),
        "error_kinds": tally.errors,
        "target_p99_ms": TARGET_P99_MS.get(kind),
    }


def floor_renderer(root: Path, scene_id: str) -> Callable[[Tile], bytes]:
    """rio-tiler alone on the scene's files: read the tile, the scene's fixed stretch, PNG."""
    with open_workspace(root) as workspace, workspace.session() as session:
        layer = scene_layer(session, scene_id)
    low, high = scene_stretch(layer.scene_id, layer.reads, len(layer.bands))
    in_range = list(zip(low.tolist(), high.tolist(), strict=True))

    def render(tile: Tile) -> bytes:
        arrays = np.zeros((len(layer.bands), 256, 256), np.float32)
        masks = np.zeros((256, 256), bool)
        for read in layer.reads:
            with Reader(read.href) as reader:
                try:
                    image = reader.tile(tile.x, tile.y, tile.z, indexes=read.raster_indexes)
                except TileOutsideBounds:
                    continue
            arrays[list(read.stack_positions)] = image.array.data
            masks |= np.ma.getmaskarray(image.array).any(axis=0)
        image = ImageData(np.ma.MaskedArray(arrays, np.broadcast_to(masks, arrays.shape)))
        return image.rescale(in_range=in_range).render(img_format="PNG", **PNG_OPTIONS)

    return render


def measure_floor(render: Callable, tiles: list, seconds: float, threads: int) -> dict:
    """Tiles rendered by ``threads`` threads for ``seconds``: rate and latencies."""
    stop = time.monotonic() + seconds
    cycle = itertools.cycle(tiles)
    latencies: list[float] = []

    def worker() -> None:
        while time.monotonic() < stop:
            started = time.perf_counter()
            render(next(cycle))
            latencies.append(time.perf_counter() - started)

    started = time.monotonic()
    with ThreadPoolExecutor(threads) as pool:
        for future in [pool.submit(worker) for _ in range(threads)]:
            future.result()
    elapsed = time.monotonic() - started
    values = np.array(latencies) * 1000
    return {
        "requests": len(values),
        "requests_per_s": round(len(values) / elapsed, 1),
        "p50_ms": round(float(np.percentile(values, 50)), 1),
        "p99_ms": round(float(np.percentile(values, 99)), 1),
        "errors": 0,
    }


def _print_row(row: dict) -> None:
    target = f"{row['target_p99_ms']:.0f}" if row.get("target_p99_ms") else "floor"
    print(
        f"{row['target'][:44]:44} {row['think_s']:>5.1f} {row['clients']:>7} {row['requests']:>8} "
        f"{row['requests_per_s']:>8.1f} {row['p50_ms'] or 0:>8.1f} {row['p99_ms'] or 0:>8.1f} "
        f"{target:>7} {row['errors']:>6}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="serve --workers (one per core)"
    )
    parser.add_argument("--seconds", type=float, default=15.0, help="per target")
    parser.add_argument(
        "--think",
        type=float,
        nargs="+",
        default=[0.0, 1.0],
        help="each client's pause after an answer, s; one pass per value (0: saturation; "
        "1: people panning a map or opening sites, a request a second each)",
    )
    options = parser.parse_args()
    load_before = os.getloadavg()
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as scratch:
        ids = build_workspace(Path(scratch) / "ws")
        root = Path(scratch) / "ws"
        server, base = start_server(root, Path(scratch) / "server.log", options.workers)
        try:
            with httpx.Client(base_url=base, timeout=REQUEST_TIMEOUT_S) as client:
                signed = client.post("/api/login", json={"name": USER, "password": PASSWORD})
                signed.raise_for_status()
                table = targets(client, ids)
                cookies = client.cookies
            header = f"{'target':44} {'think':>5} {'clients':>7} {'requests':>8} {'req/s':>8} "
            print(header + f"{'p50 ms':>8} {'p99 ms':>8} {'p99 <':>7} {'errors':>6}")
            for think in options.think:
                for target in table:
                    tally, elapsed = asyncio.run(
                        hammer(base, cookies, target, options.clients, options.seconds, think)
                    )
                    row = summary(target.name, target.kind, tally, elapsed, options.clients, think)
                    rows.append(row)
                    _print_row(row)
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=60)
            if any(row["errors"] for row in rows):
                print("the server's log:", *(Path(scratch) / "server.log").open(), sep="\n")
        for scene_id in ids["scenes"]:
            render = floor_renderer(root, str(scene_id))
            tiles = _tiles_of(_scene_meta(root, str(scene_id)))
            for threads in (1, os.cpu_count() or 1):
                floor = measure_floor(render, tiles, options.seconds, threads)
                name = f"floor: rio-tiler alone, {threads} thread(s), {str(scene_id)[:18]}"
                row = {"target": name, "kind": "floor", "clients": threads, "think_s": 0.0}
                rows.append({**row, **floor})
                _print_row(rows[-1])
    errors = sum(row["errors"] for row in rows)
    print(f"errors in all: {errors}; load average before {load_before}, after {os.getloadavg()}")
    save_results(
        RESULTS,
        {
            "benchmark": "web_load",
            "date": datetime.now(UTC).date().isoformat(),
            "machine": machine(
                clients=options.clients,
                server_workers=options.workers,
                seconds_per_target=options.seconds,
                load_average_before=load_before,
                load_average_after=os.getloadavg(),
                note="client and server share the machine's cores",
            ),
            "targets_of_issue_14": {
                "errors_at_50_clients": 0,
                "api_p99_ms": TARGET_P99_MS["api"],
                "tile_p99_ms": TARGET_P99_MS["tile"],
            },
            "rows": rows,
        },
    )


def _scene_meta(root: Path, scene_id: str) -> dict:
    """The scene's TileJSON as the server builds it (bounds, zooms), without a server."""
    with open_workspace(root) as workspace, workspace.session() as session:
        layer = scene_layer(session, scene_id)
    return scene_tilejson(layer, "{z}/{x}/{y}")


if __name__ == "__main__":
    main()
