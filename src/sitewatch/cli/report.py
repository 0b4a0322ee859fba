"""``sitewatch report``: a site's dossier or a declaration's report, as HTML and PDF."""

from __future__ import annotations

from pathlib import Path

import typer

from sitewatch.cli.common import console, print_json, workspace_from
from sitewatch.cli.options import json_option, optional_out_option
from sitewatch.reports.render import ReportFiles

report_app = typer.Typer(
    help="Reports: a site's dossier, a declaration's reconciliation (HTML and PDF).",
    no_args_is_help=True,
)
_ANALYST = typer.Option(
    None, "--analyst", help="Sign as this analyst (default: $SITEWATCH_ANALYST or workspace)."
)
_PDF = typer.Option(False, "--pdf", help="Also write the PDF, with its ledger slice attached.")
_JSON = json_option("Print the files written and the ledger entry as JSON.")


@report_app.command("site")
def report_site_command(
    ctx: typer.Context,
    site: str = typer.Argument(..., help="Site id."),
    out: Path | None = optional_out_option("Folder to write to (default: products/reports/SITE)."),
    pdf: bool = _PDF,
    analyst: str | None = _ANALYST,
    as_json: bool = _JSON,
) -> None:
    """A site's dossier: site card, locator map, dated plates, chronology, timeline,
    assessments, verdicts and the evidence appendix; recorded in the ledger."""
    from sitewatch.reports.site import report_site

    with workspace_from(ctx) as workspace:
        files = report_site(workspace, site, out=out, pdf=pdf, analyst=analyst)
    _print(files, as_json)


@report_app.command("declaration")
def report_declaration_command(
    ctx: typer.Context,
    declaration: str = typer.Argument(..., help="Declaration id (see 'sitewatch declare list')."),
    out: Path | None = optional_out_option(
        "Folder to write to (default: products/reports/DECLARATION)."
    ),
    pdf: bool = _PDF,
    analyst: str | None = _ANALYST,
    as_json: bool = _JSON,
) -> None:
    """A declaration's report: map by verdict, reconciliation table, counts and a section
    per problem site; recorded in the ledger."""
    from sitewatch.reports.declaration import report_declaration

    with workspace_from(ctx) as workspace:
        files = report_declaration(workspace, declaration, out=out, pdf=pdf, analyst=analyst)
    _print(files, as_json)


@report_app.command("scan")
def report_scan_command(
    ctx: typer.Context,
    scan: str = typer.Argument(..., help="Scan id (see 'sitewatch scans')."),
    top: int = typer.Option(10, "--top", help="The best this many candidates (by score)."),
    out: Path | None = optional_out_option("Folder to write to (default: products/reports/SCAN)."),
    pdf: bool = _PDF,
    analyst: str | None = _ANALYST,
    as_json: bool = _JSON,
) -> None:
    """A scan's report: its best candidates with before/after chips, nearest known sites
    and triage status; recorded in the ledger."""
    from sitewatch.reports.scan import report_scan

    with workspace_from(ctx) as workspace:
        files = report_scan(workspace, scan, top=top, out=out, pdf=pdf, analyst=analyst)
    _print(files, as_json)


def _print(files: ReportFiles, as_json: bool) -> None:
    if as_json:
        print_json(files.as_dict())
        return
    for path in (files.html, files.pdf, files.receipt):
        if path is not None:
            console.print(f"wrote {path}", highlight=False)
    console.print(f"recorded as ledger entry {files.entry_seq} {files.entry_hash}", highlight=False)
