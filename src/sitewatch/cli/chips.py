"""``sitewatch chips SITE --out DIR``: per-date quicklooks and COGs of a site."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from sitewatch.cli.common import console, print_json, workspace_from
from sitewatch.cli.options import (
    buffer_option,
    from_option,
    json_option,
    out_folder_option,
    to_option,
)
from sitewatch.imagery.chips import write_site_chips
from sitewatch.imagery.dates import parse_optional_date


def chips(
    ctx: typer.Context,
    site: str = typer.Argument(..., help="Site id."),
    out: Path = out_folder_option("Folder to write the chips to."),
    start: str | None = from_option("First date, YYYY-MM-DD (inclusive)."),
    end: str | None = to_option("Last date, YYYY-MM-DD (inclusive)."),
    buffer: float | None = buffer_option(
        "Metres around the site (default: its coordinate uncertainty)."
    ),
    as_json: bool = json_option("Print the written files as JSON."),
) -> None:
    """Write a dated true-colour PNG and a Cloud-Optimised GeoTIFF per date of a site.

    All dates share one contrast stretch, so brightness differences between PNGs are real.
    """
    first, last = parse_optional_date(start, "--from"), parse_optional_date(end, "--to")
    with workspace_from(ctx) as workspace:
        results = write_site_chips(workspace, site, out, start=first, end=last, buffer_m=buffer)
    if as_json:
        print_json(
            [
                {
                    "date": result.acquired.isoformat() + "Z",
                    "scene_id": result.scene_id,
                    "png": str(result.png),
                    "cog": str(result.cog),
                    "bands": list(result.bands),
                    "rgb_bands": list(result.rgb_bands),
                    "width": result.width,
                    "height": result.height,
                }
                for result in results
            ]
        )
        return
    table = Table(title=f"chips of {site} in {results[0].png.parent}")
    table.add_column("date (UTC)", no_wrap=True)
    table.add_column("files: quicklook .png, COG .tif", overflow="fold")
    for result in results:
        table.add_row(f"{result.acquired:%Y-%m-%d %H:%M}", f"{result.png.stem}.png|.tif")
    console.print(table)
    sample = results[0]  # never empty: no imagery is an error
    console.print(
        f"{len(results)} date(s), {sample.width} x {sample.height} px, "
        f"PNG bands {'/'.join(sample.rgb_bands)}"
    )
