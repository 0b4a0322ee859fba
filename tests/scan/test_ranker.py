"""The ``ranker`` tile score in a scan: the shipped model and the task that uses it."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from shapely.geometry import Point

from sitewatch.analysis import tile_ranker
from sitewatch.errors import InputError
from sitewatch.scan import ranker, tasks, tile_scores
from sitewatch.scan.runner import prepare_scan
from sitewatch.workspace import Workspace
from tests.analysis.test_tile_ranker import BANDS, SIZE, construction_tile, features
from tests.scan import synthetic


def test_the_shipped_model_loads_and_ranks_construction_above_no_change() -> None:
    model = ranker.load_ranker()
    assert set(model.features) <= set(tile_ranker.FEATURE_NAMES)
    assert len(model.coefficients) == len(model.features) == len(model.mean) == len(model.sd)
    before, after, changed = construction_tile()
    built = model.probability(np.array(list(features(before, after, changed).values())))
    still = np.zeros((SIZE, SIZE), bool)
    quiet = model.probability(np.array(list(features(before, before.copy(), still).values())))
    assert 0.0 < quiet < built < 1.0


def test_a_model_file_with_unknown_features_is_refused(tmp_path) -> None:
    path = tmp_path / "model.json"
    path.write_text(
        '{"features": ["shadow"], "standardisation": {"mean": [0], "sd": [1]},'
        ' "coefficients": [1], "intercept": 0}'
    )
    with pytest.raises(InputError, match="shadow"):
        ranker.load_ranker(str(path))


def test_the_scan_task_ranks_the_changed_tile_first(scan_workspace: Workspace) -> None:
    plan = prepare_scan(scan_workspace, synthetic.scan_request(tile_score="ranker"))
    results = {}
    for tile in plan.tiles:
        task = plan.task_for(tile, tile.lonlat_outline())
        if task.before and task.after:
            results[tile] = tasks.scan_tile(task, plan.settings)
    assert {result.status for result in results.values()} == {"done"}
    best = max(results, key=lambda tile: results[tile].score)
    lon, lat = synthetic.change_centre()
    assert best.lonlat_outline().contains(Point(lon, lat))
    assert all(0.0 < result.score < 1.0 for result in results.values())
    # irmad scores are not what the ranker was fitted on: the task refuses to rank them
    irmad = dataclasses.replace(plan.settings, method="irmad")
    refused = tasks.scan_tile(plan.task_for(best, best.lonlat_outline()), irmad)
    assert refused.status == "failed" and "fitted on cva" in refused.message


def test_default_tile_score_is_the_ranker_only_where_it_applies() -> None:
    assert tile_scores.default_tile_score("cva", BANDS) == "ranker"
    assert tile_scores.default_tile_score("irmad", BANDS) == "changed"
    assert tile_scores.default_tile_score("siamese", [*BANDS, "B05", "B11"]) == "changed"
    assert tile_scores.default_tile_score("cva", ["B04", "B03", "B02"]) == "changed"
    tile_scores.check_tile_score("ranker", "cva", BANDS)
    with pytest.raises(InputError, match="--tile-score: the ranker tile score was fitted on cva"):
        tile_scores.check_tile_score("ranker", "siamese", BANDS)
    with pytest.raises(InputError, match="unknown tile score 'mean'"):
        tile_scores.check_tile_score("mean", "cva", BANDS)
