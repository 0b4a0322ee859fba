"""The scan commands on a small app of their own, as cli/main.py will wire them.

Used in-process by CliRunner and as ``python -m tests.scan.cli_app`` by the kill test.
"""

from __future__ import annotations

from pathlib import Path

import typer

from sitewatch.cli import scan as scan_cli
from sitewatch.cli.common import CliState, SitewatchGroup

app = typer.Typer(cls=SitewatchGroup, pretty_exceptions_enable=False, add_completion=False)
app.command("scan")(scan_cli.scan)
app.command("scans")(scan_cli.scans)


@app.callback()
def main(ctx: typer.Context, workspace: Path | None = typer.Option(None, "--workspace")) -> None:
    ctx.obj = CliState(workspace=workspace)


if __name__ == "__main__":
    app()
