"""``sitewatch demo [DIR] [--real PATH]``: everything that exists, end to end."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import typer
from rich.table import Table
from rich.text import Text

from sitewatch.cli.common import console
from sitewatch.demo.runner import DemoResult, run_demo
from sitewatch.text import escape_unsafe
from sitewatch.workspace import open_workspace


def demo(
    directory: Path = typer.Argument(
        Path("sitewatch-demo"), help="Workspace folder to build (reused when it exists)."
    ),
    real: Path | None = typer.Option(
        None,
        "--real",
        help="Real imagery instead of the synthetic pair: an OSCD city folder (imgs_1, "
        "imgs_2), the OSCD root (uses paris), or a folder of scenes.",
    ),
) -> None:
    """Build a workspace and run the whole pipeline (offline; synthetic data unless --real)."""

    def report(step: str, detail: str) -> None:
        console.print(Text.assemble((f"{step:>13}", "bold cyan"), f"  {escape_unsafe(detail)}"))

    result = run_demo(directory, real=real, report=report)
    _write_reports(result, report)
    if result.verdicts:
        console.print(_verdict_table(result.verdicts, result.declaration_id))
    table = Table(title="demo outputs", show_lines=False)
    table.add_column("what")
    table.add_column("where", overflow="fold")
    table.add_row("workspace", str(result.workspace))
    for what, where in result.outputs.items():
        table.add_row(what, str(where))
    console.print(table)
    console.print(
        f"Next: cd {result.workspace} && sitewatch sites list && "
        f"sitewatch imagery list --site {result.site_id}",
        highlight=False,
    )
    console.print(
        "The workbench: sitewatch users add NAME --role analyst && "
        "sitewatch keys create --name NAME && sitewatch serve (then open the printed URL)",
        highlight=False,
    )


def _write_reports(result: DemoResult, report: Callable[[str, str], None]) -> None:
    """The demo site's dossier and the sample declaration's report, HTML and PDF.

    Here rather than in :func:`run_demo`: reports are a presentation layer, which the
    demo's services may not import (docs/architecture.md)."""
    from sitewatch.reports.declaration import report_declaration
    from sitewatch.reports.site import report_site

    with open_workspace(result.workspace) as workspace:
        dossier = report_site(workspace, result.site_id, pdf=True)
        report(
            "report",
            f"dossier of {result.site_id}: {dossier.pdf} (ledger entry {dossier.entry_seq})",
        )
        result.outputs["dossier (html)"] = dossier.html
        result.outputs["dossier (pdf)"] = dossier.pdf  # type: ignore[assignment]
        if result.declaration_id:
            declared = report_declaration(workspace, result.declaration_id, pdf=True)
            report(
                "report",
                f"declaration {result.declaration_id}: {declared.pdf} "
                f"(ledger entry {declared.entry_seq})",
            )
            result.outputs["declaration report (pdf)"] = declared.pdf  # type: ignore[assignment]


def _verdict_table(verdicts: list[dict[str, object]], declaration_id: str | None) -> Table:
    """The sample declaration's verdicts, one row each (reasons: ``sitewatch verify``)."""
    table = Table(title=f"verification of {declaration_id}")
    for column in ("verdict", "item", "site", "evidence"):
        table.add_column(column, overflow="fold")
    for verdict in verdicts:
        index, name = verdict["item_index"], verdict.get("item_name")
        table.add_row(
            str(verdict["verdict"]),
            "-" if index is None else f"{index}: {name}",
            str(verdict["site_id"] or "-"),
            ", ".join(map(str, verdict["evidence"])) or "-",
        )
    return table
