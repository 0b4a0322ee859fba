"""detect-pair on real OSCD cities, odd grids, bad input and non-georeferenced pairs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
from PIL import Image
from rasterio.warp import calculate_default_transform, reproject

from sitewatch.analysis import confusion, pooled
from sitewatch.detect.pair import detect_pair
from sitewatch.detect.pipeline import DetectionOptions
from sitewatch.detect.products import PRODUCT_FILES
from sitewatch.errors import InputError
from sitewatch.files import sha256_file
from tests.conftest import shared_data
from tests.detect.conftest import BANDS, band_file, crop_of, oscd_city, write_bands


def _label(city: str) -> np.ndarray:
    path = shared_data("oscd", "train_labels", city, "cm", f"{city}-cm.tif")
    with rasterio.open(path) as source:
        return source.read(1) == 2  # 1 = no change, 2 = change


def _mask(out: Path) -> tuple[np.ndarray, rasterio.Affine, object]:
    with rasterio.open(out / "change_mask.tif") as source:
        assert source.dtypes[0] == "uint8" and source.overviews(1)
        return source.read(1), source.transform, source.crs


# Measured (irmad, default options): rennes F1 0.531 (P 0.45, R 0.65), pisa 0.143,
# saclay_e 0.096, hongkong 0.287, abudhabi 0.231; cva: rennes 0.525, pisa 0.208,
# saclay_e 0.101. Floors sit a little below, to catch regressions.
@pytest.mark.parametrize(("method", "floor"), [("irmad", 0.48), ("cva", 0.48)])
def test_rennes_writes_four_products_on_befores_grid(
    tmp_path: Path, method: str, floor: float
) -> None:
    city = oscd_city("rennes")
    out = tmp_path / "out"
    run = detect_pair(
        city / "imgs_1", city / "imgs_2", out, options=DetectionOptions(method=method)
    )
    assert sorted(p.name for p in out.iterdir()) == sorted(PRODUCT_FILES)
    mask, transform, crs = _mask(out)
    with rasterio.open(band_file(city / "imgs_1", "B02")) as reference:
        assert (transform, crs, mask.shape) == (reference.transform, reference.crs, reference.shape)
    assert set(np.unique(mask)) <= {0, 1, 255}
    assert confusion(mask == 1, _label("rennes")).f1 >= floor
    with rasterio.open(out / "change_score.tif") as score:
        assert score.dtypes[0] == "float32" and score.transform == transform

    recorded = json.loads((out / "run.json").read_text())
    assert recorded == json.loads(json.dumps(run.run))
    assert recorded["method"] == method and recorded["parameters"]["bands"] == list(BANDS)
    first = recorded["inputs"]["before"]["files"][0]
    assert first["sha256"] == sha256_file(Path(first["path"]))
    assert len(recorded["inputs"]["after"]["files"]) == 4
    summary = recorded["summary"]
    assert summary["object_count"] == len(
        json.loads((out / "objects.geojson").read_text())["features"]
    )
    assert summary["changed_pixels"] == int((mask == 1).sum())
    assert 0 < summary["changed_share"] < 0.1 and summary["residual_shift_m"] < 3


def test_a_smaller_second_date_is_warped_onto_befores_grid(tmp_path: Path) -> None:
    city = oscd_city("saclay_e")
    with (
        rasterio.open(band_file(city / "imgs_2", "B02")) as after,
        rasterio.open(band_file(city / "imgs_1", "B02")) as before,
    ):
        assert after.shape != before.shape  # the case this test is about
    run = detect_pair(city / "imgs_1", city / "imgs_2", tmp_path / "out")
    mask, _, _ = _mask(tmp_path / "out")
    assert mask.shape == _label("saclay_e").shape
    # Warping by geotransform leaves under a pixel of shift (cropping by shape: up to 8 px).
    coregistration = run.run["steps"]["coregistration"]
    assert max(abs(v) for v in coregistration["measured_px"]) < 1.5
    assert coregistration["residual_px"] < 0.3


def test_after_in_another_crs_is_reprojected(tmp_path: Path) -> None:
    size = 200
    before, crs, transform = crop_of("rennes", "imgs_1", size)
    after, _, _ = crop_of("rennes", "imgs_2", size)
    utm = "EPSG:32630"
    bounds = rasterio.transform.array_bounds(size, size, transform)
    utm_transform, width, height = calculate_default_transform(crs, utm, size, size, *bounds)
    warped = {}
    for band, data in after.items():
        target = np.zeros((height, width), dtype=data.dtype)
        reproject(
            data,
            target,
            src_crs=crs,
            src_transform=transform,
            dst_crs=utm,
            dst_transform=utm_transform,
        )
        warped[band] = target
    write_bands(tmp_path / "before", before, crs, transform)
    write_bands(tmp_path / "after", warped, utm, utm_transform)
    detect_pair(tmp_path / "before", tmp_path / "after", tmp_path / "out")
    mask, out_transform, out_crs = _mask(tmp_path / "out")
    assert (mask.shape, out_transform, out_crs) == ((size, size), transform, crs)
    truth = _label("rennes")[:size, :size]
    assert confusion(mask == 1, truth, ignore=mask == 255).f1 >= 0.3


def _bad_after(tmp_path: Path, change) -> tuple[Path, Path]:
    before, crs, transform = crop_of("rennes", "imgs_1")
    after, _, _ = crop_of("rennes", "imgs_2")
    after, crs_after, transform_after = change(after, crs, transform)
    return (
        write_bands(tmp_path / "before", before, crs, transform),
        write_bands(tmp_path / "after", after, crs_after, transform_after),
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda a, c, t: (a, c, t @ rasterio.Affine.translation(5000, 0)), "does not overlap"),
        (lambda a, c, t: ({k: np.zeros_like(v) for k, v in a.items()}, c, t), "all nodata"),
        (lambda a, c, t: ({k: np.full_like(v, 6000) for k, v in a.items()}, c, t), "clouded"),
    ],
    ids=["no-overlap", "all-nodata", "fully-clouded"],
)
def test_bad_pairs_are_clear_errors_and_write_nothing(tmp_path: Path, change, message) -> None:
    before, after = _bad_after(tmp_path, change)
    out = tmp_path / "out"
    with pytest.raises(InputError, match=message) as error:
        detect_pair(before, after, out)
    assert str(after) in str(error.value) or "clouded" in message
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


def test_requested_band_missing_names_the_scene(tmp_path: Path) -> None:
    city = oscd_city("rennes")
    with pytest.raises(InputError, match="has no band 'B99'"):
        detect_pair(city / "imgs_1", city / "imgs_2", tmp_path / "out", bands=["B02", "B99"])


# Measured on the 11 LEVIR pairs (0.5 m RGB aerial), pooled: cva F1 0.087 (P 0.14, R 0.06);
# irmad F1 0.119 on 10 pairs (train_386 has linearly dependent bands, an InputError).
# Statistical methods on single RGB tiles are weak; the test checks the mechanics.
def test_levir_pair_in_pixel_space(tmp_path: Path) -> None:
    levir = shared_data("vhr_samples", "levir")
    notices: list[str] = []
    counts = []
    for name in ("test_2_0000_0512.png", "test_102_0512_0000.png"):
        out = tmp_path / name
        run = detect_pair(
            levir / "A" / name,
            levir / "B" / name,
            out,
            options=DetectionOptions(method="cva"),
            notify=notices.append,
        )
        assert run.summary["pixel_space"] and run.summary["changed_area_m2"] is None
        objects = json.loads((out / "objects.geojson").read_text())
        for feature in objects["features"]:
            x, y = np.array(feature["geometry"]["coordinates"][0]).T
            assert x.min() >= 0 and x.max() <= 256 and y.min() >= 0 and y.max() <= 256
            assert feature["properties"]["area_m2"] is None
        mask = np.asarray(Image.open(out / "change_mask.tif"))
        truth = np.asarray(Image.open(levir / "label" / name)) > 0
        counts.append(confusion(mask == 1, truth if truth.ndim == 2 else truth[..., 0]))
    assert len(notices) == 2 and notices[0].startswith("pixel space: ")
    assert pooled(counts).f1 > 0.05


def test_pixel_space_sizes_must_match(tmp_path: Path) -> None:
    Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(tmp_path / "a.png")
    Image.fromarray(np.zeros((64, 48, 3), np.uint8)).save(tmp_path / "b.png")
    with pytest.raises(InputError, match="equal sizes"):
        detect_pair(tmp_path / "a.png", tmp_path / "b.png", tmp_path / "out")
