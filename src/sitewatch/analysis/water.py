"""Open water on both dates: there a change score measures the water's surface, not the
ground, so the change is left out.

A statistical change score (CVA, IR-MAD) fires on a sea, lake or river whose colour
differs between two dates: turbidity, algae, sun glint, waves, a tide over a mud flat. A
harbour town's scan finds its largest "places" offshore. None of that is construction,
and the mission's coastal sites (ports, naval bases, reclamation) change where water
becomes land or land water, or where a hull or a pier replaces water on one date; those
pixels are not water on both dates and stay.

The signal is the Normalised Difference Water Index (McFeeters 1996, ``NDWI = (green -
NIR) / (green + NIR)``, Sentinel-2 B03 and B08): open water reflects green and absorbs near
infrared, so it is positive; vegetation, soil, roofs and roads reflect more near infrared
and are negative or near zero. At top of atmosphere the path radiance lifts green over dark
surfaces, so deep shadow and dark roofs can reach slightly above zero (Xu 2006 uses SWIR,
MNDWI, to separate water from built-up land; that needs B11 at 20 m, which the detection
does not read by default). Hence a threshold per method fitted by city-level
cross-validation on OSCD (benchmarks/water_mask.py), not McFeeters' 0 taken on trust.

Per pixel, not per object: a reclamation site's new land and the turbid water beside it
are one change object; per pixel the water part leaves and the land stays. A pixel left
out is unchanged for every later stage (clean-up, minimum mapping unit, objects), as a
pixel below the threshold is. NDWI is a ratio, so any common scale of the two bands (L1C's
x 10000, or a scan's composites of stored values) cancels out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from sitewatch.analysis.arrays import band_pair, pixel_index
from sitewatch.errors import InputError

#: The bands NDWI needs, as Sentinel-2 names them: green and near infrared (10 m).
GREEN_BAND = "B03"
NIR_BAND = "B08"


@dataclass(frozen=True)
class WaterRule:
    """When a changed pixel is open water on both dates (module docstring)."""

    #: NDWI both dates must reach.
    ndwi: float

    def __post_init__(self) -> None:
        if not -1.0 <= self.ndwi <= 1.0:
            raise InputError(f"NDWI must be in [-1, 1], got {self.ndwi}", item="water_rule")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


#: Each method's rule, fitted on all ten labelled OSCD cities (pooled change-class F1) by
#: benchmarks/water_mask.py; None where the fit would choose no mask. Its cross-validated
#: effect (each city scored with the rule fitted on the other eight) is in
#: benchmarks/results/water_mask.md: per pixel it is small (2-3 % of the false positives
#: go, pooled F1 +0.000 for cva, +0.002 for irmad), because OSCD's crops hold little open
#: water; what it removes is whole offshore "places" that a scan otherwise lists first. Nine
#: of ten fold fits chose 0.1 over McFeeters' 0: at top of atmosphere some dark roofs and
#: shadows reach NDWI 0 (the module docstring).
METHOD_RULES: dict[str, WaterRule | None] = {
    "cva": WaterRule(ndwi=0.1),
    "irmad": WaterRule(ndwi=0.1),
}
#: Why a run makes no open-water test when its method's fitted rule is no mask.
NO_MASK = "the method's fitted rule is no mask"
#: The rule of any other method (the learned ``siamese``): IR-MAD's, the detection default's.
FALLBACK_METHOD = "irmad"


def default_rule(method: str) -> WaterRule | None:
    """The open-water rule a run of ``method`` uses unless given one (None: no mask)."""
    return METHOD_RULES.get(method, METHOD_RULES[FALLBACK_METHOD])


def index_bands(band_names: Sequence[str]) -> tuple[int, int] | None:
    """Positions of the green and near-infrared bands in ``band_names``, or None when either
    is missing (then no open-water test can be made)."""
    return band_pair(band_names, GREEN_BAND, NIR_BAND)


def untestable_because(band_names: Sequence[str]) -> str | None:
    """Why ``band_names`` allow no open-water test (None: they allow it)."""
    return None if index_bands(band_names) else f"needs bands {GREEN_BAND} and {NIR_BAND}"


def ndwi(green: np.ndarray, nir: np.ndarray) -> np.ndarray:
    """NDWI of reflectance (any common scale) as float32; NaN where green + NIR <= 0."""
    return pixel_index(green, nir)


def water_on_both_dates(
    ndwi_before: np.ndarray, ndwi_after: np.ndarray, rule: WaterRule
) -> np.ndarray:
    """Pixels that are open water by ``rule`` on both dates (bool; False where NaN)."""
    with np.errstate(invalid="ignore"):
        return (ndwi_before >= rule.ndwi) & (ndwi_after >= rule.ndwi)


def changed_open_water(
    before: np.ndarray,
    after: np.ndarray,
    bands: tuple[int, int],
    rule: WaterRule,
    changed: np.ndarray,
) -> np.ndarray:
    """The ``changed`` pixels (bool, y, x) of two (band, y, x) images that are open water on
    both dates. Only the changed pixels are tested, so the test costs little beside the
    change score that found them."""
    flagged = np.zeros(changed.shape, dtype=bool)
    if changed.any():
        green, nir = bands
        flagged[changed] = water_on_both_dates(
            ndwi(before[green][changed], before[nir][changed]),
            ndwi(after[green][changed], after[nir][changed]),
            rule,
        )
    return flagged


#: A run summary's lines on what its masks left out, with their labels: the keys a
#: detection run's and a scan's summaries share (``vegetation_filter`` from
#: :func:`~sitewatch.analysis.vegetation.vegetation_summary`, ``water_mask`` from
#: :func:`water_summary`).
MASK_LINES = (("vegetation filter", "vegetation_filter"), ("open water", "water_mask"))


def mask_lines(summary: dict[str, Any]) -> list[str]:
    """What a run's masks left out, one line each, as every view shows it (an analyst must
    know what change was not listed). A run stored before a mask existed has no line for it."""
    return [f"{label}: {summary[key]}" for label, key in MASK_LINES if summary.get(key)]


def water_summary(step: dict[str, Any]) -> str:
    """One line on what a run's open-water test did: ``step`` holds ``applied``,
    ``skipped_because``, ``kept`` and ``water_pixels`` (left out, or counted and kept)."""
    if not step["applied"]:
        return f"skipped: {step['skipped_because']}"
    verb = "kept" if step["kept"] else "left out"
    return f"{step['water_pixels']} changed px of open water on both dates {verb}"
