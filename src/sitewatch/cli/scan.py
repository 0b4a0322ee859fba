"""``sitewatch scan`` (a wide-area change search on Dask), ``sitewatch scans`` (the list) and
``sitewatch scan-tiles`` (one scan's tiles, ranked by change or by likeness to exemplars)."""

from __future__ import annotations

from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from sitewatch.analysis.methods import DEFAULT_SCAN_METHOD, SCAN_MIN_AREA_M2
from sitewatch.analysis.water import mask_lines
from sitewatch.cli.common import add_whole_column, console, err_console, print_json, workspace_from
from sitewatch.cli.options import (
    bands_option,
    buffer_option,
    json_option,
    keep_vegetation_option,
    keep_water_option,
    threshold_option,
)
from sitewatch.errors import InputError
from sitewatch.imagery.stack import parse_bands
from sitewatch.scan import store
from sitewatch.scan.cluster import dask_client
from sitewatch.scan.plan import ScanRequest
from sitewatch.scan.runner import ScanProgress, prepare_scan, run_scan
from sitewatch.scan.store import TILE_ORDERS
from sitewatch.scan.tile_scores import TILE_SCORES
from sitewatch.workspace import Workspace

#: Tiles ``sitewatch scan`` lists when it finishes (best by score, and by likeness with
#: ``--like``): the answer at a glance; ``scan-tiles`` lists them all.
TOP_TILES = 10


