"""All stages chained on a real OSCD pair, as a change run will chain them."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio

from sitewatch import analysis
from tests.analysis.conftest import OSCD_BANDS, load_oscd_pair
from tests.conftest import shared_data


# Measured on Rennes: F1 0.53 for both methods (precision 0.43-0.45, recall 0.65-0.68);
# the floor is a little below, to catch regressions, not tuned to pass.
@pytest.mark.parametrize("name", ["cva", "irmad"])
def test_oscd_rennes_end_to_end(name: str) -> None:
    before, after, truth = load_oscd_pair("rennes")
    (reference_file,) = sorted(
        (shared_data("oscd") / "images" / "rennes" / "imgs_1").glob("*_B02.tif")
    )
    with rasterio.open(reference_file) as source:
        transform, crs = source.transform, source.crs
    clear = analysis.clear_mask(before, analysis.cloud_mask_l1c(before, OSCD_BANDS))
    clear &= analysis.clear_mask(after, analysis.cloud_mask_l1c(after, OSCD_BANDS))
    shift = analysis.estimate_shift(before, after)
    assert shift.metres(10.0) < 5.0
    normalised = analysis.normalise(before, after, clear)
    assert normalised.method == "irmad-orthogonal"
    result = analysis.get_method(name, direction_bands=[0, 1, 2]).score(
        before, normalised.image, clear
    )
    strength = analysis.significance(result.score)
    found = analysis.clean(strength > analysis.otsu(strength, result.valid))
    found = analysis.remove_small_objects(found, analysis.pixels_for_area(500, 10.0))
    assert analysis.confusion(found, truth).f1 >= 0.45

    objects = analysis.polygonise(
        found, result.score, result.direction, transform=transform, crs=crs
    )
    assert sum(item.pixel_count for item in objects) == found.sum()
    # OSCD pixels are 0.000114 degrees square: about 8.5 m x 12.7 m at 48 N.
    pixel_area = np.array([item.area_m2 / item.pixel_count for item in objects])
    assert pixel_area == pytest.approx(107.8, rel=0.01)
    assert {item.direction for item in objects} == {-1, 0, 1}
    lon, lat = objects[0].centroid_lon, objects[0].centroid_lat
    assert -1.69 < lon < -1.62 and 48.09 < lat < 48.14
