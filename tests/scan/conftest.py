from __future__ import annotations

from pathlib import Path

import pytest

from sitewatch.workspace import Workspace
from tests.scan import synthetic


@pytest.fixture
def scan_workspace(workspace: Workspace, tmp_path: Path) -> Workspace:
    """A workspace holding the synthetic catalog of :mod:`tests.scan.synthetic`."""
    synthetic.build_catalog(workspace, tmp_path / "imagery")
    return workspace
