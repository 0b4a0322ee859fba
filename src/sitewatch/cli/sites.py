"""``sitewatch sites ...``: the site catalog."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="The site catalog: add, list, show, edit, remove, import, export.", no_args_is_help=True
)
