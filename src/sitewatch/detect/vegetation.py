"""The vegetation-phase test of a detection run (:mod:`sitewatch.analysis.vegetation`).

In the scoring pass :meth:`VegetationTest.mark` tests each tile's changed pixels on both
dates' NDVI and marks those whose change is vegetation-phase in the run's scratch mask
(:data:`~sitewatch.detect.regions.MASK_VEGETATION`); the object stage classes each object
by the share of its marked pixels and leaves ``vegetation`` objects out unless the run
keeps them (:class:`~sitewatch.detect.regions.VegetationFilter`). The test needs red (B04)
and near infrared (B08) known to be Sentinel-2 reflectance; without them it is skipped,
and the run's steps and summary say why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sitewatch.analysis.vegetation import (
    VegetationRule,
    changed_vegetation_phase,
    index_bands,
    untestable_because,
)
from sitewatch.detect.regions import MASK_VEGETATION, VegetationFilter
from sitewatch.detect.sources import PairSource, index_test_skipped_because


@dataclass(frozen=True)
class VegetationTest:
    """The vegetation-phase test of a run: band positions and rule, or why it is skipped."""

    bands: tuple[int, int] | None
    rule: VegetationRule
    keep: bool
    skipped_because: str | None

    @classmethod
    def of(cls, source: PairSource, rule: VegetationRule, keep: bool) -> VegetationTest:
        bands = index_bands(source.band_names)
        reason = index_test_skipped_because(source, untestable_because(source.band_names))
        return cls(
            bands if reason is None else None,
            rule,
            keep,
            reason,
        )

    def mark(self, tile: np.ndarray, before: np.ndarray, after: np.ndarray) -> None:
        """Mark the changed pixels (1) of a tile's mask whose change is vegetation-phase."""
        if self.bands is None:
            return
        tile[changed_vegetation_phase(before, after, self.bands, self.rule, tile == 1)] = (
            MASK_VEGETATION
        )

    @property
    def filter(self) -> VegetationFilter | None:
        return None if self.bands is None else VegetationFilter(self.rule, self.keep)

    def as_dict(self) -> dict[str, Any]:
        return {
            "applied": self.bands is not None,
            "skipped_because": self.skipped_because,
            "rule": self.rule.as_dict(),
            "kept": self.keep,
        }
