"""``sitewatch keys``: analysts' signing keys."""

from __future__ import annotations

import typer
from rich.table import Table

from sitewatch.cli.common import add_whole_column, console, print_json, workspace_from
from sitewatch.cli.options import json_option
from sitewatch.evidence.keys import create_key, keys_dir, list_analysts

keys_app = typer.Typer(help="Analysts' Ed25519 signing keys.", no_args_is_help=True)


@keys_app.command("create")
def keys_create(
    ctx: typer.Context,
    name: str = typer.Option(..., "--name", help="Analyst name (letters, digits, . _ -)."),
    as_json: bool = json_option("Print the result as JSON."),
) -> None:
    """Create an analyst: a key pair, the private half in the workspace's keys/ folder."""
    with workspace_from(ctx) as workspace:
        analyst = create_key(workspace, name)
        path = keys_dir(workspace) / f"{name}.pem"
    if as_json:
        print_json({"name": analyst.name, "fingerprint": analyst.fingerprint, "key": str(path)})
        return
    console.print(f"analyst {analyst.name}: fingerprint {analyst.fingerprint}")
    console.print(f"private key: {path} (keep it secret; publish the fingerprint)")


@keys_app.command("list")
def keys_list(
    ctx: typer.Context,
    as_json: bool = json_option("Print the analysts as JSON."),
) -> None:
    """Registered analysts and their public key fingerprints."""
    with workspace_from(ctx) as workspace:
        folder = keys_dir(workspace)
        with workspace.session() as session:
            rows = [
                {
                    "name": analyst.name,
                    "fingerprint": analyst.fingerprint,
                    "created_at": analyst.created_at.isoformat(),
                    "private_key_here": (folder / f"{analyst.name}.pem").is_file(),
                }
                for analyst in list_analysts(session)
            ]
    if as_json:
        print_json(rows)
        return
    table = Table()
    table.add_column("name", overflow="fold")
    add_whole_column(table, "fingerprint", [row["fingerprint"] for row in rows])
    table.add_column("created", no_wrap=True)
    table.add_column("private key here")
    for row in rows:
        table.add_row(
            row["name"],
            row["fingerprint"],
            row["created_at"][:19],
            "yes" if row["private_key_here"] else "no",
        )
    console.print(table)
