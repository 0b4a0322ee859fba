"""Entry point: ``sitewatch [--workspace DIR] COMMAND ...``."""

from __future__ import annotations

from pathlib import Path

import typer

from sitewatch import __version__
from sitewatch.cli import assess as assess_cli
from sitewatch.cli import candidates as candidates_cli
from sitewatch.cli import chips as chips_cli
from sitewatch.cli import declare as declare_cli
from sitewatch.cli import demo as demo_cli
from sitewatch.cli import detect as detect_cli
from sitewatch.cli import imagery as imagery_cli
from sitewatch.cli import keys as keys_cli
from sitewatch.cli import ledger as ledger_cli
from sitewatch.cli import model as model_cli
from sitewatch.cli import scan as scan_cli
from sitewatch.cli import sites as sites_cli
from sitewatch.cli import timeline as timeline_cli
from sitewatch.cli import verify as verify_cli
from sitewatch.cli.common import CliState, SitewatchGroup, console, workspace_from
from sitewatch.db.engine import current_revision, upgrade_database
from sitewatch.workspace import init_workspace, open_workspace

app = typer.Typer(
    cls=SitewatchGroup,
    help="sitewatch: find, watch and verify military sites from satellite imagery.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(sites_cli.app, name="sites")
app.add_typer(imagery_cli.app, name="imagery")
app.command("chips")(chips_cli.chips)
app.command("detect-pair")(detect_cli.detect_pair)
app.command("detect")(detect_cli.detect)
app.add_typer(detect_cli.runs_app, name="runs")
app.add_typer(model_cli.app, name="model")
app.command("timeline")(timeline_cli.timeline)
app.command("scan")(scan_cli.scan)
app.command("scans")(scan_cli.scans)
app.command("scan-tiles")(scan_cli.scan_tiles)
app.add_typer(candidates_cli.candidates_app, name="candidates")
app.add_typer(keys_cli.keys_app, name="keys")
app.add_typer(declare_cli.declare_app, name="declare")
app.command("assess")(assess_cli.assess)
app.command("assessments")(assess_cli.assessments)
app.command("verify")(verify_cli.verify)
app.add_typer(ledger_cli.ledger_app, name="ledger")
app.command("demo")(demo_cli.demo)


def _version(value: bool) -> None:
    if value:
        console.print(f"sitewatch {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    workspace: Path | None = typer.Option(
        None,
        "--workspace",
        "-w",
        help="Workspace folder (default: $SITEWATCH_WORKSPACE, else cwd and its parents).",
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    ctx.obj = CliState(workspace=workspace)


@app.command()
def init(
    directory: Path = typer.Argument(Path("."), help="Folder to create the workspace in."),
    name: str | None = typer.Option(None, help="Workspace name (default: the folder name)."),
) -> None:
    """Create a workspace: sitewatch.toml, a SQLite database (WAL) and products/."""
    with init_workspace(directory, name=name) as workspace:
        console.print(f"workspace ready: {workspace.root}")
        console.print(f"database: {workspace.database_url}")


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Bring the workspace database to the newest schema (Alembic migrations)."""
    state = ctx.find_object(CliState)
    with open_workspace(state.workspace if state else None, check=False) as workspace:
        before = current_revision(workspace.engine)
        after = upgrade_database(workspace.engine)
        console.print(f"schema: {before or 'empty'} -> {after}")


@db_app.command("status")
def db_status(ctx: typer.Context) -> None:
    """Show the database URL and schema revision."""
    with workspace_from(ctx) as workspace:
        console.print(f"database: {workspace.database_url}")
        console.print(f"schema: {current_revision(workspace.engine)}")


def run() -> None:
    """Console-script entry point."""
    app()
