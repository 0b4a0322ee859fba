from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from rasterio.transform import Affine

from sitewatch.analysis.objects import polygonise, to_geojson
from sitewatch.detect.object_table import ObjectTable


def some_objects():
    generator = np.random.default_rng(5)
    mask = generator.random((60, 80)) > 0.7
    score = np.round(generator.random(mask.shape), 1).astype(np.float32)  # ties on max score
    direction = np.where(score > 0.5, 1, -1).astype(np.int8)
    transform = Affine(10, 0, 500_000, 0, -10, 5_000_000)
    return polygonise(mask, score, direction, transform=transform, crs="EPSG:32632")


def test_table_streams_the_same_collection_as_to_geojson(tmp_path: Path) -> None:
    objects = some_objects()
    table = ObjectTable(tmp_path / "objects.features")
    # Added in pieces and out of order, as strips and crossing regions come.
    shuffled = objects[::-1]
    table.add(shuffled[:100])
    table.add([])
    table.add(shuffled[100:])
    assert len(table) == len(objects) > 100
    expected = sorted(shuffled, key=lambda item: (-item.max_score, -item.pixel_count))
    table.write_geojson(tmp_path / "objects.geojson", {"note": "x"})
    written = json.loads((tmp_path / "objects.geojson").read_text())
    # The same document as building it whole (tuples read back as lists through JSON).
    assert written == json.loads(json.dumps({**to_geojson(expected), "note": "x"}))
    assert list(table) == expected
    assert table.changed_pixels == sum(item.pixel_count for item in objects)
    assert table.max_score == max(item.max_score for item in objects)


def test_empty_table_writes_an_empty_collection(tmp_path: Path) -> None:
    table = ObjectTable(tmp_path / "objects.features")
    table.write_geojson(tmp_path / "objects.geojson")
    assert json.loads((tmp_path / "objects.geojson").read_text()) == {
        "type": "FeatureCollection",
        "features": [],
    }
    assert list(table) == [] and table.max_score == 0.0 and len(table) == 0
