"""sitewatch: find, watch and verify military sites from satellite imagery.

The Python API mirrors the CLI: every command calls one of the service functions
re-exported here, so scripts and notebooks get the same behaviour as ``sitewatch ...``.
Heavy parts (xarray, rasterio) are imported on first use, so ``import sitewatch`` and the
CLI start fast.
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from sitewatch.errors import (
    ConflictError,
    InputError,
    NotFoundError,
    SitewatchError,
    WorkspaceError,
)
from sitewatch.workspace import Workspace, init_workspace, open_workspace

try:
    __version__ = version("sitewatch")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

# Public name -> module that defines it, imported when the name is first used.
_LAZY = {
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
    "Workspace",
    "__version__",
    "init_workspace",
    "open_workspace",
    *_LAZY,
]
