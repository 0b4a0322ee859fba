"""``sitewatch detect-pair``, ``sitewatch detect`` and ``sitewatch runs``: change runs."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from sitewatch.analysis.methods import DEFAULT_DETECT_METHOD
from sitewatch.analysis.water import mask_lines
from sitewatch.cli.common import console, print_json, say_on_stderr, workspace_from
from sitewatch.cli.options import (
    bands_option,
    json_option,
    keep_vegetation_option,
    keep_water_option,
    out_folder_option,
    threshold_option,
)
from sitewatch.detect.pair import detect_pair as run_pair
from sitewatch.detect.pipeline import DetectionOptions
from sitewatch.detect.runs import get_run, list_runs, run_to_dict
from sitewatch.detect.site import detect_site
from sitewatch.imagery.dates import parse_optional_date
from sitewatch.imagery.stack import parse_bands

runs_app = typer.Typer(help="Stored change detection runs.", no_args_is_help=True)

_METHOD = typer.Option(
    DEFAULT_DETECT_METHOD,
    "--method",
    "-m",
    help="Change method: irmad (best cross-validated F1), cva, or siamese.",
)
_THRESHOLD = threshold_option("Fixed score threshold in [0, 1] (default: automatic).")
_MIN_AREA = typer.Option(
    None,
    "--min-area",
    help="Minimum mapping unit: m2 (default 500), or pixels for non-georeferenced pairs "
    "(default 20).",
)
_BANDS = bands_option("Comma-separated band names (default: B02,B03,B04,B08 for S2).")
_JSON = json_option("Print the result as JSON.")


def _options(
    method: str,
    threshold: float | None,
    min_area: float | None,
    keep_vegetation: bool,
    keep_water: bool,
) -> DetectionOptions:
    return DetectionOptions(
        method=method,
        threshold=threshold,
        min_area=min_area,
        keep_vegetation=keep_vegetation,
        keep_water=keep_water,
    )


def _print_summary(summary: dict, where: str) -> None:
    area = summary.get("changed_area_m2")
    extent = f"{area / 1e4:.2f} ha" if area is not None else f"{summary['changed_pixels']} px"
    shift = summary.get("residual_shift_m")
    console.print(
        f"{summary['object_count']} change objects, {extent} changed "
        f"({100 * summary['changed_share']:.2f} % of the compared area), "
        f"max score {summary['max_score']:.4f}, threshold {summary['threshold']:.6f}"
        + (f", residual shift {shift:.1f} m" if shift is not None else ""),
        highlight=False,
    )
    for line in mask_lines(summary):
        console.print(line, highlight=False)
    console.print(f"products: {where}", highlight=False)


def detect_pair(
    before: Path = typer.Argument(..., help="BEFORE scene: a raster file or a per-band folder."),
    after: Path = typer.Argument(..., help="AFTER scene: a raster file or a per-band folder."),
    out: Path = out_folder_option("Folder for the four products."),
    method: str = _METHOD,
    threshold: float | None = _THRESHOLD,
    min_area: float | None = _MIN_AREA,
    bands: str | None = _BANDS,
    keep_vegetation: bool = keep_vegetation_option(),
    keep_water: bool = keep_water_option(),
    as_json: bool = _JSON,
) -> None:
    """Detect change between two scenes on BEFORE's grid; write change_mask.tif,
    change_score.tif, objects.geojson and run.json into --out."""
    result = run_pair(
        before,
        after,
        out,
        options=_options(method, threshold, min_area, keep_vegetation, keep_water),
        bands=parse_bands(bands),
        notify=say_on_stderr,
    )
    if as_json:
        print_json({"out": str(result.out), **result.run})
        return
    _print_summary(result.summary, str(result.out))


def detect(
    ctx: typer.Context,
    site: str = typer.Argument(..., help="Site id."),
    before: str | None = typer.Option(
        None, "--before", help="Earliest date to consider, YYYY-MM-DD (default: first scene)."
    ),
    after: str | None = typer.Option(
        None, "--after", help="Latest date to consider, YYYY-MM-DD (default: last scene)."
    ),
    method: str = _METHOD,
    threshold: float | None = _THRESHOLD,
    min_area: float | None = _MIN_AREA,
    bands: str | None = _BANDS,
    keep_vegetation: bool = keep_vegetation_option(),
    keep_water: bool = keep_water_option(),
    as_json: bool = _JSON,
) -> None:
    """Compare the first and last scene of a site within [--before, --after]; store the run."""
    with workspace_from(ctx) as workspace:
        result = detect_site(
            workspace,
            site,
            before=parse_optional_date(before, "--before"),
            after=parse_optional_date(after, "--after"),
            options=_options(method, threshold, min_area, keep_vegetation, keep_water),
            bands=parse_bands(bands),
        )
    if as_json:
        print_json(
            {
                "run_id": result.run_id,
                "site_id": result.site_id,
                "before_scene_id": result.before_scene_id,
                "after_scene_id": result.after_scene_id,
                "summary": result.summary,
                "products": {key: str(path) for key, path in result.products.items()},
            }
        )
        return
    console.print(
        f"run {result.run_id}: {result.site_id}, {result.before_scene_id} -> "
        f"{result.after_scene_id}",
        highlight=False,
    )
    _print_summary(result.summary, str(result.products["run"].parent))


@runs_app.command("list")
def runs_list(
    ctx: typer.Context,
    site: str | None = typer.Option(None, "--site", help="Only runs of this site."),
    as_json: bool = _JSON,
) -> None:
    """Stored detection runs, newest first."""
    with workspace_from(ctx) as workspace, workspace.session() as session:
        records = [run_to_dict(run) for run in list_runs(session, site)]
    if as_json:
        print_json(records)
        return
    table = Table(title="detection runs", box=None, pad_edge=False)
    for column in ("run", "site", "method", "objects", "ha", "created (UTC)"):
        table.add_column(column, no_wrap=column != "site", overflow="fold")
    for record in records:
        area = record["summary"].get("changed_area_m2")
        table.add_row(
            record["id"],
            record["site_id"] or "",
            record["method"],
            str(record["summary"].get("object_count")),
            f"{area / 1e4:.2f}" if area is not None else "",
            record["created_at"][:16].replace("T", " "),
        )
    console.print(table)


@runs_app.command("show")
def runs_show(
    ctx: typer.Context,
    run_id: str = typer.Argument(..., help="Run id."),
    as_json: bool = _JSON,
) -> None:
    """One run: summary, products and lineage."""
    with workspace_from(ctx) as workspace, workspace.session() as session:
        record = run_to_dict(get_run(session, run_id), with_lineage=True)
    if as_json:
        print_json(record)
        return
    for key in ("id", "site_id", "method", "before_scene_id", "after_scene_id", "created_at"):
        console.print(f"{key}: {record[key]}", highlight=False)
    for key, value in record["summary"].items():
        console.print(f"summary.{key}: {value}", highlight=False)
    for key, value in record["products"].items():
        console.print(f"products.{key}: {value}", highlight=False)
