"""``sitewatch timeline SITE``: activity per date over all scenes of a site."""

from __future__ import annotations

from pathlib import Path

import typer
from rich import box
from rich.table import Table

from sitewatch.analysis.activity import ActivityRecord, ActivitySettings
from sitewatch.cli.common import console, print_json, workspace_from
from sitewatch.cli.options import bands_option, from_option, json_option, to_option
from sitewatch.imagery.dates import parse_datetime_option
from sitewatch.imagery.stack import parse_bands
from sitewatch.timeline.service import default_output_dir, site_timeline, write_timeline


def timeline(
    ctx: typer.Context,
    site: str = typer.Argument(..., help="Site id."),
    start: str | None = from_option("First date, YYYY-MM-DD (inclusive)."),
    end: str | None = to_option("Last date, YYYY-MM-DD (inclusive)."),
    bands: list[str] | None = bands_option(
        "Bands to compare, repeated or comma-separated (default: all but cloud masks)."
    ),
    method: str = typer.Option(
        "auto", "--method", help="auto, difference (one band, e.g. NDVI), cva or irmad."
    ),
    min_change: float = typer.Option(
        0.0,
        "--min-change",
        help="Smallest change that counts, in band units (difference method; 0.1-0.2 for NDVI).",
    ),
    out: Path | None = typer.Option(
        None,
        "--out",
        "-o",
        help="Folder for the CSV, JSON and PNG (default: products/timeline/SITE).",
    ),
    as_json: bool = json_option("Print records and lineage as JSON."),
) -> None:
    """Activity per date: the share of the site that changed since the previous usable date.

    Dates with less than half the site clear are unusable and never serve as a reference.
    Writes SITE_timeline.csv, .json and .png.
    """
    first = parse_datetime_option(start, "--from") if start else None
    last = parse_datetime_option(end, "--to", end_of_day=True) if end else None
    settings = ActivitySettings(min_change=min_change)
    with workspace_from(ctx) as workspace:
        result = site_timeline(
            workspace, site, first, last, parse_bands(bands), method=method, settings=settings
        )
        files = write_timeline(result, out or default_output_dir(workspace, result.site_id))
    if as_json:
        print_json({"files": {k: str(v) for k, v in vars(files).items()}, **result.as_dict()})
        return
    table = Table(
        title=f"activity of {result.site_id} ({result.method}, {', '.join(result.bands)})",
        box=box.SIMPLE_HEAD,
        padding=(0, 1),
        collapse_padding=True,
        pad_edge=False,
        show_edge=False,
    )
    table.add_column("date", no_wrap=True)
    table.add_column("usable", no_wrap=True)
    table.add_column("reference", no_wrap=True)
    for column in ("clear%", "act%", "|Δ|", "shift", "gain%", "spike"):
        table.add_column(column, justify="right", no_wrap=True)
    for record in result.records:
        table.add_row(*_row(record))
    console.print(table)
    console.print(
        "date, reference: UTC days; clear%: valid cloud-free share of the site; act%: share "
        "of the clear pixels that changed; |Δ|: mean absolute change; shift: scene-wide "
        "median change (not counted as activity); gain%: changed pixels that rose"
    )
    fence = f"{100 * result.spike_fence:.1f} %" if result.spike_fence is not None else "n/a"
    console.print(
        f"{len(result.records)} date(s), {len(result.unusable)} unusable, "
        f"{len(result.spikes)} spike(s) above {fence}; clouds: {result.cloud_source}"
    )
    console.print(f"wrote {files.csv}, {files.json.name}, {files.png.name}")


def _row(record: ActivityRecord) -> list[str]:
    """One table row; the unusable reason is in the CSV/JSON ``note`` (clear % shows it)."""

    def percent(value: float | None) -> str:
        return "" if value is None else f"{100 * value:.1f}"

    def number(value: float | None) -> str:
        return "" if value is None else f"{value:.3f}"

    return [
        f"{record.date:%Y-%m-%d}" if record.date else str(record.index),
        "yes" if record.usable else "no",
        f"{record.reference_date:%Y-%m-%d}" if record.reference_date else "",
        percent(record.clear_fraction),
        percent(record.activity),
        number(record.mean_abs_change),
        number(record.shift),
        percent(record.gain_share),
        "SPIKE" if record.spike else "",
    ]
