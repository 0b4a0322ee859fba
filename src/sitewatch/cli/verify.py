"""``sitewatch verify DECLARATION_ID``: one verdict per item and per catalog site.

Exit status: 0 when nothing is undeclared or contradicted, ``ExitCode.FINDINGS`` (5) when
something is, and the other codes of :class:`sitewatch.errors.ExitCode` when the command
cannot run; scripts can tell "the declaration has problems" from "the check failed".
"""

from __future__ import annotations

from collections.abc import Sequence

import typer
from rich.table import Table

from sitewatch.cli.common import console, print_json, workspace_from
from sitewatch.cli.options import json_option
from sitewatch.errors import ExitCode
from sitewatch.verify.rules import Verdict, VerifyParameters
from sitewatch.verify.service import verify_declaration

_DEFAULTS = VerifyParameters()


def verdict_table(verdicts: Sequence[Verdict], title: str) -> Table:
    """The verdicts as a table: what, which item and site, why, on what evidence."""
    table = Table(title=title, show_lines=True)
    for column in ("verdict", "item", "site", "reasons", "evidence"):
        table.add_column(column, overflow="fold")
    for v in verdicts:
        item = "" if v.item_index is None else f"{v.item_index}: {v.item_name or ''}"
        if v.declared_status:
            item += f" ({v.declared_status})"
        table.add_row(
            v.verdict, item, v.site_id or "-", "\n".join(v.reasons), "\n".join(v.evidence)
        )
    return table


def verify(
    ctx: typer.Context,
    declaration_id: str = typer.Argument(..., help="Declaration id (see 'declare list')."),
    min_observations: int = typer.Option(
        _DEFAULTS.min_removal_observations,
        "--min-observations",
        help="Dismantlement is verified by removal seen on at least this many dates.",
    ),
    lookback_days: int = typer.Option(
        _DEFAULTS.lookback_days,
        "--lookback-days",
        help="Activity this many days before the declaration makes an omitted site undeclared.",
    ),
    min_change_m2: float = typer.Option(
        _DEFAULTS.min_changed_area_m2,
        "--min-change-m2",
        help="A detection run shows activity from this changed area (m2).",
    ),
    as_json: bool = json_option("Print the verdicts as a JSON list."),
) -> None:
    """Check a declaration against the catalog, assessments and detection runs.

    Exit status 0: nothing undeclared or contradicted; 5: something is.
    """
    parameters = VerifyParameters(
        min_removal_observations=min_observations,
        lookback_days=lookback_days,
        min_changed_area_m2=min_change_m2,
    )
    with workspace_from(ctx) as workspace, workspace.session() as session:
        result = verify_declaration(session, declaration_id, parameters)
    if as_json:
        print_json([v.as_dict() for v in result.verdicts])
    else:
        counts = ", ".join(f"{n} {name}" for name, n in sorted(result.summary.items()))
        console.print(verdict_table(result.verdicts, f"verification {result.verification_id}"))
        console.print(f"{declaration_id}: {counts}", highlight=False)
    if result.has_findings:
        raise typer.Exit(ExitCode.FINDINGS)
