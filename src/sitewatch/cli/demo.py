"""``sitewatch demo``: everything that exists, end to end, on data that ships with the package."""

from __future__ import annotations

import typer


def demo(ctx: typer.Context) -> None:
    """Build a workspace and run the whole pipeline on a synthetic site with known truth."""
    raise NotImplementedError
