"""``sitewatch candidates ...``: triage of what scans found."""

from __future__ import annotations

from pathlib import Path

import shapely
import typer
from rich.table import Table
from shapely.geometry.base import BaseGeometry

from sitewatch import limits
from sitewatch.catalog.records import CATEGORIES
from sitewatch.catalog.sites import to_record
from sitewatch.cli.common import add_whole_column, console, print_json, workspace_from
from sitewatch.cli.options import json_option, limit_option
from sitewatch.scan.candidates import (
    STATUSES,
    candidate_to_dict,
    draw_chips,
    list_candidates,
    open_candidate,
    promote_candidate,
)
from sitewatch.scan.places import dismiss_place, page_places

candidates_app = typer.Typer(
    help="Scan candidates: list, draw chips, show, promote to a site, dismiss.",
    no_args_is_help=True,
)

CANDIDATE = typer.Argument(..., metavar="CANDIDATE", help="Id of the candidate.")
JSON = json_option("Print JSON instead of text.")


@candidates_app.command("list")
def list_(
    ctx: typer.Context,
    scan: str | None = typer.Option(None, "--scan", help="Only candidates of this scan."),
    status: str = typer.Option("new", "--status", help=f"One of: {', '.join(STATUSES)}, all."),
    include_known: bool = typer.Option(
        False, "--include-known", help="Also list candidates near a site already in the catalog."
    ),
    members: bool = typer.Option(
        False, "--members", help="Under each place, list the candidates it is made of."
    ),
    limit: int | None = limit_option("At most this many places."),
    as_json: bool = JSON,
) -> None:
    """List places, most probable first: candidates close to each other grouped into one
    (by default: new ones not near a known site).

    The probability is the place model's that the place holds real change. A place is
    named by its best candidate (SCAN:TILE:NUMBER), never cut, so it can be copied into
    'show' or 'promote'; "edge" marks a place touching pixels the scan could not compare
    (nodata, a footprint's edge, clouds). --json gives every member's fields.
    """
    with workspace_from(ctx) as workspace, workspace.session() as session:
        if limit is not None:
            limits.ROW_LIMIT.check(limit, item="--limit")
        page = page_places(
            session,
            scan_id=scan,
            status=None if status == "all" else status,
            include_known=include_known,
            limit=limit,
        )
        rows = [place.as_dict() for place in page.places]
    if as_json:
        print_json(rows)
        return
    table = Table()
    ids = [
        name
        for row in rows
        for name in [row["id"], *([f"  {m['id']}" for m in row["members"]] if members else [])]
    ]
    add_whole_column(table, "place", ids)
    table.add_column("prob", justify="right")
    table.add_column("area m2", justify="right")
    table.add_column("parts", justify="right")
    table.add_column("nearest site", overflow="fold")
    for row in rows:
        table.add_row(
            row["id"],
            f"{row['probability']:.3f}" + (" edge" if row["edge"] else ""),
            f"{row['area_m2']:.0f}",
            str(row["member_count"]),
            _nearest(row),
        )
        for member in row["members"] if members else []:
            table.add_row(
                f"  {member['id']}",
                f"score {member['score']:.3g}" + (" edge" if member["edge"] else ""),
                f"{member['area_m2']:.0f}",
                "",
                _nearest(member),
            )
    console.print(table)
    shown = "" if len(rows) == page.total else f"{len(rows)} of "
    console.print(f"{shown}{page.total:,} place(s) of {page.candidates:,} candidate(s)")


def _nearest(row: dict) -> str:
    if not row["nearest_site_id"]:
        return ""
    return f"{row['nearest_site_id']} ({row['nearest_site_m']:.0f} m)" + (
        " known" if row["known"] else ""
    )


@candidates_app.command("chips")
def chips(
    ctx: typer.Context,
    scan: str | None = typer.Option(None, "--scan", help="Only candidates of this scan."),
    limit: int = limit_option("The best this many (by score).", default=20),
    include_known: bool = typer.Option(
        False, "--include-known", help="Also candidates near a site already in the catalog."
    ),
    as_json: bool = JSON,
) -> None:
    """Draw the before/after chips of the best new candidates, for triage by eye.

    Each tile's imagery is read once for all of its candidates; chips already drawn are
    reused. A candidate whose imagery cannot be read is listed with the reason.
    """
    with workspace_from(ctx) as workspace, workspace.session() as session:
        found = list_candidates(
            session, scan_id=scan, status="new", include_known=include_known, limit=limit
        )
        rows = [
            {"id": c.id, "score": c.score, **dict(c.chips or {}), "problem": problem}
            for c, problem in draw_chips(session, found)
        ]
    if as_json:
        print_json(rows)
        return
    # One line each, not a table: ids and file names must stay whole to be copied.
    for row in rows:
        if row["problem"]:
            drawn = f"not drawn: {row['problem']}"
        else:
            drawn = Path(row["after"]).name.replace("_after.png", "_{before,after}.png")
        console.print(f"{row['id']}  score {row['score']:.3g}  {drawn}", highlight=False)
    for folder in sorted({str(Path(row["after"]).parent) for row in rows if not row["problem"]}):
        console.print(f"chips in {folder}", highlight=False)


