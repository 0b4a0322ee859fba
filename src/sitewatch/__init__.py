"""sitewatch: find, watch and verify military sites from satellite imagery.

The Python API mirrors the CLI: the names below are the service functions behind the
most used commands (the rest live in their packages: ``sitewatch.scan``,
``sitewatch.verify``, ``sitewatch.evidence``...), so scripts and notebooks get the same
behaviour as ``sitewatch ...``. Every name but the errors is imported on first use, so
``import sitewatch`` (and with it ``sitewatch --version``) loads no database or raster code.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from sitewatch.errors import (
    ConflictError,
    InputError,
    NotFoundError,
    SitewatchError,
    WorkspaceError,
)

#: The one place the version is written; pyproject.toml reads it (setuptools ``attr:``),
#: so ``sitewatch --version`` needs no package-metadata lookup (``importlib.metadata``
#: and the e-mail parser it imports; see benchmarks/results/cli_startup.json).
__version__ = "0.1.0"

# Public name -> module that defines it, imported when the name is first used.
_LAZY = {
    "Workspace": "sitewatch.workspace",
    "init_workspace": "sitewatch.workspace",
    "open_workspace": "sitewatch.workspace",
    "SiteRecord": "sitewatch.catalog.records",
    "SourceRecord": "sitewatch.catalog.records",
    "add_site": "sitewatch.catalog.sites",
    "get_site": "sitewatch.catalog.sites",
    "list_sites": "sitewatch.catalog.sites",
    "import_sites": "sitewatch.catalog.sites",
    "read_sites": "sitewatch.catalog.formats",
    "write_sites": "sitewatch.catalog.formats",
    "load_reference": "sitewatch.catalog.reference",
    "country_outline": "sitewatch.catalog.reference",
    "add_scenes": "sitewatch.imagery.ingest",
    "find_scenes": "sitewatch.imagery.search",
    "export_stac": "sitewatch.imagery.stac",
    "add_stac": "sitewatch.imagery.stac",
    "load_site_stack": "sitewatch.imagery.stack",
    "write_site_chips": "sitewatch.imagery.chips",
    "site_timeline": "sitewatch.timeline.service",
    "write_timeline": "sitewatch.timeline.service",
    "write_synthetic_pair": "sitewatch.demo.synthetic",
    "run_demo": "sitewatch.demo.runner",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'sitewatch' has no attribute {name!r}")


__all__ = [
    "ConflictError",
    "InputError",
    "NotFoundError",
    "SitewatchError",
    "WorkspaceError",
    "__version__",
    *_LAZY,
]
