"""The open-water test of a detection run (:mod:`sitewatch.analysis.water`).

In the scoring pass :meth:`OpenWaterTest.clear` tests each tile's changed pixels on both
dates' NDWI and sets those that are open water on both dates to "no change" in the run's
scratch mask, before clean-up and the minimum mapping unit, unless the run keeps them; it
counts them either way. The test needs green (B03) and near infrared (B08) known to be
Sentinel-2 reflectance; without them it is skipped, and the run's steps and summary say why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sitewatch.analysis.water import (
    NO_MASK,
    WaterRule,
    changed_open_water,
    index_bands,
    untestable_because,
)
from sitewatch.detect.sources import PairSource, index_test_skipped_because


@dataclass
class OpenWaterTest:
    """The open-water test of a run: band positions and rule, or why it is skipped, and the
    changed pixels it has found so far."""

    bands: tuple[int, int] | None
    rule: WaterRule | None
    keep: bool
    skipped_because: str | None
    pixels: int = 0

    @classmethod
    def of(cls, source: PairSource, rule: WaterRule | None, keep: bool) -> OpenWaterTest:
        reason = index_test_skipped_because(source, untestable_because(source.band_names))
        if reason is None and rule is None:
            reason = NO_MASK
        return cls(index_bands(source.band_names) if reason is None else None, rule, keep, reason)

    def clear(self, tile: np.ndarray, before: np.ndarray, after: np.ndarray) -> None:
        """Count the changed pixels (1) of a tile's mask that are open water on both dates,
        and set them to 0 unless the run keeps them."""
        if self.bands is None or self.rule is None:
            return
        water = changed_open_water(before, after, self.bands, self.rule, tile == 1)
        self.pixels += int(np.count_nonzero(water))
        if not self.keep:
            tile[water] = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "applied": self.bands is not None,
            "skipped_because": self.skipped_because,
            "rule": self.rule.as_dict() if self.rule is not None else None,
            "kept": self.keep,
            "water_pixels": self.pixels,
        }