@candidates_app.command("show")
def show(ctx: typer.Context, candidate_id: str = CANDIDATE, as_json: bool = JSON) -> None:
    """Every field of a candidate, with its before/after chips (drawn on first show)."""
    with workspace_from(ctx) as workspace, workspace.session() as session:
        candidate, chips_problem = open_candidate(session, candidate_id)
        data = candidate_to_dict(candidate)
        outline = outline_summary(candidate.geometry)
    if as_json:
        print_json({**data, "chips_problem": chips_problem})
        return
    for key, value in data.items():
        if key == "acquisitions":
            # The scenes compared, one line each: the windows asked for say less.
            for window, scenes in value.items():
                for scene in scenes:
                    console.print(
                        f"{window} scene: {scene['acquired'][:10]} {scene['scene_id']}",
                        highlight=False,
                    )
            continue
        if key == "chips":
            for name, path in value.items():
                console.print(f"chip {name}: {path}", highlight=False)
            if chips_problem:
                console.print(f"chips: not drawn: {chips_problem}", highlight=False)
            continue
        if key == "geometry":
            value = outline
        console.print(f"{key}: {'' if value is None else value}", highlight=False)


def outline_summary(outline: BaseGeometry) -> str:
    """An outline in one line: its type, vertex count and lon/lat bounds. The WKT of a
    traced object runs to thousands of characters, which bury every other field on a
    terminal; ``--json`` keeps it whole."""
    west, south, east, north = outline.bounds
    return (
        f"{outline.geom_type}, {shapely.get_num_coordinates(outline)} vertices, "
        f"lon {west:.5f} to {east:.5f}, lat {south:.5f} to {north:.5f} (WKT: --json)"
    )


@candidates_app.command("promote")
def promote(
    ctx: typer.Context,
    candidate_id: str = CANDIDATE,
    site_id: str | None = typer.Option(None, "--id", help="Id of the new site."),
    name: str | None = typer.Option(None, "--name", help="Name of the new site."),
    category: str | None = typer.Option(
        None, "--category", help=f"One of: {', '.join(CATEGORIES)}."
    ),
    as_json: bool = JSON,
) -> None:
    """Add the candidate to the catalog as a site (recorded in the ledger)."""
    with workspace_from(ctx) as workspace, workspace.session() as session:
        site = promote_candidate(
            session, candidate_id, site_id=site_id, name=name, category=category
        )
        record = to_record(site)
    if as_json:
        print_json(record.as_dict())
        return
    console.print(f"promoted {candidate_id} to site {record.id}", highlight=False)


@candidates_app.command("dismiss")
def dismiss(
    ctx: typer.Context,
    candidate_id: str = CANDIDATE,
    reason: str = typer.Option(..., "--reason", help="Why it is not a site (required)."),
    include_known: bool = typer.Option(
        False,
        "--include-known",
        help="Group the place as 'list --include-known' does (with candidates near sites).",
    ),
    as_json: bool = JSON,
) -> None:
    """Dismiss a candidate and the rest of its place with the reason (each recorded in the
    ledger): the place as 'list' shows it, so it is not listed again under its next part."""
    with workspace_from(ctx) as workspace, workspace.session() as session:
        dismissed = dismiss_place(session, candidate_id, reason, include_known=include_known)
        data = {
            **candidate_to_dict(dismissed[0]),
            "dismissed": [candidate.id for candidate in dismissed],
        }
    if as_json:
        print_json(data)
        return
    console.print(f"dismissed {candidate_id}: {data['status_reason']}", highlight=False)
    if len(dismissed) > 1:
        console.print(
            f"and the {len(dismissed) - 1} other part(s) of its place: "
            + " ".join(data["dismissed"][1:]),
            highlight=False,
        )
