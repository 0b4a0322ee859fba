"""Change methods behind one interface, and the registry that names them.

A method is any object with a ``name`` and ``score(before, after, valid) -> ChangeScore``
(:class:`ChangeMethod`). Methods are registered by name with a factory taking keyword
parameters, so that callers (CLI, scan runner) pick one with :func:`get_method` and a
learned method can be added later without touching this module: its own module calls
``register_method("siamese", factory)`` and the factory imports the heavy deep-learning
stack only when the method is actually requested.

Direction rule shared by the statistical methods: a pixel is a gain (+1) when the mean
over ``direction_bands`` of ``after - before`` is above its scene median, a loss (-1) when
below. Subtracting the median removes a global brightness difference between the dates.
Gain therefore means "brighter than the rest of the scene became": new roofs, concrete,
bare soil, and cleared vegetation when the direction bands are visible and SWIR bands
(clearing raises red and SWIR reflectance); loss means removal of bright structure or
regrowth. Near-infrared drops when vegetation is cleared, so leave NIR out of
``direction_bands`` when vegetation clearing should read as gain.

The policy of which method and which bands a run uses when the user names none lives here
too, beside the registry it chooses from (as xarray's backend registry owns which engine
opens a file): detection runs (:mod:`sitewatch.detect`) and scans (:mod:`sitewatch.scan`)
are siblings over it. :func:`build_method` is the one way both build a method for a list of
band names. The Sentinel-2 band tables the policy picks from are in
:mod:`sitewatch.imagery.sentinel2`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
from scipy import linalg, stats

from sitewatch import limits
from sitewatch.analysis.arrays import image_pair, joint_valid, sample_pixels, subsample_indices
from sitewatch.analysis.irmad import SAMPLE_SIZE, fit_irmad
from sitewatch.analysis.scores import ChangeScore, LinearChiSquare, score_pixels
from sitewatch.errors import InputError
from sitewatch.imagery.sentinel2 import LAND_BANDS, TEN_METRE_BANDS, VISIBLE_BANDS


@runtime_checkable
class ChangeMethod(Protocol):
    """What every change method offers."""

    name: str

    def score(
        self, before: np.ndarray, after: np.ndarray, valid: np.ndarray | None = None
    ) -> ChangeScore:
        """Per-pixel change score in [0, 1] and direction for two (band, y, x) images."""
        ...


@runtime_checkable
class SampleFittedMethod(ChangeMethod, Protocol):
    """A method whose few parameters are fitted on a pixel sample, then applied linearly.

    The split lets a caller fit once on a sample gathered across a scene too large for
    memory and then score it tile by tile with
    :func:`~sitewatch.analysis.scores.score_pixels`: the tiles then share one model, so
    a tiled run gives the same scores as a whole-scene run.
    """

    sample_size: int

    def fit(self, sample_before: np.ndarray, sample_after: np.ndarray) -> LinearChiSquare:
        """The linear chi-square model from (band, n) float64 samples of the two dates."""
        ...


@dataclass(frozen=True)
class TileWindow:
    """One network run: the grid rows/columns read (core plus margins) and those kept."""

    read: tuple[slice, slice]
    core: tuple[slice, slice]

    @property
    def inner(self) -> tuple[slice, slice]:
        """The core relative to the read window (what to keep of the run's output)."""
        (read_rows, read_cols), (core_rows, core_cols) = self.read, self.core
        return (
            slice(core_rows.start - read_rows.start, core_rows.stop - read_rows.start),
            slice(core_cols.start - read_cols.start, core_cols.stop - read_cols.start),
        )


@runtime_checkable
class WindowedMethod(Protocol):
    """A method fitted on a pixel sample, then applied window by window with margins.

    What the detection pipeline needs to stream a convolutional method: it gathers the
    sample, calls ``fit`` once, reads each ``windows`` entry's ``read`` window and keeps
    ``apply``'s maps of its ``core``.
    """

    name: str

    def fit(self, sample_before: np.ndarray, sample_after: np.ndarray) -> Any: ...

    def windows(self, height: int, width: int) -> list[TileWindow]: ...

    def apply(
        self, before: np.ndarray, after: np.ndarray, fitted: Any, keep: tuple[slice, slice]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...


def _score_with_fit(
    method: SampleFittedMethod,
    before: np.ndarray,
    after: np.ndarray,
    valid: np.ndarray | None,
) -> ChangeScore:
    """Whole-image scoring: fit on an even subsample of valid pixels, then one linear pass."""
    before, after = image_pair(before, after)
    usable = joint_valid(before, after, valid)
    sample = subsample_indices(usable, method.sample_size)
    model = method.fit(sample_pixels(before, sample), sample_pixels(after, sample))
    return score_pixels(before, after, usable, model)


def _direction_rows(
    sample_before: np.ndarray, sample_after: np.ndarray, bands: Sequence[int] | None
) -> tuple[np.ndarray, np.ndarray, float]:
    """Weights and scene median of the brightness difference used for the direction map."""
    count = sample_before.shape[0]
    chosen = list(range(count)) if bands is None else list(bands)
    if not chosen or any(not 0 <= band < count for band in chosen):
        raise InputError(f"must be band indices in 0..{count - 1}", item="direction_bands")
    weights = np.zeros(count)
    weights[chosen] = 1.0 / len(chosen)
    median = float(np.median(weights @ (sample_after - sample_before)))
    return -weights, weights, median


@dataclass(frozen=True)
class ChangeVectorAnalysis:
    """CVA: length of the difference vector, whitened by its robust covariance.

    The difference ``after - before`` is centred and whitened with a robust (iteratively
    trimmed at the 97.5 % chi-square quantile) mean and covariance estimated on a
    subsample, so correlated bands are not counted twice and a global offset between the
    dates is ignored. Its squared length is chi-square with one degree of freedom per band
    over unchanged ground; the score is its CDF. CVA is not invariant to a gain between
    the dates: normalise first (:mod:`sitewatch.analysis.normalize`).
    """

    name: str = "cva"
    direction_bands: Sequence[int] | None = None
    sample_size: int = SAMPLE_SIZE
    trim_quantile: float = 0.975
    trim_iterations: int = 5

    def score(
        self, before: np.ndarray, after: np.ndarray, valid: np.ndarray | None = None
    ) -> ChangeScore:
        return _score_with_fit(self, before, after, valid)

    def fit(self, sample_before: np.ndarray, sample_after: np.ndarray) -> LinearChiSquare:
        """The linear map to chi-square variates, from (band, n) samples of both dates."""
        difference = sample_after - sample_before
        mean, covariance = self._robust_statistics(difference)
        # A tiny ridge (far below sensor noise in reflectance units) keeps identical or
        # band-duplicated inputs computable: they then score 0 instead of failing.
        ridge = np.eye(covariance.shape[0]) * 1e-12
        whitening = linalg.inv(linalg.cholesky(covariance + ridge, lower=True))
        direction_before, direction_after, direction_offset = _direction_rows(
            sample_before, sample_after, self.direction_bands
        )
        return LinearChiSquare(
            project_before=-whitening,
            project_after=whitening,
            offset=whitening @ mean,
            direction_before=direction_before,
            direction_after=direction_after,
            direction_offset=direction_offset,
        )

    def _robust_statistics(self, difference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and covariance of the no-change differences, insensitive to the changes."""
        bands = difference.shape[0]
        median = np.median(difference, axis=1)
        spread = 1.4826 * np.median(np.abs(difference - median[:, None]), axis=1)
        mean, covariance = median, np.diag(np.maximum(spread, 1e-12) ** 2)
        cutoff = stats.chi2.ppf(self.trim_quantile, bands)
        # A normal sample cut at the chi-square quantile has a smaller covariance; this
        # factor restores it (the usual consistency correction of trimmed estimators).
        consistency = self.trim_quantile / stats.chi2.cdf(cutoff, bands + 2)
        for _ in range(self.trim_iterations):
            centred = difference - mean[:, None]
            try:
                distance = np.einsum("ij,ij->j", centred, linalg.solve(covariance, centred))
            except (linalg.LinAlgError, ValueError):
                break
            kept = difference[:, distance <= cutoff]
            if kept.shape[1] <= bands:
                break
            mean = kept.mean(axis=1)
            covariance = np.atleast_2d(np.cov(kept)) * consistency
        return mean, covariance


@dataclass(frozen=True)
class IteratedMad:
    """IR-MAD (Nielsen 2007): chi-square of the MAD variates, mapped through its CDF.

    Invariant to per-band gains and offsets of either date, so it needs no normalisation.
    The score is the chi-square CDF of the MAD variates, scaled robustly as explained in
    :mod:`sitewatch.analysis.irmad`: the probability that a pixel is not ordinary
    no-change.
    """

    name: str = "irmad"
    direction_bands: Sequence[int] | None = None
    sample_size: int = SAMPLE_SIZE
    max_iterations: int = 30

    def score(
        self, before: np.ndarray, after: np.ndarray, valid: np.ndarray | None = None
    ) -> ChangeScore:
        return _score_with_fit(self, before, after, valid)

    def fit(self, sample_before: np.ndarray, sample_after: np.ndarray) -> LinearChiSquare:
        """The linear map to scaled MAD variates, from (band, n) samples of both dates."""
        fit = fit_irmad(sample_before, sample_after, max_iterations=self.max_iterations)
        direction_before, direction_after, direction_offset = _direction_rows(
            sample_before, sample_after, self.direction_bands
        )
        return LinearChiSquare(
            project_before=fit.weights_before,
            project_after=fit.weights_after,
            offset=fit.offset,
            direction_before=direction_before,
            direction_after=direction_after,
            direction_offset=direction_offset,
        )


MethodFactory = Callable[..., ChangeMethod]

_REGISTRY: dict[str, MethodFactory] = {}


def register_method(name: str, factory: MethodFactory, *, replace: bool = False) -> None:
    """Make ``factory(**params)`` available as ``get_method(name, **params)``."""
    if name in _REGISTRY and not replace:
        raise ValueError(f"change method {name!r} is already registered")
    _REGISTRY[name] = factory


def available_methods() -> list[str]:
    """Registered method names, sorted."""
    return sorted(_REGISTRY)


def check_change_method(name: str) -> None:
    """Fail when no change method is registered as ``name`` (before any reading)."""
    if name not in _REGISTRY:
        known = ", ".join(available_methods())
        raise InputError(f"unknown change method {name!r}; known methods: {known}", item="method")


def get_method(name: str, **params: Any) -> ChangeMethod:
    """The change method registered as ``name``, built with ``params``."""
    check_change_method(name)
    factory = _REGISTRY[name]
    try:
        return factory(**params)
    except TypeError as error:
        raise InputError(
            f"bad parameters for change method {name!r}: {error}", item="method"
        ) from None


register_method("cva", ChangeVectorAnalysis)
register_method("irmad", IteratedMad)


# ---------------------------------------------------------------- defaults of a run

#: The change method of a detection run (``detect``, ``detect-pair``, the demo): the one
#: with the best cross-validated F1 of the whole ``detect-pair`` command as it runs by
#: default, over the ten labelled OSCD cities (README, "Measured"). With the
#: vegetation-phase filter on (the default), IR-MAD 0.380 and CVA 0.378
#: (benchmarks/vegetation_filter.py), a tie the rule settles for IR-MAD; with the open-water
#: mask on too, IR-MAD 0.382 and CVA 0.370 (benchmarks/water_mask.py); the learned
#: ``siamese`` is behind (0.283 through the command without the filter, 0.327 for the
#: network alone with it), failing on one city out of fold.
DEFAULT_DETECT_METHOD = "irmad"
#: The change method of a scan: CVA, the best unfiltered cross-validated F1 (0.322 against
#: IR-MAD's 0.302, benchmarks/detect_cv.py), chosen before the scan applied the
#: vegetation-phase filter (with it the two tie, as above), also the cheapest per pixel;
#: the scan's tile ranker and place model were fitted on its scores.
DEFAULT_SCAN_METHOD = "cva"
#: The methods fitted on a pixel sample and applied linearly (:class:`SampleFittedMethod`);
#: any other registered method is learned and picks its weights by band names.
STATISTICAL_METHODS = ("cva", "irmad")

#: Smallest change object of a detection run, m2 (5 px at 10 m). Its threshold adapts to
#: the pair (Otsu on the significance) and it covers a place an analyst chose, so a small
#: new structure is worth reporting.
DETECT_MIN_AREA_M2 = 500.0
#: The same for a detection run on input without georeference (pixel space): a pixel count.
DETECT_MIN_PIXELS = 20
#: Smallest candidate of a scan, m2 (10 px at 10 m). A scan thresholds every tile at a fixed
#: score over a whole country, so the isolated false pixels that pass it add up over
#: thousands of tiles; twice the detection run's unit removes them from the candidates.
SCAN_MIN_AREA_M2 = 1000.0

_VISIBLE = frozenset({*VISIBLE_BANDS, "blue", "green", "red"})


def check_detection_threshold(threshold: float) -> float:
    """A detection run's fixed ``--threshold``: a cut on the change score, which is a
    probability, so anything in [0, 1] means something (0 keeps every compared pixel, 1
    none)."""
    return limits.THRESHOLD.check(threshold, item="--threshold")


def check_scan_threshold(threshold: float) -> float:
    """A scan's ``--threshold``: strictly between 0 and 1, unlike a detection run's
    (:func:`check_detection_threshold`). The scan ranks tiles and candidates in significance
    units, ``-log10(1 - score)`` (the statistical methods' chi-square quantile), which is
    infinite at 1, and a cut at 0 would make every pixel of a country a candidate."""
    check_detection_threshold(threshold)
    if threshold in (limits.THRESHOLD.low, limits.THRESHOLD.high):
        raise InputError(f"must be strictly between 0 and 1, got {threshold}", item="--threshold")
    return threshold


def default_bands(available: list[str], method: str) -> list[str]:
    """Bands to use when the user names none: on Sentinel-2 input (the four 10 m bands are
    there) :data:`~sitewatch.imagery.sentinel2.TEN_METRE_BANDS` for a statistical method,
    :data:`~sitewatch.imagery.sentinel2.LAND_BANDS` for a learned one, of those available;
    on any other input every available band."""
    wanted = TEN_METRE_BANDS if method in STATISTICAL_METHODS else LAND_BANDS
    if all(band in available for band in TEN_METRE_BANDS):
        return [band for band in wanted if band in available]
    return list(available)


def build_method(name: str, band_names: list[str]) -> ChangeMethod:
    """The registered method; statistical ones take the direction from the visible bands,
    any other method (learned) is given the band names, which it needs to pick weights."""
    if name in STATISTICAL_METHODS:
        visible = [i for i, band in enumerate(band_names) if band in _VISIBLE]
        return get_method(name, direction_bands=visible or None)
    return get_method(name, bands=tuple(band_names))
