"""Activity per date over a time series: synthetic truth, masks, methods, DataArray input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import xarray as xr

from sitewatch.analysis.activity import ActivitySettings, activity_series
from sitewatch.errors import InputError
from tests.analysis.conftest import textured_image

DATES = 10
CHANGE_DATE = 5
CLOUDED_DATE = 3
BLOCK = (slice(10, 30), slice(20, 45))  # 500 of 3600 pixels
FIRST = datetime(2020, 1, 1, 10, 30, tzinfo=UTC)


def ndvi_series(seed: int = 1) -> np.ndarray:
    """(time, 1, 60, 60) NDVI-like values: stable field, noise 0.01, a block drops at date 5."""
    rng = np.random.default_rng(seed)
    base = 0.6 + 0.1 * rng.standard_normal((60, 60)).astype(np.float32)
    stack = np.repeat(base[np.newaxis, np.newaxis], DATES, axis=0)
    stack += rng.normal(0, 0.01, stack.shape).astype(np.float32)
    stack[CHANGE_DATE:, 0, BLOCK[0], BLOCK[1]] -= 0.4
    return stack


def test_block_change_spikes_at_its_date_and_nowhere_else() -> None:
    series = activity_series(ndvi_series())
    assert series.method == "difference"
    activity = [record.activity for record in series.records]
    assert activity[0] is None
    assert activity[CHANGE_DATE] == pytest.approx(500 / 3600, abs=0.005)
    quiet = [value for index, value in enumerate(activity) if index not in (0, CHANGE_DATE)]
    assert max(quiet) < 0.005
    assert [record.index for record in series.spikes] == [CHANGE_DATE]
    changed = series.records[CHANGE_DATE]
    assert changed.loss_share == pytest.approx(1.0, abs=0.02)
    assert changed.gain_share == pytest.approx(0.0, abs=0.02)
    assert changed.reference_index == CHANGE_DATE - 1
    # Noise 0.01 per date -> differences spread ~0.014; the threshold is 3 times that.
    assert series.noise == pytest.approx(0.01 * np.sqrt(2), rel=0.1)
    assert series.threshold == pytest.approx(3 * series.noise)


def test_fully_clouded_date_is_unusable_and_skipped_as_reference() -> None:
    stack = ndvi_series()
    cloud = np.zeros((DATES, 60, 60), dtype=bool)
    cloud[CLOUDED_DATE] = True
    stack[CLOUDED_DATE, 0, :30] = 1.0  # cloud contaminates values too: must not count
    series = activity_series(stack, cloud)
    clouded = series.records[CLOUDED_DATE]
    assert not clouded.usable
    assert clouded.activity is None
    assert clouded.clear_fraction == 0.0
    assert "clear on 0.0% of the area" in clouded.note
    after = series.records[CLOUDED_DATE + 1]
    assert after.reference_index == CLOUDED_DATE - 1
    assert after.activity < 0.005
    assert [record.index for record in series.spikes] == [CHANGE_DATE]


def test_half_clouded_date_below_the_limit_and_nan_counts_as_unclear() -> None:
    stack = ndvi_series()
    cloud = np.zeros((DATES, 60, 60), dtype=bool)
    cloud[2, :20] = True  # 33 % cloud
    stack[2, 0, 20:32] = np.nan  # + 20 % nodata -> 47 % clear
    series = activity_series(stack, cloud)
    record = series.records[2]
    assert record.clear_fraction == pytest.approx(28 / 60)
    assert not record.usable
    assert series.records[1].clear_fraction == 1.0


def test_area_mask_limits_what_counts() -> None:
    stack = ndvi_series()
    area = np.zeros((60, 60), dtype=bool)
    area[:40] = True  # holds the whole block: 500 of 2400 pixels
    stack[:, 0, 40:] = np.nan  # nodata outside the area does not make dates unusable
    series = activity_series(stack, area=area)
    assert all(record.usable for record in series.records)
    assert series.records[CHANGE_DATE].activity == pytest.approx(500 / 2400, abs=0.005)


def test_scene_wide_shift_is_reported_not_counted() -> None:
    stack = ndvi_series()
    stack[7:] += 0.3  # green-up everywhere at date 7
    series = activity_series(stack)
    shifted = series.records[7]
    assert shifted.shift == pytest.approx(0.3, abs=0.01)
    assert shifted.mean_abs_change == pytest.approx(0.3, abs=0.01)
    assert shifted.activity < 0.005
    counted = activity_series(stack, settings=ActivitySettings(remove_shift=False))
    assert counted.records[7].activity > 0.99


def test_fixed_floor_raises_the_threshold() -> None:
    series = activity_series(ndvi_series(), settings=ActivitySettings(min_change=0.5))
    assert series.threshold == 0.5
    assert series.records[CHANGE_DATE].activity == 0.0


def test_pair_with_little_overlap_is_not_compared_but_stays_a_reference() -> None:
    stack = ndvi_series()
    cloud = np.zeros((DATES, 60, 60), dtype=bool)
    cloud[1, :, :25] = True  # 58 % clear
    cloud[2, :, 35:] = True  # 58 % clear; both dates clear on 17 %
    series = activity_series(stack, cloud)
    assert series.records[2].usable
    assert series.records[2].activity is None
    assert series.records[2].joint_fraction == pytest.approx(10 / 60)
    assert "clear on both dates" in series.records[2].note
    assert series.records[3].reference_index == 2


def test_data_array_supplies_dates_scene_ids_and_band_names() -> None:
    stack = ndvi_series()
    extra = np.zeros_like(stack)  # a cloud band riding in the stack, excluded by name
    times = [np.datetime64(FIRST.replace(tzinfo=None) + timedelta(days=10 * i)) for i in range(10)]
    array = xr.DataArray(
        np.concatenate([stack, extra], axis=1),
        dims=("time", "band", "y", "x"),
        coords={
            "time": np.array(times, dtype="datetime64[ns]"),
            "band": ["NDVI", "CLM"],
            "scene_id": ("time", [f"scene-{i}" for i in range(10)]),
        },
    )
    series = activity_series(array, bands=["NDVI"])
    assert series.bands == ["NDVI"]
    record = series.records[CHANGE_DATE]
    assert record.date == FIRST + timedelta(days=50)
    assert record.scene_id == "scene-5"
    assert record.reference_scene_id == "scene-4"
    assert record.reference_date == FIRST + timedelta(days=40)
    assert record.as_dict()["date"] == "2020-02-20T10:30:00Z"
    assert [r.index for r in series.spikes] == [CHANGE_DATE]


@pytest.mark.parametrize("method", ["irmad", "cva"])
def test_multiband_methods_find_the_block(method: str) -> None:
    base = textured_image((4, 60, 60), seed=2)
    rng = np.random.default_rng(3)
    stack = np.repeat(base[np.newaxis], 6, axis=0)
    stack += rng.normal(0, 0.003, stack.shape).astype(np.float32)
    stack[3:, :3, BLOCK[0], BLOCK[1]] += 0.1
    series = activity_series(stack)  # auto: several bands -> irmad
    assert series.method == "irmad"
    series = activity_series(stack, method=method)
    activity = [record.activity for record in series.records]
    assert activity[3] == pytest.approx(500 / 3600, abs=0.02)
    assert max(activity[1:3] + activity[4:]) < 0.01
    assert series.records[3].gain_share == pytest.approx(1.0, abs=0.02)
    assert series.spikes == [series.records[3]]


def test_activity_is_a_fraction_on_noise() -> None:
    rng = np.random.default_rng(7)
    series = activity_series(rng.normal(0.5, 0.2, (8, 1, 40, 40)).astype(np.float32))
    values = [record.activity for record in series.records[1:]]
    assert all(0.0 <= value <= 1.0 for value in values)
    assert max(values) < 0.01  # 3-sigma threshold on Gaussian noise: ~0.3 %
    assert series.spikes == []


@pytest.mark.parametrize(
    ("call", "item"),
    [
        (lambda s: activity_series(s[0, 0]), "stack"),
        (lambda s: activity_series(s, np.zeros((2, 60, 60), bool)), "cloud"),
        (lambda s: activity_series(s, area=np.zeros((60, 60), bool)), "area"),
        (lambda s: activity_series(s, bands=["NIR"]), "bands"),
        (lambda s: activity_series(s, method="magic"), "method"),
        (lambda s: activity_series(np.concatenate([s, s], 1), method="difference"), "method"),
        (lambda s: activity_series(s, dates=["2020-01-01"]), "dates"),
        (lambda s: ActivitySettings(min_clear_fraction=0), "min_clear_fraction"),
        (lambda s: ActivitySettings(significance=1.0), "significance"),
    ],
)
def test_bad_input_names_the_argument(call, item: str) -> None:
    with pytest.raises(InputError) as caught:
        call(ndvi_series())
    assert caught.value.item.startswith(item)
