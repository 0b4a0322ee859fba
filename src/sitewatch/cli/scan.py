"""``sitewatch scan`` (a wide-area change search on Dask) and ``sitewatch scans`` (the list)."""

from __future__ import annotations

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from sitewatch.cli.common import console, err_console, print_json, workspace_from
from sitewatch.errors import InputError
from sitewatch.scan import store
from sitewatch.scan.runner import ScanProgress, ScanRequest, dask_client, prepare_scan, run_scan
from sitewatch.scan.tasks import (
    DEFAULT_MIN_AREA_M2,
    DEFAULT_SCAN_METHOD,
    DEFAULT_TILE_SCORE,
    TILE_SCORES,
)


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
    buffer: float | None = typer.Option(None, "--buffer", help="Metres around a site:ID area."),
    threshold: float | None = typer.Option(
        None,
        "--threshold",
        help="Score above which a pixel changed, 0-1 (default: the method's own: 0.9999 "
        "chi-square significance for cva/irmad, the model card's for siamese).",
    ),
    tile_score: str = typer.Option(
        DEFAULT_TILE_SCORE,
        "--tile-score",
        help=f"How tiles are ranked: {', '.join(TILE_SCORES)}.",
    ),
    min_area: float = typer.Option(
        DEFAULT_MIN_AREA_M2, "--min-area", help="Smallest candidate, m2."
    ),
    resolution: float | None = typer.Option(
        None, "--resolution", help="Pixel size in metres (default: finest of the scenes)."
    ),
    tile_size: float | None = typer.Option(
        None, "--tile-size", help="Tile side in metres (default: 256 pixels)."
    ),
    bands: str | None = typer.Option(
        None, "--bands", help="Comma-separated bands (default: B02,B03,B04,B08 for S2)."
    ),
    like: list[str] = typer.Option(
        [], "--like", help="Exemplar site id: rank tiles by resemblance to it (repeatable)."
    ),
    chips: bool = typer.Option(True, "--chips/--no-chips", help="Write candidate quicklooks."),
    scheduler: str | None = typer.Option(
        None, "--scheduler", help="Existing Dask scheduler, tcp://HOST:PORT (default: local)."
    ),
    workers: int | None = typer.Option(
        None, "--workers", help="Local worker processes (default: the CPU count)."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print the outcome as JSON."),
) -> None:
    """Scan an area for change between two date windows, tile by tile on Dask.

    Re-running the same command continues an interrupted scan without redoing its tiles.
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
        bands=tuple(name.strip() for name in bands.split(",") if name.strip()) if bands else None,
        like_sites=tuple(like),
        chips=chips,
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
    if json_out:
        print_json(
            {
                "scan": outcome.scan_id,
                "resumed": outcome.resumed,
                "tiles": outcome.tiles_total,
                "tiles_run": outcome.tiles_run,
                "summary": outcome.summary,
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


def scans(
    ctx: typer.Context,
    json_out: bool = typer.Option(False, "--json", help="Print the scans as JSON."),
) -> None:
    """List the scans of this workspace, newest first."""
    with workspace_from(ctx) as workspace, workspace.session() as session:
        rows = [store.scan_to_dict(item) for item in store.list_scans(session)]
    if json_out:
        print_json(rows)
        return
    table = Table("id", "aoi", "before", "after", "method", "status", "tiles", "candidates")
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
