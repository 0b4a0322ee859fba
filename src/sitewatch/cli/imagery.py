"""``sitewatch imagery ...`` and ``sitewatch chips``: scenes and site quicklooks."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="The imagery catalog: add files or STAC items, list, export STAC.", no_args_is_help=True
)


def chips(ctx: typer.Context) -> None:
    """Write per-date quicklook PNGs and COGs for a site."""
    raise NotImplementedError
