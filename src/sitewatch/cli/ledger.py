"""``sitewatch ledger``: list and verify the evidence ledger; export and check packages."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import typer
from rich.table import Table

from sitewatch.cli.common import console, print_json, say_on_stderr, workspace_from
from sitewatch.cli.options import json_option, limit_option
from sitewatch.errors import ExitCode
from sitewatch.evidence.audit import verify_workspace
from sitewatch.evidence.head import read_expected_head, sign_head, write_head
from sitewatch.evidence.ledger import Problem, entry_summary, list_entries
from sitewatch.evidence.package import export_package
from sitewatch.evidence.package_check import verify_package
from sitewatch.files import existing_input

ledger_app = typer.Typer(help="The signed evidence ledger.", no_args_is_help=True)
_JSON = json_option("Print the result as JSON.")


@ledger_app.command("list")
def ledger_list(
    ctx: typer.Context,
    site: str | None = typer.Option(None, "--site", help="Only entries about this site."),
    limit: int | None = limit_option("At most this many entries."),
    as_json: bool = _JSON,
) -> None:
    """Entries in chain order: seq, time, kind, site, subject, author."""
    with workspace_from(ctx, read_only=True) as workspace, workspace.session() as session:
        rows = [entry_summary(entry) for entry in list_entries(session, site_id=site, limit=limit)]
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
    expect_head: str | None = typer.Option(
        None,
        "--expect-head",
        help="A published head: its hash, or a file from 'ledger head --out'. "
        "Fails when the ledger no longer holds it (entries cut off or rewritten).",
    ),
    as_json: bool = _JSON,
) -> None:
    """Re-check every entry (chain, hashes, signatures, files) and the tables they vouch for.

    Opens the workspace read-only: a write-protected copy can be checked, and nothing in
    the folder changes. Exits 6 (verification failed) and names the first bad entry when
    anything does not match.
    """
    expected = read_expected_head(expect_head) if expect_head is not None else None
    with workspace_from(ctx, read_only=True) as workspace:
        report = verify_workspace(workspace, check_files=not skip_files, expect_head=expected)
    if as_json:
        print_json(report.as_dict())
    elif report.ok:
        published = (
            f"; published head {report.expected_head['hash']} found" if report.expected_head else ""
        )
        console.print(
            f"ledger ok: {report.entries} entries, {report.files_checked} files checked, "
            f"{report.rows_checked} table rows agree with them; head {report.head_seq} "
            f"{report.head_hash}{published}"
        )
    else:
        _print_problems(report.problems)
    if not report.ok:
        raise typer.Exit(ExitCode.VERIFICATION_FAILED)


@ledger_app.command("head")
def ledger_head(
    ctx: typer.Context,
    out: Path | None = typer.Option(
        None, "--out", help="Write the signed head here (JSON), to publish elsewhere."
    ),
    analyst: str | None = typer.Option(
        None, "--analyst", help="Sign as this analyst (default: $SITEWATCH_ANALYST or workspace)."
    ),
    as_json: bool = _JSON,
) -> None:
    """The ledger's newest entry (seq and hash), signed: publish it to pin the ledger.

    Later, 'ledger verify --expect-head FILE' fails if any entry up to it was cut off or
    rewritten.
    """
    with workspace_from(ctx) as workspace:
        document = sign_head(workspace, analyst)
    written = write_head(document, out) if out is not None else None
    if as_json:
        print_json(document)
        return
    console.print(
        f"head {document['seq']} {document['hash']} signed by {document['signer']} "
        f"(key fingerprint {document['fingerprint']})" + (f"; wrote {written}" if written else "")
    )


@ledger_app.command("export")
def ledger_export(
    ctx: typer.Context,
    site: str = typer.Option(..., "--site", help="The site whose evidence to export."),
    out: Path = typer.Option(..., "--out", help="The package to write (a .zip)."),
    analyst: str | None = typer.Option(
        None,
        "--analyst",
        help="Sign the manifest as this analyst (default: $SITEWATCH_ANALYST or workspace).",
    ),
    as_json: bool = _JSON,
) -> None:
    """Write an evidence package: the site's entries, their files, public keys, a README,
    and a manifest of every member signed by the exporter."""
    with workspace_from(ctx) as workspace:
        summary = export_package(workspace, site, out, author=analyst)
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
    trust: list[str] = typer.Option(
        [],
        "--trust",
        help="A key fingerprint you trust (repeat for each analyst and the exporter); "
        "a key outside them fails the check.",
    ),
    as_json: bool = _JSON,
) -> None:
    """Check a package without any workspace: members, signed manifest, hashes, signatures,
    files, chain links, and (with --trust) whose keys signed it."""
    report = verify_package(package, trusted=trust)
    if not report.keys_pinned and report.ok:
        say_on_stderr(
            "warning: keys not pinned: "
            + ", ".join(f"{name} {value}" for name, value in sorted(report.untrusted_keys.items()))
            + " are the package's own keys; anyone can sign a package with keys of these "
            "names. Compare them with fingerprints published by their owners and pass each "
            "as --trust."
        )
    if as_json:
        print_json(report.as_dict())
    elif report.ok:
        console.print(
            f"package ok: site {report.site_id}, {report.entries} entries, "
            f"{report.files_checked} files checked; chain head {report.head_seq} {report.head_hash}"
        )
        for name, value in sorted(report.analysts.items()):
            console.print(f"signed by {name}: key fingerprint {value}")
        if report.exporter:
            console.print(
                f"exported by {report.exporter['name']}: key fingerprint "
                f"{report.exporter['fingerprint']}"
            )
    else:
        _print_problems(report.problems)
    if not report.ok:
        raise typer.Exit(ExitCode.VERIFICATION_FAILED)


@ledger_app.command("verify-report")
def ledger_verify_report(
    ctx: typer.Context,
    report: Path = typer.Argument(..., help="A report PDF written by 'sitewatch report'."),
    receipt: Path | None = typer.Option(
        None, "--receipt", help="Its receipt (default: REPORT.receipt.json beside it, if any)."
    ),
    in_workspace: bool = typer.Option(
        False,
        "--in-workspace",
        help="Also check against this workspace's ledger (give it with --workspace or "
        "$SITEWATCH_WORKSPACE): every entry of the slice, and a report entry of this file.",
    ),
    as_json: bool = _JSON,
) -> None:
    """Check a report offline: its attached ledger slice (hashes, signatures, links up to
    the signed head) and, with its receipt, that its bytes are the ones recorded."""
    from sitewatch.evidence.report_record import verify_report

    if in_workspace:
        with workspace_from(ctx, read_only=True) as workspace:
            check = verify_report(existing_input(report), receipt=receipt, workspace=workspace)
    else:
        check = verify_report(existing_input(report), receipt=receipt)
    if as_json:
        print_json(check.as_dict())
    elif check.ok:
        console.print(
            f"report ok: {check.entries} entries checked up to the signed head "
            f"{check.head_seq} {check.head_hash} (signed by {check.signer})",
            highlight=False,
        )
        if check.recorded_in is not None:
            console.print(
                f"its SHA-256 {check.sha256} is recorded in ledger entry {check.recorded_in}",
                highlight=False,
            )
        else:
            say_on_stderr(
                "warning: the file's own bytes were not checked: no receipt beside it "
                "(REPORT.receipt.json) and no --in-workspace"
            )
        for name, value in sorted(check.fingerprints.items()):
            console.print(f"key of {name}: fingerprint {value}", highlight=False)
    else:
        _print_problems(check.problems)
    if not check.ok:
        raise typer.Exit(ExitCode.VERIFICATION_FAILED)


def _print_problems(problems: list[Problem]) -> None:
    """The first bad entry as the usual one-line error, then how many more there are."""
    say_on_stderr(f"error: {problems[0]}")
    if len(problems) > 1:
        say_on_stderr(f"({len(problems) - 1} more problems after it)")
