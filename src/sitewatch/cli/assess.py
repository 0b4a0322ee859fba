"""``sitewatch assess SITE ...`` and ``sitewatch assessments SITE``: signed judgements."""

from __future__ import annotations

import typer
from rich.table import Table

from sitewatch.cli.common import console, print_json, workspace_from
from sitewatch.cli.options import json_option
from sitewatch.imagery.dates import parse_date
from sitewatch.verify.assessments import (
    ASSESSMENT_STATUSES,
    CONFIDENCES,
    ENV_ANALYST,
    add_assessment,
    assessment_to_dict,
    list_assessments,
)

_JSON = json_option("Print JSON.")


def assess(
    ctx: typer.Context,
    site_id: str = typer.Argument(..., help="Catalog site id."),
    on: str = typer.Option(..., "--date", help="Date the status was observed (YYYY-MM-DD)."),
    status: str = typer.Option(..., "--status", help=" | ".join(ASSESSMENT_STATUSES)),
    confidence: str = typer.Option(..., "--confidence", help=" | ".join(CONFIDENCES)),
    evidence: list[str] = typer.Option(
        [], "--evidence", help="A detection run or scene id the judgement rests on (repeatable)."
    ),
    note: str = typer.Option("", "--note", help="Free text: what was seen."),
    analyst: str | None = typer.Option(
        None, "--analyst", help=f"Registered analyst who signs it (default: ${ENV_ANALYST})."
    ),
    as_json: bool = _JSON,
) -> None:
    """Record an analyst's assessment of a site on a date, signed in the ledger."""
    with workspace_from(ctx) as workspace, workspace.session() as session:
        record = assessment_to_dict(
            add_assessment(
                session,
                site_id=site_id,
                observed_on=parse_date(on, "--date"),
                status=status,
                confidence=confidence,
                analyst=analyst,
                evidence=evidence,
                note=note,
            )
        )
    if as_json:
        print_json(record)
        return
    console.print(
        f"assessment {record['id']}: {record['site_id']} {record['status']} on {record['date']} "
        f"({record['confidence']} confidence) by {record['analyst']}",
        highlight=False,
    )


def assessments(
    ctx: typer.Context,
    site_id: str = typer.Argument(..., help="Catalog site id."),
    as_json: bool = _JSON,
) -> None:
    """A site's assessments in date order."""
    with workspace_from(ctx) as workspace, workspace.session() as session:
        records = [assessment_to_dict(a) for a in list_assessments(session, site_id)]
    if as_json:
        print_json(records)
        return
    table = Table(title=f"{len(records)} assessment(s) of {site_id}")
    for column in ("date", "status", "confidence", "analyst", "evidence", "note", "id"):
        table.add_column(column, overflow="fold")
    for r in records:
        table.add_row(
            r["date"],
            r["status"],
            r["confidence"],
            r["analyst"],
            ", ".join(r["evidence"]),
            r["note"],
            r["id"],
        )
    console.print(table)
