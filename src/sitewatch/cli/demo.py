"""``sitewatch demo [DIR] [--real PATH]``: everything that exists, end to end."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from sitewatch.cli.common import console
from sitewatch.demo.runner import run_demo


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
        console.print(f"[bold cyan]{step:>13}[/]  {detail}", highlight=False)

    result = run_demo(directory, real=real, report=report)
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
