"""``sitewatch imagery ...``: the imagery catalog."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="The imagery catalog: add files or STAC items, list, export STAC.", no_args_is_help=True
)