def scan(
    ctx: typer.Context,
    aoi: str = typer.Argument(
        ...,
        help="Area: country:PRK, bbox:W,S,E,N (or W,S,E,N), site:ID, or a GeoJSON/GeoPackage file.",
    ),
    before: str = typer.Option(..., "--before", help="BEFORE window START/END (YYYY-MM-DD)."),
    after: str = typer.Option(..., "--after", help="AFTER window START/END (YYYY-MM-DD)."),
    method: str = typer.Option(
        DEFAULT_SCAN_METHOD, "--method", "-m", help="Change method: cva, irmad, siamese."
    ),
    buffer: float | None = buffer_option("Metres around a site:ID area."),
    threshold: float | None = threshold_option(
        "Score above which a pixel changed, 0-1 (default: the method's own: 0.9999 "
        "chi-square significance for cva/irmad, the model card's for siamese).",
    ),
    tile_score: str | None = typer.Option(
        None,
        "--tile-score",
        help=f"How tiles are ranked: {', '.join(TILE_SCORES)} "
        "(default: ranker for cva with B02, B03, B04, B08, else changed).",
    ),
    min_area: float = typer.Option(SCAN_MIN_AREA_M2, "--min-area", help="Smallest candidate, m2."),
    resolution: float | None = typer.Option(
        None, "--resolution", help="Pixel size in metres (default: finest of the scenes)."
    ),
    tile_size: float | None = typer.Option(
        None, "--tile-size", help="Tile side in metres (default: 512 pixels, 5.12 km at 10 m)."
    ),
    bands: str | None = bands_option("Comma-separated bands (default: B02,B03,B04,B08 for S2)."),
    like: list[str] = typer.Option(
        [], "--like", help="Exemplar site id: rank tiles by resemblance to it (repeatable)."
    ),
    keep_vegetation: bool = keep_vegetation_option(),
    keep_water: bool = keep_water_option(),
    scheduler: str | None = typer.Option(
        None, "--scheduler", help="Existing Dask scheduler, tcp://HOST:PORT (default: local)."
    ),
    workers: int | None = typer.Option(
        None, "--workers", help="Local worker processes (default: the CPU count)."
    ),
    json_out: bool = json_option("Print the outcome as JSON."),
) -> None:
    """Scan an area for change between two date windows, tile by tile on Dask.

    Re-running the same command continues an interrupted scan without redoing its tiles.
    With --like, the tiles that most resemble the exemplars are listed at the end.
    """
    if workers is not None and workers < 1:
        raise InputError(f"must be at least 1, got {workers}", item="--workers")
    request = ScanRequest(
        aoi=aoi,
        before=before,
        after=after,
        method=method,
        buffer_m=buffer,
        threshold=threshold,
        tile_score=tile_score,
        min_area_m2=min_area,
        resolution_m=resolution,
        tile_size_m=tile_size,
        bands=tuple(chosen) if (chosen := parse_bands(bands)) else None,
        like_sites=tuple(like),
        keep_vegetation=keep_vegetation,
        keep_water=keep_water,
    )
    with workspace_from(ctx) as workspace:
        plan = prepare_scan(workspace, request)
        with (
            dask_client(scheduler, workers) as client,
            Progress(
                TextColumn(f"scan {plan.scan_id}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=err_console,
                disable=json_out,
            ) as progress,
        ):
            bar = progress.add_task("tiles", total=len(plan.tiles))

            def advance(update: ScanProgress) -> None:
                progress.update(bar, completed=update.finished)

            outcome = run_scan(workspace, plan, client, on_progress=advance)
        top_tiles = _ranked_rows(workspace, outcome.scan_id, "score", TOP_TILES)
        top_like = _ranked_rows(workspace, outcome.scan_id, "like", TOP_TILES) if like else None
    if json_out:
        print_json(
            {
                "scan": outcome.scan_id,
                "resumed": outcome.resumed,
                "tiles": outcome.tiles_total,
                "tiles_run": outcome.tiles_run,
                "summary": outcome.summary,
                "top_tiles": top_tiles,
                "top_like_tiles": top_like,
            }
        )
        return
    summary = outcome.summary
    verb = "resumed" if outcome.resumed else "scanned"
    console.print(
        f"{verb} {outcome.scan_id}: {outcome.tiles_run} of {outcome.tiles_total} tiles run now, "
        f"{summary['area_km2']:g} km2; tiles {summary['tiles_by_status']}; "
        f"{summary['candidates']} candidates",
        highlight=False,
    )
    for line in mask_lines(summary):
        console.print(line, highlight=False)
    if top_tiles:
        console.print(
            f"best tiles by {plan.parameters['tile_score']} "
            f"(all: sitewatch scan-tiles {outcome.scan_id}):",
            highlight=False,
        )
        console.print(tiles_table(top_tiles))
    if top_like is not None:
        console.print(f"tiles most like {', '.join(like)}:", highlight=False)
        console.print(tiles_table(top_like))


def scans(
    ctx: typer.Context,
    json_out: bool = json_option("Print the scans as JSON."),
) -> None:
    """List the scans of this workspace, newest first."""
    with workspace_from(ctx) as workspace, workspace.session() as session:
        rows = [store.scan_to_dict(item) for item in store.list_scans(session)]
    if json_out:
        print_json(rows)
        return
    table = Table()
    add_whole_column(table, "id", [row["id"] for row in rows])
    for column in ("aoi", "before", "after", "method", "status", "tiles", "candidates"):
        table.add_column(column)
    for row in rows:
        summary = row["summary"] or {}
        table.add_row(
            row["id"],
            row["aoi"],
            "/".join(value[:10] for value in row["before"]),
            "/".join(value[:10] for value in row["after"]),
            row["method"],
            row["status"],
            str(summary.get("tiles", "")),
            str(summary.get("candidates", "")),
        )
    console.print(table)


def scan_tiles(
    ctx: typer.Context,
    scan_id: str = typer.Argument(..., help="Scan id (see `sitewatch scans`)."),
    top: int | None = typer.Option(None, "--top", help="Show only the first N tiles."),
    by: str = typer.Option(
        "score",
        "--by",
        help=f"Rank by: {', '.join(TILE_ORDERS)} (change score, or likeness to --like sites).",
    ),
    json_out: bool = json_option("Print the tiles as JSON."),
) -> None:
    """List a scan's scored tiles, best first by change score or by likeness to exemplars."""
    with workspace_from(ctx) as workspace:
        rows = _ranked_rows(workspace, scan_id, by, top)
    if json_out:
        print_json(rows)
        return
    console.print(tiles_table(rows))


def _ranked_rows(
    workspace: Workspace, scan_id: str, order_by: str, limit: int | None
) -> list[dict[str, Any]]:
    with workspace.session() as session:
        tiles = store.list_tiles(session, scan_id, order_by=order_by, limit=limit)
        return [store.tile_to_dict(tile, rank) for rank, tile in enumerate(tiles, start=1)]


def tiles_table(rows: list[dict[str, Any]]) -> Table:
    """Ranked tiles (rows of :func:`sitewatch.scan.store.tile_to_dict`) as a table; the
    like score column only for a scan run with exemplars (``--like``)."""
    with_like = any(row["like_score"] is not None for row in rows)
    table = Table()
    table.add_column("rank", justify="right")
    for name in ("tile", "lon", "lat"):
        table.add_column(name, no_wrap=True)  # a broken key or coordinate cannot be copied
    for name in ("score", "like score", "candidates") if with_like else ("score", "candidates"):
        table.add_column(name, justify="right")
    for row in rows:
        like = [_number(row["like_score"], "{:.3f}")] if with_like else []
        table.add_row(
            str(row["rank"]),
            row["tile"],
            f"{row['lon']:.4f}",
            f"{row['lat']:.4f}",
            _number(row["score"], "{:.4g}"),
            *like,
            str(row["candidates"]),
        )
    return table


def _number(value: float | None, pattern: str) -> str:
    return "-" if value is None else pattern.format(value)
