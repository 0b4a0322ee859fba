"""``sitewatch sources add|list|show``: articles and reports kept as evidence."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from sitewatch.cli.common import add_whole_column, console, print_json, workspace_from
from sitewatch.cli.options import json_option
from sitewatch.errors import InputError
from sitewatch.imagery.dates import parse_date
from sitewatch.sources.store import (
    add_sources,
    fetch_source,
    get_source,
    list_sources,
    read_source,
    source_to_dict,
)

app = typer.Typer(
    help="Articles and reports as evidence: add, list, show (mentions and claims).",
    no_args_is_help=True,
)
_JSON = json_option("Print JSON.")


@app.command("add")
def add_command(
    ctx: typer.Context,
    files: list[Path] = typer.Argument(None, help="Saved articles or reports: HTML, text, PDF."),
    url: str | None = typer.Option(None, "--url", help="Where the (one) file came from."),
    fetch: bool = typer.Option(
        False, "--fetch", help="Download --url instead of reading a file (timeout, size limit)."
    ),
    on: str | None = typer.Option(
        None, "--date", help="Publication date (YYYY-MM-DD) when the document gives none."
    ),
    as_json: bool = _JSON,
) -> None:
    """Extract, analyse and keep sources; one bad file refuses them all, nothing written."""
    files = files or []
    if fetch:
        if files or not url:
            raise InputError("--fetch takes --url and no files", item="--fetch")
        incoming = [fetch_source(url)]
    else:
        if not files:
            raise InputError("give one or more files (or --url with --fetch)", item="FILE")
        if url and len(files) > 1:
            raise InputError("--url names where one file came from; give one file", item="--url")
        published_on = parse_date(on, "--date") if on else None
        incoming = [read_source(path, url, published_on) for path in files]
    with workspace_from(ctx) as workspace:
        records = add_sources(workspace, incoming)
    if as_json:
        print_json(records)
        return
    for r in records:
        console.print(
            f"source {r['id'][:12]}: {r['title']} ({r['publisher'] or 'publisher unknown'}, "
            f"{r['published_on'] or 'undated'}); {r['claim_count']} claim(s); sites: "
            f"{', '.join(r['sites']) or 'none'}"
            + (
                f"; ambiguous names: {', '.join(r['ambiguous_names'])}"
                if r["ambiguous_names"]
                else ""
            )
        )


@app.command("list")
def list_command(ctx: typer.Context, as_json: bool = _JSON) -> None:
    """Sources by publication date."""
    with workspace_from(ctx, read_only=True) as workspace, workspace.session() as session:
        records = [source_to_dict(s) for s in list_sources(session)]
    if as_json:
        print_json(records)
        return
    table = Table(title=f"{len(records)} source(s)")
    add_whole_column(table, "id", [r["id"][:12] for r in records])
    for column in ("date", "title", "publisher", "claims", "sites"):
        table.add_column(column, overflow="fold")
    for r in records:
        table.add_row(
            r["id"][:12],
            r["published_on"] or "",
            r["title"],
            r["publisher"] or "",
            str(r["claim_count"]),
            ", ".join(r["sites"]),
        )
    console.print(table)


@app.command("show")
def show_command(
    ctx: typer.Context,
    source_id: str = typer.Argument(..., help="Source id or its first 6+ characters."),
    as_json: bool = _JSON,
) -> None:
    """One source: metadata, mentions by kind, claims."""
    with workspace_from(ctx, read_only=True) as workspace, workspace.session() as session:
        record = source_to_dict(get_source(session, source_id), with_details=True)
    if as_json:
        print_json(record)
        return
    console.print(f"source {record['id']}")
    for key in (
        "title",
        "publisher",
        "published_on",
        "authors",
        "url",
        "media_type",
        "stored_path",
        "extractor",
        "report_publisher",
    ):
        value = record[key]
        console.print(f"  {key}: {', '.join(value) if isinstance(value, list) else value or ''}")
    by_kind: dict[str, list[str]] = {}
    for m in record["mentions"]:
        shown = (
            m["value"]
            if m["kind"] != "site"
            else m["site_id"] or (f"{m['text']}? (ambiguous: {', '.join(m['candidates'])})")
        )
        by_kind.setdefault(m["kind"], [])
        if shown not in by_kind[m["kind"]]:
            by_kind[m["kind"]].append(shown)
    for kind, label in (("site", "sites"), ("missile", "missiles"),
                        ("organisation", "organisations"), ("quantity", "quantities"),
                        ("date", "dates")):  # fmt: skip
        console.print(f"  {label}: {'; '.join(by_kind.get(kind, [])) or 'none'}")
    table = Table(title=f"{len(record['claims'])} claim(s)")
    add_whole_column(table, "id", [c["id"] for c in record["claims"]])
    for column in ("speaker", "stance", "sites", "quote"):
        table.add_column(column, overflow="fold")
    for c in record["claims"]:
        table.add_row(
            c["id"], c["speaker"] or "?", c["stance"], ", ".join(c["site_ids"]), c["quote"][:300]
        )
    console.print(table)
