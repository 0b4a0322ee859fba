"""``sitewatch init`` and ``sitewatch db``: create a workspace, manage its schema."""

from __future__ import annotations

from pathlib import Path

import typer

from sitewatch.cli.common import CliState, console, workspace_from
from sitewatch.db.engine import current_revision
from sitewatch.db.migrate import upgrade_database
from sitewatch.workspace import init_workspace, open_workspace

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)


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
