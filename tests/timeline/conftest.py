"""One ingested NDVI workspace per test module: ingesting 68 dates takes a few seconds."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sitewatch.workspace import Workspace, init_workspace
from tests.timeline.ndvi_scenes import NdviSeries, load_ndvi_series, ndvi_workspace


@pytest.fixture(scope="module")
def ndvi(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, NdviSeries]]:
    """(workspace holding the 68 NDVI dates and the site, the source arrays)."""
    load_ndvi_series()  # skips with a reason before any work when the data is absent
    root = tmp_path_factory.mktemp("ndvi")
    with init_workspace(root / "ws") as workspace:
        yield workspace, ndvi_workspace(workspace, root / "files")
