"""``sitewatch claims list|show|check|review``: statements in sources, against the imagery."""

from __future__ import annotations

import typer
from rich.table import Table

from sitewatch.cli.common import add_whole_column, console, print_json, workspace_from
from sitewatch.cli.options import json_option
from sitewatch.sources.check import check_site_claims
from sitewatch.sources.claims import STANCES
from sitewatch.sources.review import (
    VERDICTS,
    claim_to_dict,
    get_claim,
    list_claims,
    review_claim,
)

app = typer.Typer(
    help="Claims of sources: list, show, check against a site's imagery, review (signed).",
    no_args_is_help=True,
)
_JSON = json_option("Print JSON.")


@app.command("list")
def list_command(
    ctx: typer.Context,
    site: str | None = typer.Option(None, "--site", help="Only claims about this site id."),
    as_json: bool = _JSON,
) -> None:
    """Claims by date, optionally about one site."""
    with workspace_from(ctx, read_only=True) as workspace, workspace.session() as session:
        records = [claim_to_dict(c) for c in list_claims(session, site)]
    if as_json:
        print_json(records)
        return
    table = Table(title=f"{len(records)} claim(s)")
    add_whole_column(table, "id", [r["id"] for r in records])
    for column in ("date", "speaker", "stance", "sites", "quote"):
        table.add_column(column, overflow="fold")
    for r in records:
        now = r["effective"]
        table.add_row(
            r["id"],
            r["claimed_on"] or "",
            now["speaker"] or "?",
            now["stance"],
            ", ".join(now["site_ids"]),
            r["quote"][:200],
        )
    console.print(table)


@app.command("show")
def show_command(
    ctx: typer.Context,
    claim_id: str = typer.Argument(..., help="Claim id (see 'claims list')."),
    as_json: bool = _JSON,
) -> None:
    """One claim, its span in the source and its reviews."""
    with workspace_from(ctx, read_only=True) as workspace, workspace.session() as session:
        record = claim_to_dict(get_claim(session, claim_id))
    if as_json:
        print_json(record)
        return
    console.print(
        f"claim {record['id']} (source {record['source_id'][:12]}, characters "
        f"{record['start']}-{record['end']}, dated {record['claimed_on'] or '?'})"
    )
    now = record["effective"]
    console.print(f"  speaker: {now['speaker'] or '?'}")
    console.print(f"  stance: {now['stance']}")
    console.print(f"  sites: {', '.join(now['site_ids']) or 'none'}")
    console.print(f"  quote: {record['quote']}")
    for review in record["reviews"]:
        console.print(
            f"  review: {review['verdict']} by {review['analyst']} "
            f"{review['corrections'] or ''} {review['note']}".rstrip()
        )


@app.command("check")
def check_command(
    ctx: typer.Context,
    site: str = typer.Argument(..., help="Catalog site id."),
    as_json: bool = _JSON,
) -> None:
    """Each claim about SITE beside the assessments and runs that support or contradict it."""
    with workspace_from(ctx, read_only=True) as workspace, workspace.session() as session:
        records = check_site_claims(session, site)
    if as_json:
        print_json(records)
        return
    if not records:
        console.print(f"no claims about {site}")
    for r in records:
        newest = r["newest_image_before"]
        age = (
            f"newest image before it: {newest['date']} ({newest['age_days']} days old)"
            if newest
            else "no image of the site before it"
        )
        console.print(
            f"claim {r['claim_id']} ({r['claimed_on'] or 'undated'}) "
            f"{r['speaker'] or '?'}: {r['stance']}; {age}"
        )
        console.print(f'  "{r["quote"][:200]}"')
        console.print(
            f"  images of the site: {r['images_before']} before, {r['images_after']} after"
        )
        for o in r["observations"]:
            console.print(
                f"  {o['relation']}: {o['kind']} {o['id']} {o['date'] or ''} "
                f"({o['timing']} the claim): {o['what']}"
            )
        console.print(f"  supported by {r['supported_by']}, contradicted by {r['contradicted_by']}")


@app.command("review")
def review_command(
    ctx: typer.Context,
    claim_id: str = typer.Argument(..., help="Claim id."),
    verdict: str = typer.Option(..., "--verdict", help=" | ".join(VERDICTS)),
    speaker: str | None = typer.Option(None, "--speaker", help="Corrected speaker."),
    stance: str | None = typer.Option(None, "--stance", help=" | ".join(STANCES)),
    sites: list[str] = typer.Option(None, "--site", help="Corrected site id (repeatable)."),
    note: str = typer.Option("", "--note", help="Why."),
    analyst: str | None = typer.Option(None, "--analyst", help="Analyst who signs it."),
    as_json: bool = _JSON,
) -> None:
    """Confirm, correct or reject a claim, signed by the analyst in the ledger."""
    with workspace_from(ctx) as workspace, workspace.session() as session:
        review = review_claim(
            session,
            claim_id,
            analyst=analyst,
            verdict=verdict,
            speaker=speaker,
            stance=stance,
            site_ids=sites or None,
            note=note,
        )
        record = claim_to_dict(review.claim)
    if as_json:
        print_json(record)
        return
    console.print(f"claim {claim_id}: {verdict} by {record['reviews'][-1]['analyst']}")
