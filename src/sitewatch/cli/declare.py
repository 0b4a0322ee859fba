"""``sitewatch declare import|list|show``: states' declarations in the workspace."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from sitewatch.cli.common import console, print_json, workspace_from
from sitewatch.cli.options import json_option
from sitewatch.verify.store import (
    declaration_to_dict,
    get_declaration,
    import_declaration,
    list_declarations,
)

declare_app = typer.Typer(
    help="Declarations: import a state's declared facilities (JSON or CSV), list, show.",
    no_args_is_help=True,
)
_JSON = json_option("Print JSON.")


@declare_app.command("import")
def import_command(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="Declaration file: .json (documented format) or .csv."),
    as_json: bool = _JSON,
) -> None:
    """Validate and store a declaration; any error names the item and field, nothing is kept."""
    with workspace_from(ctx) as workspace:
        declaration = import_declaration(workspace, file)
        record = declaration_to_dict(declaration, with_items=False)
    if as_json:
        print_json(record)
        return
    console.print(
        f"imported declaration {record['id']}: {record['party']}, {record['date']}, "
        f"{record['item_count']} item(s)",
        highlight=False,
    )


@declare_app.command("list")
def list_command(ctx: typer.Context, as_json: bool = _JSON) -> None:
    """Imported declarations by date."""
    with workspace_from(ctx) as workspace, workspace.session() as session:
        records = [declaration_to_dict(d, with_items=False) for d in list_declarations(session)]
    if as_json:
        print_json(records)
        return
    table = Table(title=f"{len(records)} declaration(s)")
    for column in ("id", "party", "date", "items", "file"):
        table.add_column(column)
    for r in records:
        table.add_row(r["id"], r["party"], r["date"], str(r["item_count"]), r["source_name"])
    console.print(table)


@declare_app.command("show")
def show_command(
    ctx: typer.Context,
    declaration_id: str = typer.Argument(..., help="Declaration id (see 'declare list')."),
    as_json: bool = _JSON,
) -> None:
    """One declaration and its items."""
    with workspace_from(ctx) as workspace, workspace.session() as session:
        record = declaration_to_dict(get_declaration(session, declaration_id))
    if as_json:
        print_json(record)
        return
    console.print(
        f"{record['id']}: {record['party']}, declared {record['date']}"
        f" (file {record['source_name']}, sha256 {record['source_sha256'][:12]}...)",
        highlight=False,
    )
    table = Table()
    for column in ("#", "name", "lat", "lon", "category", "status", "since", "inventory"):
        table.add_column(column, overflow="fold")
    for item in record["items"]:
        table.add_row(
            str(item["index"]),
            item["name"] or "",
            "" if item["lat"] is None else f"{item['lat']:.5f}",
            "" if item["lon"] is None else f"{item['lon']:.5f}",
            item["category"],
            item["status"],
            item["status_date"] or record["date"],
            item["inventory"] or "",
        )
    console.print(table)
