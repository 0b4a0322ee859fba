"""``sitewatch ledger``: list and verify the evidence ledger; export and check packages."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import typer
from rich.table import Table

from sitewatch.cli.common import console, print_json, workspace_from
from sitewatch.errors import ExitCode
from sitewatch.evidence.ledger import Problem, list_entries, verify_ledger
from sitewatch.evidence.package import export_package, verify_package

ledger_app = typer.Typer(help="The signed evidence ledger.", no_args_is_help=True)
_JSON = typer.Option(False, "--json", help="Print the result as JSON.")


@ledger_app.command("list")
def ledger_list(
    ctx: typer.Context,
    site: str | None = typer.Option(None, "--site", help="Only entries about this site."),
    limit: int | None = typer.Option(None, "--limit", help="At most this many entries."),
    as_json: bool = _JSON,
) -> None:
    """Entries in chain order: seq, time, kind, site, subject, author."""
    with workspace_from(ctx) as workspace, workspace.session() as session:
        rows = [
            {
                "seq": entry.seq,
                "created_at": entry.created_at.isoformat(),
                "kind": entry.kind,
                "site_id": entry.site_id,
                "subject_id": entry.subject_id,
                "author": entry.author,
                "files": len(entry.files or []),
                "entry_hash": entry.entry_hash,
                "payload": json.loads(entry.payload),
            }
            for entry in list_entries(session, site_id=site, limit=limit)
        ]
    if as_json:
        print_json(rows)
        return
    table = Table("seq", "time (UTC)", "kind", "site", "subject", "author", "files")
    for row in rows:
        table.add_row(
            str(row["seq"]),
            row["created_at"][:19],
            row["kind"],
            row["site_id"] or "",
            row["subject_id"] or "",
            row["author"],
            str(row["files"]),
        )
    console.print(table)


@ledger_app.command("verify")
def ledger_verify(
    ctx: typer.Context,
    skip_files: bool = typer.Option(
        False, "--skip-files", help="Check the chain and signatures only, not the files."
    ),
    as_json: bool = _JSON,
) -> None:
    """Re-check every entry: chain, hashes, signatures and referenced files.

    Exits 6 (verification failed) and names the first bad entry when anything does not match.
    """
    with workspace_from(ctx) as workspace:
        report = verify_ledger(workspace, check_files=not skip_files)
    if as_json:
        print_json(report.to_dict())
    elif report.ok:
        console.print(
            f"ledger ok: {report.entries} entries, {report.files_checked} files checked; "
            f"head {report.head_hash}"
        )
    else:
        _print_problems(report.problems)
    if not report.ok:
        raise typer.Exit(ExitCode.VERIFICATION_FAILED)


@ledger_app.command("export")
def ledger_export(
    ctx: typer.Context,
    site: str = typer.Option(..., "--site", help="The site whose evidence to export."),
    out: Path = typer.Option(..., "--out", help="The package to write (a .zip)."),
    as_json: bool = _JSON,
) -> None:
    """Write an evidence package: the site's entries, their files, public keys, a README."""
    with workspace_from(ctx) as workspace:
        summary = export_package(workspace, site, out)
    if as_json:
        print_json(asdict(summary))
        return
    console.print(
        f"wrote {summary.path}: {summary.entries} entries, {summary.files} files "
        f"({summary.bytes_of_files / 1e6:.1f} MB); "
        f"chain head {summary.head_seq} {summary.head_hash}"
    )


@ledger_app.command("verify-package")
def ledger_verify_package(
    package: Path = typer.Argument(..., help="An evidence package (.zip) to check offline."),
    as_json: bool = _JSON,
) -> None:
    """Check a package without any workspace: hashes, signatures, files, chain links."""
    report = verify_package(package)
    if as_json:
        print_json(report.to_dict())
    elif report.ok:
        console.print(
            f"package ok: site {report.site_id}, {report.entries} entries, "
            f"{report.files_checked} files checked; chain head {report.head_seq} {report.head_hash}"
        )
        for name, value in sorted(report.analysts.items()):
            console.print(f"signed by {name}: key fingerprint {value}")
    else:
        _print_problems(report.problems)
    if not report.ok:
        raise typer.Exit(ExitCode.VERIFICATION_FAILED)


def _print_problems(problems: list[Problem]) -> None:
    """The first bad entry as the usual one-line error, then how many more there are."""
    typer.echo(f"error: {problems[0]}", err=True)
    if len(problems) > 1:
        typer.echo(f"({len(problems) - 1} more problems after it)", err=True)
