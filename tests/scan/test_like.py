"""Exemplars of a "find more like this" scan, described from their site stacks."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pytest
from shapely.geometry import shape

from sitewatch.analysis.appearance import appearance_features
from sitewatch.errors import InputError, NotFoundError
from sitewatch.imagery.stack import load_site_stack
from sitewatch.scan.like import exemplar_features
from sitewatch.workspace import Workspace
from tests.conftest import shared_data
from tests.imagery.scene_rows import add_oscd_scene, add_point_site

BANDS = ["B02", "B03", "B04", "B08"]


def test_exemplar_features_describe_the_latest_date(workspace: Workspace) -> None:
    folder = shared_data("oscd", "images", "paris")
    footprint = shape(json.loads((folder / "paris.geojson").read_text())["features"][0]["geometry"])
    with workspace.session() as session:
        add_oscd_scene(
            session, folder / "imgs_1", "paris-1", datetime(2016, 11, 30, tzinfo=UTC), footprint
        )
        add_oscd_scene(
            session, folder / "imgs_2", "paris-2", datetime(2018, 3, 1, tzinfo=UTC), footprint
        )
        add_point_site(session, "paris-base", 2.333, 48.821, uncertainty_m=400)
    features = exemplar_features(
        workspace, ["paris-base", "paris-base"], bands=BANDS, resolution=10
    )
    stack = load_site_stack(workspace, "paris-base", bands=BANDS, resolution=10)
    assert features.shape == (1, 17)
    np.testing.assert_allclose(features[0], appearance_features(stack.values[-1], BANDS))
    assert not np.allclose(features[0], appearance_features(stack.values[0], BANDS))
    before_2017 = exemplar_features(
        workspace, ["paris-base"], bands=BANDS, resolution=10, end=datetime(2017, 1, 1)
    )
    np.testing.assert_allclose(before_2017[0], appearance_features(stack.values[0], BANDS))
    with pytest.raises(NotFoundError, match="nowhere"):
        exemplar_features(workspace, ["nowhere"], bands=BANDS)
    with pytest.raises(InputError, match="at least one"):
        exemplar_features(workspace, [], bands=BANDS)
