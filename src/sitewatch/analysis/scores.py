"""Change scores and the one linear pass over all pixels that produces them.

Both statistical methods (CVA and IR-MAD) end the same way: a linear map of the two dates
gives, per pixel, a vector whose entries are standard normal where nothing changed; its
squared length then follows a chi-square law with one degree of freedom per entry, and
the chi-square CDF of it is the probability that the pixel is NOT an ordinary no-change
pixel. That is our change score in [0, 1]. Note what it implies: over unchanged ground the
score is uniform on [0, 1] (it is one minus a p-value), so a fixed threshold ``t`` accepts a
false-alarm rate of ``1 - t``; thresholds of 0.99 and above are the useful range.

The methods fit their few parameters on a subsample and hand a :class:`LinearChiSquare`
to :func:`score_pixels`, which streams over the scene in chunks (cache sized, float32, no
full-size temporaries) so that cost stays one pass over the data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special

_CHUNK = 1 << 16


@dataclass(frozen=True)
class ChangeScore:
    """Result of a change method.

    ``score``: float32 (y, x) in [0, 1], 0 outside ``valid``. ``direction``: int8 (y, x),
    +1 gain (the after date is brighter: new bright structure, bare soil), -1 loss (darker:
    removal, regrowth), 0 where unknown or invalid. ``valid``: the pixels that were scored.
    """

    score: np.ndarray
    direction: np.ndarray
    valid: np.ndarray


@dataclass(frozen=True)
class LinearChiSquare:
    """``z = project_before @ before + project_after @ after - offset`` per pixel.

    The rows of ``z`` are standard normal under no change; ``direction_*`` is one extra
    row whose sign (after subtracting ``direction_offset``) gives the direction map.
    """

    project_before: np.ndarray
    project_after: np.ndarray
    offset: np.ndarray
    direction_before: np.ndarray
    direction_after: np.ndarray
    direction_offset: float


def chi2_cdf(statistic: np.ndarray, dof: int) -> np.ndarray:
    """Chi-square CDF in closed form, in place on a float32 array (returned).

    scipy's incomplete gamma costs ~100 ns a value, more than the rest of the pipeline,
    while for integer degrees of freedom the CDF is an exponential times a short
    polynomial (plus an erf term for odd ``dof``): five times faster, exact to float32.
    """
    half = np.multiply(statistic, np.float32(0.5), out=statistic)
    decay = np.exp(-half)
    if dof % 2 == 0:
        series = np.zeros_like(half)
        term = np.ones_like(half)
        for order in range(dof // 2):
            if order:
                term *= half / np.float32(order)
            series += term
        result = 1 - decay * series
    else:
        root = np.sqrt(half)
        result = special.erf(root)
        term = root / np.float32(math.gamma(1.5))
        for order in range(dof // 2):
            if order:
                term *= half / np.float32(order + 0.5)
            result -= decay * term
    np.clip(result, 0, 1, out=result)
    statistic[...] = result
    return statistic


def score_pixels(
    before: np.ndarray, after: np.ndarray, valid: np.ndarray, model: LinearChiSquare
) -> ChangeScore:
    """Apply ``model`` to every pixel of a (band, y, x) pair: scores and directions."""
    bands, rows, cols = before.shape
    flat_before = before.reshape(bands, -1)
    flat_after = after.reshape(bands, -1)
    flat_valid = valid.ravel()
    project_before = np.vstack([model.project_before, model.direction_before]).astype(np.float32)
    project_after = np.vstack([model.project_after, model.direction_after]).astype(np.float32)
    offset = np.append(model.offset, model.direction_offset).astype(np.float32)[:, np.newaxis]
    dof = model.offset.size
    score = np.empty(rows * cols, dtype=np.float32)
    direction = np.empty(rows * cols, dtype=np.int8)
    for start in range(0, rows * cols, _CHUNK):
        chunk = slice(start, start + _CHUNK)
        projected = project_before @ flat_before[:, chunk]
        projected += project_after @ flat_after[:, chunk]
        projected -= offset
        normal = projected[:dof]
        score[chunk] = chi2_cdf(np.einsum("ij,ij->j", normal, normal), dof)
        brighter = projected[dof]
        direction[chunk] = brighter > 0  # comparisons, not np.sign: NaN must give 0
        direction[chunk] -= brighter < 0
    if not flat_valid.all():  # NaN or masked-out pixels: one pass at the end, not per chunk
        outside = ~flat_valid
        score[outside] = 0
        direction[outside] = 0
    return ChangeScore(
        score=score.reshape(rows, cols), direction=direction.reshape(rows, cols), valid=valid
    )
