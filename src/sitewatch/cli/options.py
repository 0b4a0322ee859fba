"""The options several commands share, declared once (as ``rasterio/rio/options.py`` does).

Each factory returns a fresh ``typer.Option`` so a command can say what the option means
for it in ``help`` while the flag, its default and its type stay the same everywhere:
``--json`` is always a flag, ``--from``/``--to`` always text parsed by
:mod:`sitewatch.imagery.dates`, ``--bands`` by :func:`sitewatch.imagery.stack.parse_bands`.
The parsers themselves live in the service layer, where the web routes call them too.

This module imports typer only: ``cli/main.py`` loads a command's module when it runs, and
``--help``/``--version`` must not pay for numpy, rasterio or the database
(tests/cli/test_main.py).
"""

from __future__ import annotations

from typing import Any

import typer


def json_option(help: str = "Print JSON.") -> Any:
    """``--json``: print machine-readable JSON instead of text or a table."""
    return typer.Option(False, "--json", help=help)


def out_folder_option(help: str) -> Any:
    """``--out``/``-o``: a required folder the command writes its products to."""
    return typer.Option(..., "--out", "-o", help=help)


def optional_out_option(help: str) -> Any:
    """``--out``: where to write, when the command has a default place (or stdout)."""
    return typer.Option(None, "--out", help=help)


def from_option(help: str = "First date, YYYY-MM-DD (inclusive).") -> Any:
    """``--from``: the start of a period, parsed by :mod:`sitewatch.imagery.dates`."""
    return typer.Option(None, "--from", help=help)


def to_option(help: str = "Last date, YYYY-MM-DD (inclusive).") -> Any:
    """``--to``: the end of a period; a bare date includes that whole day."""
    return typer.Option(None, "--to", help=help)


def buffer_option(help: str) -> Any:
    """``--buffer``: metres around a site (:func:`sitewatch.catalog.aoi.check_buffer`)."""
    return typer.Option(None, "--buffer", help=help)


def bands_option(help: str = "Comma-separated bands (default: B02,B03,B04,B08 for S2).") -> Any:
    """``--bands``: band names, parsed by :func:`sitewatch.imagery.stack.parse_bands`."""
    return typer.Option(None, "--bands", help=help)


def threshold_option(help: str) -> Any:
    """``--threshold``: a score cut, checked by the method policy (:mod:`analysis.methods`)."""
    return typer.Option(None, "--threshold", help=help)


def limit_option(help: str, default: int | None = None) -> Any:
    """``--limit``: at most this many rows (checked against :data:`limits.ROW_LIMIT`)."""
    return typer.Option(default, "--limit", help=help)


def keep_vegetation_option() -> Any:
    """``--keep-vegetation``: keep vegetation-phase change objects instead of leaving them
    out (:mod:`sitewatch.analysis.vegetation`); the same flag and help for a detection run
    and a scan, which apply the same rule."""
    return typer.Option(
        False,
        "--keep-vegetation",
        help="Keep vegetation-phase change (crops, harvests, leaf fall; NDVI of both dates) "
        "as objects classed 'vegetation'. By default it is left out of the objects (and of "
        "a detection run's mask); without bands B04 and B08 the test is skipped and the "
        "summary says so.",
    )


def keep_water_option() -> Any:
    """``--keep-water``: keep changed pixels that are open water on both dates instead of
    leaving them out (:mod:`sitewatch.analysis.water`); one flag for detection and scan."""
    return typer.Option(
        False,
        "--keep-water",
        help="Keep change on pixels that are open water on both dates (sea colour, "
        "turbidity, glint; NDWI of both dates). By default it is left out and counted; "
        "water that became land, or land water, always stays. Without bands B03 and B08 "
        "the test is skipped and the summary says so.",
    )
