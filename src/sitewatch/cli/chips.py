"""``sitewatch chips SITE --out DIR``: per-date quicklooks and COGs of a site."""

from __future__ import annotations

import typer


def chips(ctx: typer.Context) -> None:
    """Write per-date quicklook PNGs and COGs for a site."""
    raise NotImplementedError
