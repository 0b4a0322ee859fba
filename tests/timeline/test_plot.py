"""The timeline PNG from a synthetic series: a valid image, spikes and unusable dates drawn."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from PIL import Image

from sitewatch.analysis.activity import activity_series
from sitewatch.timeline.plot import plot_timeline
from sitewatch.timeline.service import Timeline
from tests.analysis.test_activity import CHANGE_DATE, CLOUDED_DATE, DATES, ndvi_series

SPIKE_RGB = (0xCC, 0x33, 0x11)


def _timeline() -> Timeline:
    cloud = np.zeros((DATES, 60, 60), dtype=bool)
    cloud[CLOUDED_DATE] = True
    dates = [datetime(2021, 3, 1, tzinfo=UTC) + timedelta(days=5 * i) for i in range(DATES)]
    series = activity_series(ndvi_series(), cloud, dates=dates)
    return Timeline(
        site_id="synthetic",
        records=series.records,
        method=series.method,
        bands=series.bands,
        cloud_source="test mask",
        settings=series.settings,
        threshold=series.threshold,
        noise=series.noise,
        spike_fence=series.spike_fence,
        scene_ids=[f"s{i}" for i in range(DATES)],
        resolution_m=10.0,
        crs="EPSG:32633",
        sources=[],
    )


def test_plot_is_a_png_with_the_spike_drawn(tmp_path: Path) -> None:
    timeline = _timeline()
    assert [record.index for record in timeline.spikes] == [CHANGE_DATE]
    path = plot_timeline(timeline, tmp_path / "plot.png")
    with Image.open(path) as image:
        assert image.format == "PNG"
        pixels = np.asarray(image.convert("RGB"))
    spike_pixels = np.all(pixels == SPIKE_RGB, axis=-1).sum()
    assert spike_pixels > 500  # the spike bar, not only its label


def test_quiet_series_has_no_spike_colour(tmp_path: Path) -> None:
    timeline = _timeline()
    for record in timeline.records:
        record.spike = False
    timeline.spike_fence = None
    path = plot_timeline(timeline, tmp_path / "quiet.png")
    with Image.open(path) as image:
        pixels = np.asarray(image.convert("RGB"))
    assert np.all(pixels == SPIKE_RGB, axis=-1).sum() == 0
