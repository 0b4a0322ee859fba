from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from distributed import Client

from sitewatch.workspace import Workspace
from tests.scan import synthetic


@pytest.fixture
def scan_workspace(workspace: Workspace, tmp_path: Path) -> Workspace:
    """A workspace holding the synthetic catalog of :mod:`tests.scan.synthetic`."""
    synthetic.build_catalog(workspace, tmp_path / "imagery")
    return workspace


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    """An in-process Dask cluster (one thread): the task code is the same as on workers."""
    with Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None) as c:
        yield c
