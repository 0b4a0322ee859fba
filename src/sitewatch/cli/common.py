"""What every command shares: the workspace option, output helpers, error handling."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from typer.core import TyperGroup

from sitewatch.errors import SitewatchError
from sitewatch.workspace import Workspace, open_workspace

console = Console()
err_console = Console(stderr=True)


@dataclass
class CliState:
    """Options given before the subcommand, handed down through the click context."""

    workspace: Path | None = None


class SitewatchGroup(TyperGroup):
    """Turns a :class:`SitewatchError` anywhere below into one line and an exit code."""

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SitewatchError as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(error.exit_code) from None


def workspace_from(ctx: typer.Context) -> Workspace:
    """Open the workspace the user pointed at (or the one found from cwd)."""
    state = ctx.find_object(CliState)
    return open_workspace(state.workspace if state else None)


def print_json(data: Any) -> None:
    """Machine-readable output: plain JSON on stdout, no colour, no wrapping."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
