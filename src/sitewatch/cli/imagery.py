"""``sitewatch imagery ...``: the imagery catalog."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from sitewatch.cli.common import console, print_json, workspace_from
from sitewatch.cli.options import buffer_option, from_option, json_option, limit_option, to_option
from sitewatch.imagery.drafts import AddOutcome
from sitewatch.imagery.ingest import add_scenes
from sitewatch.imagery.scenes import get_scene, list_scenes, scene_details, scene_summary
from sitewatch.imagery.stac import add_stac, export_stac

app = typer.Typer(
    help="The imagery catalog: add files or STAC items, list, export STAC.", no_args_is_help=True
)

_BBOX_HELP = "Lon/lat box min_lon,min_lat,max_lon,max_lat."
_JSON_HELP = "Print JSON instead of text."


@app.command("add")
def add(
    ctx: typer.Context,
    paths: list[Path] = typer.Argument(
        ..., help="Multi-band raster files, or folders of per-band files (one scene each)."
    ),
    datetime_text: str | None = typer.Option(
        None,
        "--datetime",
        help="Acquisition time (ISO 8601); overrides what tags and file names say.",
    ),
    platform: str | None = typer.Option(
        None, "--platform", help="Platform, e.g. sentinel-2a (default: from tags or file names)."
    ),
    as_json: bool = json_option(_JSON_HELP),
) -> None:
    """Catalogue scenes from local files; all PATHs are checked before anything is written."""
    with workspace_from(ctx) as workspace, workspace.session() as session:
        outcomes = add_scenes(session, paths, datetime_text=datetime_text, platform=platform)
    _print_outcomes(outcomes, as_json)


@app.command("add-stac")
def add_stac_command(
    ctx: typer.Context,
    source: str = typer.Argument(
        ..., help="STAC API URL, or a static catalog/collection/item (path or URL)."
    ),
    bbox: str | None = typer.Option(None, "--bbox", help=_BBOX_HELP),
    site: str | None = typer.Option(None, "--site", help="Only items covering this site."),
    datetime_text: str | None = typer.Option(
        None, "--datetime", help="Period START/END (ISO 8601, '..' for open), or one date."
    ),
    collections: list[str] | None = typer.Option(
        None, "--collection", help="Only items of this collection (repeatable)."
    ),
    limit: int | None = limit_option("At most this many items."),
    as_json: bool = json_option(_JSON_HELP),
) -> None:
    """Import items from a STAC API or static catalog; remote assets are not downloaded."""
    with workspace_from(ctx) as workspace, workspace.session() as session:
        outcomes = add_stac(
            session,
            source,
            bbox_text=bbox,
            site_id=site,
            datetime_text=datetime_text,
            collections=collections,
            limit=limit,
        )
    _print_outcomes(outcomes, as_json)


@app.command("list")
def list_command(
    ctx: typer.Context,
    site: str | None = typer.Option(None, "--site", help="Only scenes covering this site."),
    start: str | None = from_option("Acquired on or after (ISO 8601)."),
    end: str | None = to_option("Acquired on or before (a date: that day)."),
    bbox: str | None = typer.Option(None, "--bbox", help=_BBOX_HELP),
    buffer: float | None = buffer_option(
        "Radius in metres around a point site (default: its uncertainty)."
    ),
    as_json: bool = json_option(_JSON_HELP),
) -> None:
    """Scenes by acquisition date, optionally those covering a site or box in a period."""
    with workspace_from(ctx) as workspace, workspace.session() as session:
        summaries = [
            scene_summary(scene)
            for scene in list_scenes(
                session,
                site_id=site,
                bbox_text=bbox,
                start_text=start,
                end_text=end,
                buffer_m=buffer,
            )
        ]
    if as_json:
        print_json(summaries)
        return
    if not summaries:
        console.print("no scenes")
        return
    table = Table(box=None, pad_edge=False)
    for column in ("id", "UTC time", "platform", "bands", "res m", "cloud %"):
        table.add_column(column, no_wrap=True)
    for summary in summaries:
        cells = (
            summary["id"],
            summary["datetime"][:16].replace("T", " "),
            summary["platform"] or "",
            str(len(summary["bands"])),
            _number(summary["resolution_m"]),
            _number(summary["cloud_cover"]),
        )
        table.add_row(*cells)
    console.print(table)


@app.command("show")
def show(
    ctx: typer.Context,
    scene_id: str = typer.Argument(..., metavar="SCENE", help="Scene id."),
    as_json: bool = json_option(_JSON_HELP),
) -> None:
    """Everything catalogued about one scene: metadata, files and hashes."""
    with workspace_from(ctx) as workspace, workspace.session() as session:
        details = scene_details(get_scene(session, scene_id))
    if as_json:
        print_json(details)
        return
    for field in ("id", "datetime", "platform", "instrument", "collection", "origin", "crs"):
        console.print(f"{field}: {details[field] or '-'}", highlight=False, markup=False)
    console.print(
        f"resolution: {_number(details['resolution_m'])} m", highlight=False, markup=False
    )
    console.print(
        f"cloud cover: {_number(details['cloud_cover'])} %", highlight=False, markup=False
    )
    console.print(f"bbox: {details['bbox']}", highlight=False, markup=False)
    console.print(f"bands: {' '.join(details['bands'])}", highlight=False, markup=False)
    for asset in details["assets"]:
        digest = (asset["sha256"] or "")[:16]
        console.print(
            f"  {asset['key']}: {asset['href']} ({asset['size'] or '?'} B, sha256 {digest or '-'})",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )


@app.command("export-stac")
def export_stac_command(
    ctx: typer.Context,
    directory: Path = typer.Argument(..., help="New or empty folder for the static catalog."),
) -> None:
    """Write every scene as a static STAC collection (imagery is referenced, not copied)."""
    with workspace_from(ctx) as workspace, workspace.session() as session:
        result = export_stac(session, directory)
    console.print(
        f"wrote {result.item_count} items to {result.catalog_path}", highlight=False, markup=False
    )


def _print_outcomes(outcomes: list[AddOutcome], as_json: bool) -> None:
    if as_json:
        print_json(
            [
                {
                    "id": outcome.scene_id,
                    "status": outcome.status,
                    "source": outcome.source,
                    "datetime": outcome.datetime.isoformat(),
                    "bands": outcome.bands,
                }
                for outcome in outcomes
            ]
        )
        return
    for outcome in outcomes:
        status = "added" if outcome.status == "added" else "already present"
        console.print(
            f"{status}: {outcome.scene_id} {outcome.datetime.isoformat()} "
            f"{len(outcome.bands)} bands <- {outcome.source}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
    added = sum(outcome.status == "added" for outcome in outcomes)
    console.print(
        f"{added} added, {len(outcomes) - added} already present", highlight=False, markup=False
    )


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"
