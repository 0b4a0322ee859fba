"""Open water on both dates: the NDWI rule on small arrays."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sitewatch.analysis.water import (
    METHOD_RULES,
    WaterRule,
    changed_open_water,
    default_rule,
    index_bands,
    ndwi,
    untestable_because,
    water_on_both_dates,
    water_summary,
)
from sitewatch.errors import InputError

RULE = WaterRule(ndwi=0.2)


def test_ndwi_is_scale_free_and_nan_where_undefined() -> None:
    green = np.array([0.09, 900.0, 0.0, np.nan], dtype=np.float32)
    nir = np.array([0.03, 300.0, 0.0, 0.3], dtype=np.float32)
    index = ndwi(green, nir)
    assert index[0] == pytest.approx(0.5) and index[1] == pytest.approx(0.5)
    assert np.isnan(index[2:]).all()


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (0.55, 0.35, True),  # sea, then turbid sea: its surface, not the ground
        (0.50, -0.30, False),  # reclamation or a pier: water became land
        (-0.40, 0.50, False),  # land flooded or dug out: stays
        (0.50, 0.05, False),  # a hull moored where water was
        (-0.20, -0.10, False),  # land on both dates
        (0.20, 0.20, True),  # the threshold itself counts as water
        (np.nan, 0.50, False),  # no index on one date: not water
    ],
)
def test_only_water_on_both_dates_is_flagged(before: float, after: float, expected: bool) -> None:
    flagged = water_on_both_dates(np.array([before]), np.array([after]), RULE)
    assert bool(flagged[0]) is expected


def test_only_the_changed_pixels_are_tested() -> None:
    water = np.array([0.02, 0.09, 0.05, 0.02], dtype=np.float32)[:, None, None]
    before = np.repeat(np.repeat(water, 3, axis=1), 3, axis=2)
    after = before * 1.3
    changed = np.zeros((3, 3), dtype=bool)
    changed[1, 1:] = True
    flagged = changed_open_water(before, after, (1, 3), RULE, changed)
    assert np.array_equal(flagged, changed)
    assert not changed_open_water(before, after, (1, 3), RULE, np.zeros((3, 3), bool)).any()


def test_bands_are_found_by_name_or_the_reason_is_said() -> None:
    assert index_bands(["B02", "b03", "B04", "B08"]) == (1, 3)
    assert index_bands(["B02", "B04", "B08"]) is None
    assert untestable_because(["B02", "B04", "B08"]) == "needs bands B03 and B08"
    assert untestable_because(["B03", "B08"]) is None


@pytest.mark.parametrize("value", [1.5, -2.0, math.inf, math.nan, float("1e400")])
def test_a_threshold_outside_the_index_range_is_refused(value: float) -> None:
    with pytest.raises(InputError, match="water_rule"):
        WaterRule(ndwi=value)


def test_each_method_has_its_fitted_rule_and_others_irmads() -> None:
    assert default_rule("cva") == METHOD_RULES["cva"]
    assert default_rule("siamese") == METHOD_RULES["irmad"]


def test_the_summary_says_what_was_done() -> None:
    step = {"applied": True, "skipped_because": None, "kept": False, "water_pixels": 12}
    assert water_summary(step) == "12 changed px of open water on both dates left out"
    assert water_summary({**step, "kept": True}).endswith("kept")
    skipped = {**step, "applied": False, "skipped_because": "needs bands B03 and B08"}
    assert water_summary(skipped) == "skipped: needs bands B03 and B08"
