"""Grouping candidates into places, their features and the place model (pure)."""

from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import box

from sitewatch.analysis.places import (
    EDGE_ODDS_FACTOR,
    PLACE_FEATURES,
    PLACE_GAP_M,
    PlaceModel,
    group_places,
    listing_score,
    place_features,
)
from sitewatch.errors import InputError


def test_close_outlines_are_one_place_far_ones_are_not() -> None:
    outlines = np.array(
        [
            box(0, 0, 100, 100),
            box(100, 0, 200, 100),  # the other half of an object cut by a tile edge
            box(500, 0, 600, 100),  # far
            box(200 + PLACE_GAP_M - 1, 0, 300, 100),  # just within the gap of the second
            box(1000, 1000, 1010, 1010),
        ],
        dtype=object,
    )
    assert group_places(outlines).tolist() == [0, 0, 1, 0, 2]
    assert group_places(outlines, gap_m=0.0).tolist() == [0, 0, 1, 2, 3]
    assert group_places(np.array([], dtype=object)).tolist() == []
    with pytest.raises(InputError, match="gap_m"):
        group_places(outlines, gap_m=float("nan"))


def test_place_features_sum_areas_and_weight_scores_and_vegetation_by_area() -> None:
    features = place_features(
        np.array([0, 0, 1]),
        area_m2=np.array([1000.0, 3000.0, 100.0]),
        score=np.array([4.0, 8.0, 5.0]),
        max_score=np.array([6.0, 8.0, 7.0]),
        edge=np.array([False, True, False]),
        vegetation_share=np.array([1.0, 0.2, np.nan]),
    )
    assert features.shape == (2, len(PLACE_FEATURES))
    np.testing.assert_allclose(features[0], [np.log10(4000), 8.0, 7.0, np.log(2), 1.0, 0.4])
    # Not measured (no red or NIR band) counts as structural.
    np.testing.assert_allclose(features[1], [2.0, 7.0, 5.0, 0.0, 0.0, 0.0])


def test_a_place_touching_nodata_is_listed_at_lower_odds_whole_ones_keep_their_order() -> None:
    probability = np.array([0.9, 0.9, 0.5, 0.2, 0.0, 1.0])
    edge = np.array([False, True, True, False, True, True])
    listed = listing_score(probability, edge)
    assert listed[0] == 0.9 and listed[3] == 0.2  # whole places: the probability itself
    odds = listed[1] / (1 - listed[1])
    assert odds == pytest.approx(EDGE_ODDS_FACTOR * 0.9 / 0.1)
    assert listed[0] > listed[1] > listed[2] > listed[3] > listed[4] == 0.0
    assert listed[5] == 1.0  # certainty stays certain


def test_the_place_model_is_a_probability_and_round_trips() -> None:
    count = len(PLACE_FEATURES)
    coefficients = np.zeros(count)
    coefficients[0], coefficients[4] = 1.0, -1.0
    model = PlaceModel(np.zeros(count), np.ones(count), coefficients, 0.0)
    values = np.zeros((3, count))
    values[:, 0] = [2.0, 2.0, -30.0]
    values[1, 4] = 1.0
    probability = model.probability(values)
    assert probability[0] > probability[1] > probability[2] > 0
    again = PlaceModel.from_dict(model.to_dict())
    np.testing.assert_allclose(again.probability(values), probability)
    with pytest.raises(InputError, match="features"):
        PlaceModel.from_dict({**model.to_dict(), "features": ["area"]})
