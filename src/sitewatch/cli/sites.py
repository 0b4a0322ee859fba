"""``sitewatch sites ...``: the site catalog."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, cast

import shapely
import typer
from rich.table import Table
from shapely.errors import GEOSException
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from sitewatch.catalog.formats import FORMATS, dumps_sites, read_sites, site_format, write_sites
from sitewatch.catalog.records import (
    CATEGORIES,
    STATUSES,
    SiteRecord,
    SourceRecord,
    located,
)
from sitewatch.catalog.reference import load_reference, reference_names
from sitewatch.catalog.sites import (
    ON_CONFLICT,
    OnConflict,
    add_site,
    edit_site,
    get_site,
    import_sites,
    list_sites,
    remove_site,
    to_record,
)
from sitewatch.cli.common import add_whole_column, console, print_json, workspace_from
from sitewatch.cli.options import json_option
from sitewatch.errors import InputError

app = typer.Typer(
    help="The site catalog: add, list, show, edit, remove, import, export.", no_args_is_help=True
)

# Options shared by `add` and `edit`: declared once so the two commands cannot drift.
NAME = typer.Option(None, "--name", help="Site name.")
LAT = typer.Option(None, "--lat", help="Latitude in degrees (WGS 84), with --lon.")
LON = typer.Option(None, "--lon", help="Longitude in degrees (WGS 84), with --lat.")
WKT = typer.Option(None, "--wkt", help="Geometry as WKT in lon/lat, e.g. a POLYGON.")
CATEGORY = typer.Option(None, "--category", help=f"One of: {', '.join(CATEGORIES)}.")
COUNTRY = typer.Option(None, "--country", help="ISO 3166 alpha-3 code, e.g. PRK.")
ALIAS = typer.Option(None, "--alias", help="Another name (repeatable).")
MISSILE_CLASS = typer.Option(None, "--missile-class", help="e.g. MRBM (repeatable).")
STATUS = typer.Option(None, "--status", help=f"One of: {', '.join(STATUSES)}.")
DECLARED = typer.Option(
    None, "--declared/--undeclared", help="Whether the state has declared the site."
)
UNCERTAINTY = typer.Option(None, "--uncertainty", help="Location uncertainty in metres.")
SOURCE_TITLE = typer.Option(None, "--source-title", help="Title of a published source.")
SOURCE_URL = typer.Option(None, "--source-url", help="URL of the source.")
SOURCE_DATE = typer.Option(None, "--source-date", help="Source date: YYYY, YYYY-MM or YYYY-MM-DD.")
NOTES = typer.Option(None, "--notes", help="Free-text notes.")
JSON = json_option("Print JSON instead of a table.")


def _geometry(lat: float | None, lon: float | None, wkt: str | None) -> BaseGeometry | None:
    if wkt is not None and (lat is not None or lon is not None):
        raise InputError("give --lat/--lon or --wkt, not both", item="location")
    if wkt is not None:
        try:
            return shapely.from_wkt(wkt)
        except (GEOSException, ValueError) as error:
            raise InputError(f"not valid WKT ({error})", item="--wkt") from None
    if (lat is None) != (lon is None):
        raise InputError("give both --lat and --lon", item="location")
    return None if lat is None or lon is None else Point(lon, lat)


def _source(title: str | None, url: str | None, date: str | None) -> SourceRecord | None:
    if title is None and url is None and date is None:
        return None
    return SourceRecord(title or "", url or "", date)


def _given_fields(**options: Any) -> dict[str, Any]:
    """The record fields the user actually gave (None means "not given")."""
    renames = {"alias": "aliases", "missile_class": "missile_classes"}
    return {renames.get(k, k): v for k, v in options.items() if v is not None}


@app.command("add")
def add(
    ctx: typer.Context,
    name: str = typer.Option(..., "--name", help="Site name."),
    site_id: str | None = typer.Option(None, "--id", help="Id (default: made from the name)."),
    lat: float | None = LAT,
    lon: float | None = LON,
    wkt: str | None = WKT,
    category: str | None = CATEGORY,
    country: str | None = COUNTRY,
    alias: list[str] | None = ALIAS,
    missile_class: list[str] | None = MISSILE_CLASS,
    status: str | None = STATUS,
    declared: bool | None = DECLARED,
    uncertainty: float | None = UNCERTAINTY,
    source_title: str | None = SOURCE_TITLE,
    source_url: str | None = SOURCE_URL,
    source_date: str | None = SOURCE_DATE,
    notes: str | None = NOTES,
) -> None:
    """Add a site. Without --lat/--lon or --wkt it is recorded as not located."""
    with located(None, f"site {site_id or name!r}"):
        source = _source(source_title, source_url, source_date)
        record = SiteRecord(
            id=site_id or "",
            geometry=_geometry(lat, lon, wkt),
            sources=[source] if source else [],
            **_given_fields(
                name=name,
                category=category,
                country=country,
                alias=alias,
                missile_class=missile_class,
                status=status,
                declared=declared,
                uncertainty_m=uncertainty,
                notes=notes,
            ),
        )
    with workspace_from(ctx) as workspace, workspace.session() as session:
        add_site(session, record)
    console.print(f"added site {record.id!r} ({record.name})")


@app.command("edit")
def edit(
    ctx: typer.Context,
    site_id: str = typer.Argument(..., metavar="SITE", help="Id of the site."),
    name: str | None = NAME,
    lat: float | None = LAT,
    lon: float | None = LON,
    wkt: str | None = WKT,
    category: str | None = CATEGORY,
    country: str | None = COUNTRY,
    alias: list[str] | None = ALIAS,
    missile_class: list[str] | None = MISSILE_CLASS,
    status: str | None = STATUS,
    declared: bool | None = DECLARED,
    uncertainty: float | None = UNCERTAINTY,
    source_title: str | None = SOURCE_TITLE,
    source_url: str | None = SOURCE_URL,
    source_date: str | None = SOURCE_DATE,
    notes: str | None = NOTES,
) -> None:
    """Change only the given fields of a site.

    --alias and --missile-class replace the list (--alias '' empties it); --source-* adds a
    source to the ones the site has.
    """
    with located(None, f"site {site_id!r}"):
        changes = _given_fields(
            name=name,
            category=category,
            country=country,
            alias=alias,
            missile_class=missile_class,
            status=status,
            declared=declared,
            uncertainty_m=uncertainty,
            notes=notes,
        )
        geometry = _geometry(lat, lon, wkt)
        if geometry is not None:
            changes["geometry"] = geometry
        source = _source(source_title, source_url, source_date)
    if not changes and source is None:
        raise InputError("nothing to change: give at least one option", item=f"site {site_id!r}")
    with workspace_from(ctx) as workspace, workspace.session() as session:
        if source is not None:
            changes["sources"] = [*to_record(get_site(session, site_id)).sources, source]
        with located(None, f"site {site_id!r}"):
            edit_site(session, site_id, **changes)
    console.print(f"updated site {site_id!r}: {', '.join(sorted(changes))}")


def _degrees(value: float) -> str:
    """Degrees to at most 5 decimals (~1 m), without padding a coarse figure with zeros."""
    return f"{value:.5f}".rstrip("0").rstrip(".")


@app.command("list")
def list_(
    ctx: typer.Context,
    category: str | None = typer.Option(None, "--category", help="Only this category."),
    country: str | None = typer.Option(None, "--country", help="Only this country (ISO3)."),
    as_json: bool = JSON,
) -> None:
    """List sites by id. Lat/lon of a polygon site is a point inside it."""
    with workspace_from(ctx) as workspace, workspace.session() as session:
        records = [to_record(s) for s in list_sites(session, category=category, country=country)]
    if as_json:
        print_json([r.as_dict() for r in records])
        return
    table = Table()
    add_whole_column(table, "id", [r.id for r in records])
    for column in ("name", "category", "country", "lat", "lon", "± m", "sources"):
        table.add_column(column)
    for r in records:
        lon_lat = r.lon_lat
        table.add_row(
            r.id,
            r.name,
            r.category,
            r.country or "",
            _degrees(lon_lat[1]) if lon_lat else "not located",
            _degrees(lon_lat[0]) if lon_lat else "",
            f"{r.uncertainty_m:g}" if r.uncertainty_m is not None else "",
            str(len(r.sources)),
        )
    console.print(table)
    console.print(f"{len(records)} sites")


@app.command("show")
def show(
    ctx: typer.Context,
    site_id: str = typer.Argument(..., metavar="SITE", help="Id of the site."),
    as_json: bool = JSON,
) -> None:
    """Everything known about one site."""
    with workspace_from(ctx) as workspace, workspace.session() as session:
        record = to_record(get_site(session, site_id))
    if as_json:
        print_json(record.as_dict())
        return
    location = "not located"
    if record.geometry is not None:
        lon, lat = record.lon_lat or (0.0, 0.0)
        location = f"{record.geometry.geom_type} at lat {_degrees(lat)}, lon {_degrees(lon)}"
        if record.uncertainty_m is not None:
            location += f" (± {record.uncertainty_m:g} m)"
    rows = {
        "id": record.id,
        "name": record.name,
        "aliases": ", ".join(record.aliases),
        "category": record.category,
        "country": record.country or "",
        "missile classes": ", ".join(record.missile_classes),
        "status": record.status,
        "declared": "yes" if record.declared else "no",
        "location": location,
        "notes": record.notes,
    }
    lines = [f"{key}: {value}" for key, value in rows.items()]
    lines += [
        f"source: {s.title}" + (f" ({s.date})" if s.date else "") + f" {s.url}"
        for s in record.sources
    ]
    for line in lines:  # soft wrap: a URL is never broken across lines
        console.print(line, highlight=False, markup=False, soft_wrap=True)


@app.command("remove")
def remove(
    ctx: typer.Context, site_id: str = typer.Argument(..., metavar="SITE", help="Id of the site.")
) -> None:
    """Delete a site and its sources."""
    with workspace_from(ctx) as workspace, workspace.session() as session:
        record = remove_site(session, site_id)
    console.print(f"removed site {record.id!r} ({record.name})")


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Path | None = typer.Argument(
        None, metavar="FILE", help="GeoJSON, KML, KMZ, CSV or GeoPackage file."
    ),
    format: str | None = typer.Option(
        None, "--format", help=f"File format (default: from the extension): {', '.join(FORMATS)}."
    ),
    on_conflict: str = typer.Option(
        "error", "--on-conflict", help=f"For ids already in the catalog: {', '.join(ON_CONFLICT)}."
    ),
    reference: str | None = typer.Option(
        None, "--reference", help=f"Import a shipped reference set: {', '.join(reference_names())}."
    ),
) -> None:
    """Import sites from a file or a reference set: all of them, or none if any is bad."""
    if reference is not None and file is None:
        records, label = load_reference(reference), f"reference {reference!r}"
    elif file is not None and reference is None:
        records, label = read_sites(file, format), str(file)
    else:
        raise InputError("give a FILE or --reference NAME (one of them)", item="import")
    with workspace_from(ctx) as workspace, workspace.session() as session:
        # import_sites checks the value: a bad one is a one-line InputError.
        result = import_sites(session, records, cast(OnConflict, on_conflict), source=label)
    message = f"imported {result.written} sites ({len(result.unlocated)} unlocated) from {label}"
    if result.updated:
        message += f"; {len(result.updated)} replaced sites already in the catalog"
    if result.skipped:
        message += f"; skipped {len(result.skipped)} already in the catalog"
    console.print(message, highlight=False, soft_wrap=True)


@app.command("export")
def export(
    ctx: typer.Context,
    format: str | None = typer.Option(
        None, "--format", help=f"{', '.join(FORMATS)} (default: from --out, else geojson)."
    ),
    out: Path | None = typer.Option(
        None, "--out", help="Output file (default: stdout, text formats only)."
    ),
    site_ids: list[str] | None = typer.Option(None, "--site", help="Only this site (repeatable)."),
) -> None:
    """Write sites to a file that GIS tools and Google Earth open."""
    chosen = site_format(out, format) if out is not None or format else FORMATS["geojson"]
    if out is None and not chosen.is_text:
        raise InputError(f"{chosen.name} is a binary format: give --out FILE", item="--out")
    with workspace_from(ctx) as workspace, workspace.session() as session:
        sites = [get_site(session, i) for i in site_ids] if site_ids else list_sites(session)
        records = [to_record(s) for s in sites]
    if out is None:
        sys.stdout.write(dumps_sites(records, chosen.name))
        return
    write_sites(records, out, chosen.name)
    console.print(
        f"exported {len(records)} sites to {out} ({chosen.name})", highlight=False, soft_wrap=True
    )
