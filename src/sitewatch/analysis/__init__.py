"""Algorithms only: numpy arrays in, numpy arrays out. No files, no database.

Images are float32 ``(band, y, x)`` with NaN for nodata, masks bool ``(y, x)``. A change
run chains the stages below, each usable alone:

1. :mod:`~.masks`: valid and cloud-free pixels (:func:`clear_mask`).
2. :mod:`~.coregister`: residual shift between dates (:func:`estimate_shift`) and its
   correction (:func:`correct_shift`).
3. :mod:`~.normalize`: the second date mapped onto the first date's radiometry.
4. :mod:`~.methods`: a change score in [0, 1] and a direction map (:func:`get_method`).
5. :mod:`~.threshold`: a binary mask, cleaned and filtered by a minimum mapping unit.
6. :mod:`~.objects`: polygons with area, centroid, scores and direction.
7. :mod:`~.metrics`: precision, recall, F1 and IoU against reference labels.

Beside them, :mod:`~.vegetation` tells vegetation-phase change (crops, leaf fall: NDVI of
both dates) from structural change, so a run can leave the former out, and :mod:`~.water`
finds change on pixels that are open water on both dates (NDWI), which a run leaves out.
"""

# The learned method registers itself as "siamese" on import; onnxruntime loads on first use.
from sitewatch.analysis import siamese as _siamese  # noqa: F401
from sitewatch.analysis.coregister import Shift, correct_shift, estimate_shift
from sitewatch.analysis.masks import (
    clear_mask,
    cloud_mask_from_classes,
    cloud_mask_l1c,
    reflectance_from_l1c,
    valid_mask,
)
from sitewatch.analysis.methods import (
    ChangeMethod,
    available_methods,
    get_method,
    register_method,
)
from sitewatch.analysis.metrics import ConfusionCounts, confusion, pooled
from sitewatch.analysis.normalize import Normalisation, histogram_match, normalise
from sitewatch.analysis.objects import ChangeObject, polygonise, to_geojson
from sitewatch.analysis.scores import ChangeScore
from sitewatch.analysis.threshold import (
    clean,
    kittler_illingworth,
    otsu,
    pixels_for_area,
    remove_small_objects,
    significance,
    threshold_value,
)

__all__ = [
    "ChangeMethod",
    "ChangeObject",
    "ChangeScore",
    "ConfusionCounts",
    "Normalisation",
    "Shift",
    "available_methods",
    "clean",
    "clear_mask",
    "cloud_mask_from_classes",
    "cloud_mask_l1c",
    "confusion",
    "correct_shift",
    "estimate_shift",
    "get_method",
    "histogram_match",
    "kittler_illingworth",
    "normalise",
    "otsu",
    "pixels_for_area",
    "polygonise",
    "pooled",
    "reflectance_from_l1c",
    "register_method",
    "remove_small_objects",
    "significance",
    "threshold_value",
    "to_geojson",
    "valid_mask",
]
