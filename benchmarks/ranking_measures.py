"""How a ranking of scan tiles is measured (benchmarks/scan_ranking.py): a ranked tile and
its label, precision at k over every order of tied scores, and the floors a ranking is
compared with (the base rate and random rankings)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sitewatch.ml.ranker_fit import precision_at
from sitewatch.scan.ranker_training import MIN_CHANGE_PX

KS = (5, 10, 20)
RANDOM_RANKINGS = 1000


@dataclass(frozen=True)
class RankedTile:
    key: str
    score: float
    change_px: int
    held_out: bool  # every label pixel it covers is in a held-out (bottom 20 %) row

    @property
    def changed(self) -> bool:
        return self.change_px >= MIN_CHANGE_PX


def precision(ranked: list[RankedTile]) -> dict[str, float]:
    """Expected P@k over every order of tied scores (the amended measure)."""
    scores = np.array([tile.score for tile in ranked])
    changed = np.array([tile.changed for tile in ranked], dtype=float)
    return {f"p@{k}": precision_at(scores, changed, k) for k in KS}


def precision_by_key(ranked: list[RankedTile]) -> dict[str, float]:
    """P@k of the list as sorted (ties by tile key): the first run's measure, kept to show
    what it reported."""
    return {f"p@{k}": float(np.mean([tile.changed for tile in ranked[:k]])) for k in KS}


def top_ties(ranked: list[RankedTile]) -> int:
    """Tiles that share the best score."""
    return sum(tile.score == ranked[0].score for tile in ranked) if ranked else 0


def floors(ranked: list[RankedTile], seed: int = 0) -> dict[str, object]:
    changed = np.array([tile.changed for tile in ranked])
    rng = np.random.default_rng(seed)
    draws = np.array(
        [changed[rng.permutation(len(changed))[: max(KS)]] for _ in range(RANDOM_RANKINGS)]
    )
    return {
        "tiles": len(ranked),
        "tiles_with_change": int(changed.sum()),
        "base_rate": float(changed.mean()),
        "random": {
            f"p@{k}": {
                "mean": float(draws[:, :k].mean()),
                "sd": float(draws[:, :k].mean(axis=1).std()),
            }
            for k in KS
        },
    }


def held_out(ranked: list[RankedTile]) -> list[RankedTile]:
    return [tile for tile in ranked if tile.held_out]
