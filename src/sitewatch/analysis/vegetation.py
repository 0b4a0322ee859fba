"""Vegetation-phase change versus structural change, from NDVI on both dates.

The mission looks for construction, earthworks, new roads and demolition; a statistical
change score (CVA, IR-MAD) fires just as hard on crops growing, fields harvested or
ploughed and trees losing their leaves, which is most of what a rural or peri-urban scene
changes between two dates. OSCD labels only urban change, so on its cities those are false
positives.

The signal used is the Normalised Difference Vegetation Index (Rouse et al. 1974,
``NDVI = (NIR - red) / (NIR + red)``, Sentinel-2 B08 and B04): green vegetation is high
(0.3 to 0.9 at top of atmosphere), bare soil and crop residue low but positive (about 0.1
to 0.3), roofs, concrete and asphalt near 0.0 to 0.15 and water negative (Tucker 1979;
the soil line of Richardson and Wiegand 1977). A change between two dates is a change of
vegetation phase when vegetation is seen on one date and, on the other, vegetation again
(a crop at another stage, leaf fall) or a soil-like surface (harvest, ploughing): the
larger NDVI of the two dates is at least :attr:`VegetationRule.vegetated` and the smaller
at least :attr:`VegetationRule.floor`. A new roof, a road or a concrete pad drops the NDVI
below any floor tried, and so does demolition's rubble on one date with a roof on the
other, so they stay structural. Built-up indices from SWIR (NDBI, Zha et al. 2003; the
bare soil index of Rikimaru et al. 2002) would separate soil from built-up better, but
need B11 at 20 m, which the detection does not read by default (reading and resampling
it would cost more than the rest of a run); NDVI needs only B04 and B08, which it reads.
NDVI is a ratio, so any common scale of the two bands (L1C's x 10000) cancels out.

The decision is per object (8-connected region of the change mask), not per pixel: an
object is vegetation-phase when at least :attr:`VegetationRule.share` of its pixels are.
Per pixel, a construction site's margin of disturbed grass would be cut away from it and
a field's few odd pixels would survive as crumbs; per object, each keeps its outline.

What it cannot do: earthworks on a field (vegetation to soil) look exactly like a
harvest; the rule removes them when the floor is below the soil's NDVI. The thresholds are
fitted by city-level cross-validation on OSCD (benchmarks/vegetation_filter.py, which
also measures what the filter removes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import ndimage

from sitewatch.analysis.arrays import band_pair, pixel_index
from sitewatch.analysis.threshold import EIGHT_CONNECTED
from sitewatch.errors import InputError

#: The bands NDVI needs, as Sentinel-2 names them: red and near infrared (10 m).
RED_BAND = "B04"
NIR_BAND = "B08"
#: The class of a change object.
STRUCTURAL = "structural"
VEGETATION = "vegetation"


@dataclass(frozen=True)
class VegetationRule:
    """When a changed pixel, and then an object, is vegetation-phase (module docstring)."""

    #: NDVI at or above which a date shows vegetation; one of the two dates must.
    vegetated: float
    #: NDVI the other date must reach: ``vegetated`` (vegetation on both dates) or lower
    #: (vegetation on one date, bare soil or crop residue on the other).
    floor: float
    #: Share of an object's pixels that must be vegetation-phase for the object to be.
    share: float

    def __post_init__(self) -> None:
        if not -1.0 <= self.floor <= self.vegetated <= 1.0:
            raise InputError(
                f"needs -1 <= floor <= vegetated <= 1, got floor {self.floor}, "
                f"vegetated {self.vegetated}",
                item="vegetation_rule",
            )
        if not 0.0 < self.share <= 1.0:
            raise InputError(f"share must be in (0, 1], got {self.share}", item="vegetation_rule")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


#: The rule of each change method, fitted on all ten labelled OSCD cities (pooled F1) by
#: benchmarks/vegetation_filter.py; its cross-validated effect (each city scored with the
#: rule fitted on the other eight) is in benchmarks/results/vegetation_filter.md. The two
#: methods' fits differ, hence two rules. The fitted ``vegetated`` is low (0.20-0.25, the
#: lowest the grid offered for irmad): at 10 m and top of atmosphere a field's edge, a sparse
#: or senescent crop and stubble sit there. With a ``floor`` of 0.10 and a ``share`` of 0.8
#: the rule reads "nothing on either date is as dark in NIR as a roof, road or water, and
#: there is some vegetation": an object must be almost wholly such pixels to be left out.
METHOD_RULES = {
    "cva": VegetationRule(vegetated=0.25, floor=0.10, share=0.8),
    "irmad": VegetationRule(vegetated=0.20, floor=0.10, share=0.8),
}
#: The rule of any other method (the learned ``siamese``): IR-MAD's, the detection
#: default's, until that method's out-of-fold maps are measured the same way.
FALLBACK_METHOD = "irmad"


def default_rule(method: str) -> VegetationRule:
    """The vegetation-phase rule a run of ``method`` uses unless given one."""
    return METHOD_RULES.get(method, METHOD_RULES[FALLBACK_METHOD])


def index_bands(band_names: Sequence[str]) -> tuple[int, int] | None:
    """Positions of the red and near-infrared bands in ``band_names``, or None when either
    is missing (then no vegetation-phase test can be made: RGB-only input, say)."""
    return band_pair(band_names, RED_BAND, NIR_BAND)


def untestable_because(band_names: Sequence[str]) -> str | None:
    """Why ``band_names`` allow no vegetation-phase test (None: they allow it)."""
    return None if index_bands(band_names) else f"needs bands {RED_BAND} and {NIR_BAND}"


def ndvi(red: np.ndarray, nir: np.ndarray) -> np.ndarray:
    """NDVI of reflectance (any common scale) as float32; NaN where red + NIR <= 0 or NaN."""
    return pixel_index(nir, red)


def vegetation_phase(
    ndvi_before: np.ndarray, ndvi_after: np.ndarray, rule: VegetationRule
) -> np.ndarray:
    """Pixels whose change is vegetation-phase by ``rule`` (bool; False where NaN)."""
    with np.errstate(invalid="ignore"):
        high = np.fmax(ndvi_before, ndvi_after)
        low = np.fmin(ndvi_before, ndvi_after)
        flagged = (high >= rule.vegetated) & (low >= rule.floor)
    return flagged & np.isfinite(ndvi_before) & np.isfinite(ndvi_after)


def vegetation_phase_of(
    before: np.ndarray, after: np.ndarray, bands: tuple[int, int], rule: VegetationRule
) -> np.ndarray:
    """:func:`vegetation_phase` of two (band, y, x) images, given the red and NIR positions
    (:func:`index_bands`)."""
    red, nir = bands
    return vegetation_phase(ndvi(before[red], before[nir]), ndvi(after[red], after[nir]), rule)


def changed_vegetation_phase(
    before: np.ndarray,
    after: np.ndarray,
    bands: tuple[int, int],
    rule: VegetationRule,
    changed: np.ndarray,
) -> np.ndarray:
    """The ``changed`` pixels (bool, y, x) of two (band, y, x) images whose change is
    vegetation-phase. Only the changed pixels (a few per cent) are tested, so the test
    costs little beside the change score that found them."""
    flagged = np.zeros(changed.shape, dtype=bool)
    if changed.any():
        red, nir = bands
        pair = [np.stack([image[red][changed], image[nir][changed]]) for image in (before, after)]
        flagged[changed] = vegetation_phase_of(pair[0], pair[1], (0, 1), rule)
    return flagged


def is_vegetation_object(share: np.ndarray | float, rule: VegetationRule) -> np.ndarray:
    """Whether objects whose vegetation-phase pixel share is ``share`` are vegetation-phase."""
    return np.asarray(share) >= rule.share


def split_vegetation(
    change: np.ndarray, flagged: np.ndarray, rule: VegetationRule
) -> tuple[np.ndarray, np.ndarray]:
    """(structural, vegetation) pixels of a whole bool change mask, object by object.

    For masks held whole (evaluations, out-of-fold maps); a detection run does the same on
    its regions strip by strip (:mod:`sitewatch.detect.regions`).
    """
    change = np.asarray(change, dtype=bool)
    labels, count = ndimage.label(change, structure=EIGHT_CONNECTED)
    if count == 0:
        return change.copy(), np.zeros_like(change)
    pixels = np.bincount(labels.ravel(), minlength=count + 1)
    hits = np.bincount(
        labels.ravel(), weights=flagged.ravel() & change.ravel(), minlength=count + 1
    )
    share = hits / np.maximum(pixels, 1)
    vegetation_label = is_vegetation_object(share, rule)
    vegetation_label[0] = False
    vegetation = vegetation_label[labels]
    return change & ~vegetation, vegetation


def vegetation_summary(step: dict[str, Any]) -> str:
    """One line on what a run's vegetation-phase test did (the summary a user reads).

    ``step``: ``applied``, ``skipped_because``, ``kept``, ``vegetation_objects`` (left out,
    or kept and classed ``vegetation``) and, when the run counts them, ``vegetation_pixels``
    (a detection run does; a scan counts objects only).
    """
    if not step["applied"]:
        return f"skipped: {step['skipped_because']}"
    pixels = step.get("vegetation_pixels")
    size = "" if pixels is None else f" ({pixels} px)"
    verb = "kept (classed vegetation)" if step["kept"] else "left out"
    return f"{step['vegetation_objects']} vegetation-phase objects{size} {verb}"
