"""Iteratively reweighted MAD (Nielsen, IEEE TIP 2007): the statistics behind IR-MAD.

MAD finds pairs of linear combinations of the two dates' bands that are maximally
correlated (canonical correlation analysis); their differences, the MAD variates, are
uncorrelated, ordered by how much they change and invariant to any per-band gain and
offset of either date, which is why IR-MAD needs no prior radiometric normalisation.
The iteration re-estimates the statistics with each pixel weighted by its probability of
no change, so changed pixels stop distorting the "no change" reference.

One departure from the paper, measured on the OSCD cities: the iterated weights settle
on a tight core of very stable pixels (about 5 % of the Rennes scene), and scaling the MAD
variates by that core's variance calls 65 % of the scene changed at p = 0.999 (F1 0.11).
We keep the iterated canonical transform but scale the final MAD variates robustly
(median and 1.4826 x median absolute deviation over all sampled pixels), which restores
the intended "rare change" reading (10 % flagged, F1 0.46 on Rennes). The iterated
weights remain the no-change set used for radiometric normalisation.

Everything here runs on a deterministic subsample of valid pixels (200 000 by default):
the cost of the iterations does not grow with the scene, and the fitted map is applied
to all pixels in one linear pass (:func:`sitewatch.analysis.scores.score_pixels`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg

from sitewatch.analysis.scores import chi2_cdf
from sitewatch.errors import InputError

SAMPLE_SIZE = 200_000


@dataclass(frozen=True)
class MadFit:
    """Fitted IR-MAD statistics.

    ``weights_before`` / ``weights_after`` / ``offset`` map the two dates to MAD variates
    scaled to unit variance (rows ordered from most to least change);
    ``correlations`` are the canonical correlations (ascending); ``no_change`` is the final
    probability of no change of each sampled pixel.
    """

    weights_before: np.ndarray
    weights_after: np.ndarray
    offset: np.ndarray
    correlations: np.ndarray
    iterations: int
    no_change: np.ndarray


def _check_variance(values: np.ndarray, name: str) -> None:
    flat = np.flatnonzero(values.std(axis=1) == 0)
    if flat.size:
        raise InputError(
            f"band {int(flat[0])} is constant over the valid pixels; "
            "drop it (it carries no information about change)",
            item=name,
        )


def fit_irmad(
    before: np.ndarray,
    after: np.ndarray,
    *,
    max_iterations: int = 30,
    tolerance: float = 1e-5,
) -> MadFit:
    """IR-MAD statistics from sampled pixel values shaped (band, n) of the two dates.

    Sample with :func:`~sitewatch.analysis.arrays.subsample_indices` and
    :func:`~sitewatch.analysis.arrays.sample_pixels`; ``no_change`` is aligned with the
    sample's columns.
    """
    bands, count = before.shape
    if count <= 2 * bands:
        raise InputError(
            f"only {count} valid pixels; IR-MAD needs more than {2 * bands}", item="valid"
        )
    x = before.astype(np.float64, copy=False)
    y = after.astype(np.float64, copy=False)
    _check_variance(x, "before")
    _check_variance(y, "after")
    # Both dates stacked once; each iteration then costs two small matrix products over
    # the sample plus the chi-square weights (no per-iteration centred copies).
    stacked = np.vstack([x, y])
    weights = np.ones(count)
    previous = np.full(bands, np.inf)
    iterations = 0
    while iterations < max_iterations:
        iterations += 1
        total = weights.sum()
        mean = stacked @ weights / total
        covariance = (stacked * weights) @ stacked.T / total - np.outer(mean, mean)
        s_xx = covariance[:bands, :bands]
        s_yy = covariance[bands:, bands:]
        s_xy = covariance[:bands, bands:]
        try:
            squared, vectors_x = linalg.eigh(s_xy @ np.linalg.solve(s_yy, s_xy.T), s_xx)
        except (linalg.LinAlgError, ValueError) as error:
            raise InputError(f"the bands are linearly dependent ({error})", item="before") from None
        correlations = np.sqrt(np.clip(squared, 1e-12, 1.0))
        vectors_y = np.linalg.solve(s_yy, s_xy.T @ vectors_x) / correlations
        transform = np.hstack([vectors_x.T, -vectors_y.T])
        mad = transform @ stacked
        mad -= (transform @ mean)[:, None]
        spread = np.sqrt(np.maximum((mad**2) @ weights / total, 1e-20))
        chi_square = np.einsum("ij,ij->j", mad, mad / spread[:, None] ** 2)
        weights = 1.0 - chi2_cdf(chi_square.astype(np.float32), bands).astype(np.float64)
        converged = np.abs(correlations - previous).max() < tolerance
        previous = correlations
        if converged or weights.sum() <= 2 * bands:
            break
    # Final scale: robust over all sampled pixels, not the weighted variance (see module
    # docstring): on real scenes the weights settle on a tight core of very stable pixels.
    centre = np.median(mad, axis=1)
    scale = 1.4826 * np.median(np.abs(mad - centre[:, None]), axis=1)
    scale = np.where(scale > 0, scale, spread)
    return MadFit(
        weights_before=vectors_x.T / scale[:, None],
        weights_after=-vectors_y.T / scale[:, None],
        offset=(transform @ mean + centre) / scale,
        correlations=correlations,
        iterations=iterations,
        no_change=weights,
    )
