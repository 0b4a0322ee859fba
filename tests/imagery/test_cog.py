from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from affine import Affine

from sitewatch.imagery.cog import write_cog


def test_cog_is_lossless_tiled_zstd_with_overviews(tmp_path: Path) -> None:
    generator = np.random.default_rng(1)
    data = generator.random((2, 300, 500)).astype(np.float32)
    data[0, :10] = np.nan
    path = write_cog(
        tmp_path / "score.tif",
        data,
        crs="EPSG:32632",
        transform=Affine(10, 0, 500_000, 0, -10, 5_000_000),
        nodata=float("nan"),
        band_names=["a", "b"],
    )
    with rasterio.open(path) as dataset:
        assert dataset.compression.name.upper() == "ZSTD"
        assert dataset.block_shapes == [(256, 256), (256, 256)]
        assert dataset.overviews(1) == [2, 4]
        assert dataset.descriptions == ("a", "b")
        np.testing.assert_array_equal(dataset.read(), data)
    assert [child.name for child in tmp_path.iterdir()] == ["score.tif"]
