"""site_timeline on the real 68-date NDVI series, and its product files."""

from __future__ import annotations

import csv
import json
from datetime import date

import numpy as np
import pytest
from PIL import Image

from sitewatch.errors import InputError, NotFoundError
from sitewatch.timeline import default_output_dir, site_timeline, write_timeline
from sitewatch.workspace import Workspace
from tests.timeline.ndvi_scenes import SITE_ID, NdviSeries, local_change_by_date


def test_every_date_is_reported_with_its_clouds(ndvi: tuple[Workspace, NdviSeries]) -> None:
    workspace, series = ndvi
    timeline = site_timeline(workspace, SITE_ID)
    assert len(timeline.records) == 68
    assert [record.date for record in timeline.records] == series.times
    assert len(set(timeline.scene_ids)) == 68
    assert timeline.bands == ["NDVI"]
    assert timeline.method == "difference"
    assert timeline.cloud_source.startswith("band CLM")
    clear = (~series.cloud & np.isfinite(series.ndvi)).mean(axis=(1, 2))
    for record, expected in zip(timeline.records, clear, strict=True):
        assert record.clear_fraction == pytest.approx(expected, abs=0.03)
        if abs(expected - 0.5) > 0.02:  # away from the limit the resampled grid agrees
            assert record.usable == (expected >= 0.5), record.date
    unusable = [record for record in timeline.records if not record.usable]
    assert 26 <= len(unusable) <= 28  # 27 on the source grid; 2016-03-17 is 49.99 % clear
    assert all(record.activity is None for record in unusable)
    assert all(
        record.reference_index not in {u.index for u in unusable} for record in timeline.records
    )


def test_activity_peaks_where_ndvi_changes_most(ndvi: tuple[Workspace, NdviSeries]) -> None:
    workspace, series = ndvi
    timeline = site_timeline(workspace, SITE_ID)
    measured = {r.index: r.activity for r in timeline.records if r.activity is not None}
    assert all(0.0 <= value <= 1.0 for value in measured.values())
    local_change = local_change_by_date(series)
    assert set(measured) == set(local_change)
    strongest = max(local_change, key=local_change.get)
    top3 = sorted(measured, key=measured.get, reverse=True)[:3]
    assert strongest in top3
    assert series.times[strongest].date() == date(2016, 5, 6)
    assert [record.index for record in timeline.spikes] == [strongest]
    # Activity follows local change across the series, not only at the peak.
    order = list(local_change)
    correlation = np.corrcoef([measured[i] for i in order], [local_change[i] for i in order])
    assert correlation[0, 1] > 0.8


def test_scene_wide_shift_is_reported(ndvi: tuple[Workspace, NdviSeries]) -> None:
    workspace, _ = ndvi
    timeline = site_timeline(workspace, SITE_ID, start=date(2017, 10, 1), end=date(2017, 12, 31))
    # 2017-11-27 has the largest raw mean |dNDVI| of the series: a drop over the whole site.
    late_november = next(r for r in timeline.records if r.date.date() == date(2017, 11, 27))
    assert late_november.shift == pytest.approx(-0.28, abs=0.03)
    assert late_november.mean_abs_change > 0.25


def test_dates_filter_and_lineage(ndvi: tuple[Workspace, NdviSeries]) -> None:
    workspace, _ = ndvi
    timeline = site_timeline(workspace, SITE_ID, start=date(2016, 5, 1), end=date(2016, 6, 30))
    days = [record.date.date() for record in timeline.records]
    assert days[0] == date(2016, 5, 6)
    assert days[-1] == date(2016, 6, 25)
    assert timeline.records[0].note.startswith("first usable date")
    lineage = timeline.lineage()
    assert lineage["scene_ids"] == [record.scene_id for record in timeline.records]
    assert lineage["settings"]["min_clear_fraction"] == 0.5
    assert lineage["sources"][0]["assets"][0]["href"].endswith(".tif")


def test_products_are_written(ndvi: tuple[Workspace, NdviSeries]) -> None:
    workspace, _ = ndvi
    timeline = site_timeline(workspace, SITE_ID)
    out = default_output_dir(workspace, SITE_ID)
    files = write_timeline(timeline, out)
    assert files.png == out / f"{SITE_ID}_timeline.png"
    with Image.open(files.png) as image:
        image.verify()
    with Image.open(files.png) as image:
        assert image.format == "PNG"
        assert image.size[0] > 1000
    with open(files.csv, newline="", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == 68
    assert rows[1]["usable"] == "False"
    assert rows[1]["note"].startswith("clear on 0.0% of the area")
    spike_rows = [row for row in rows if row["spike"] == "True"]
    assert [row["date"] for row in spike_rows] == ["2016-05-06T10:05:27Z"]
    document = json.loads(files.json.read_text(encoding="utf-8"))
    assert len(document["records"]) == 68
    assert document["lineage"]["cloud_source"].startswith("band CLM")
    assert sorted(path.name for path in out.iterdir()) == sorted(
        path.name for path in (files.csv, files.json, files.png)
    )


def test_bad_requests(ndvi: tuple[Workspace, NdviSeries]) -> None:
    workspace, _ = ndvi
    with pytest.raises(InputError, match="only cloud mask bands"):
        site_timeline(workspace, SITE_ID, bands=["CLM"])
    with pytest.raises(InputError, match="unknown activity method 'magic'"):
        site_timeline(workspace, SITE_ID, method="magic")
    with pytest.raises(NotFoundError):
        site_timeline(workspace, "no-such-site")
