"""sitewatch: find, watch and verify military sites from satellite imagery.

The Python API mirrors the CLI: every command calls one of the service functions
re-exported here, so scripts and notebooks get the same behaviour as ``sitewatch ...``.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

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

__all__ = [
    "ConflictError",
    "InputError",
    "NotFoundError",
    "SitewatchError",
    "Workspace",
    "WorkspaceError",
    "__version__",
    "init_workspace",
    "open_workspace",
]
