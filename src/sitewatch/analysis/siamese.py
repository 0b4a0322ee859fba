"""The learned change method ``siamese``: a small Siamese U-Net run with onnxruntime.

The network (trained by :mod:`sitewatch.ml`, which needs torch) ships as ONNX package
data in ``sitewatch/models`` next to a model card (JSON + Markdown). Detection needs only
numpy and onnxruntime. Two weight sets exist, chosen from the band names the caller
gives: ``s2-10`` for the ten 10 m and 20 m Sentinel-2 bands, ``rgb`` when only red, green
and blue are available. :attr:`SiameseChange.weights` says which one scored.

Normalisation (shared with training, which imports :func:`normalise_image` from here so
the two can never drift): each date and each band separately is centred on its median
and divided by its inter-quartile range / 1.349 (the standard deviation for a normal
law), both estimated over the valid pixels of the whole scene, then clipped to +-8. The
network thus sees the same numbers whatever the sun, season, sensor gain or atmosphere
of each date; what is left to explain is local change. Nodata becomes 0 (the median).

Inference runs in tiles (default 1024 px with 32 px margins that are computed and then
discarded) so memory stays bounded on any raster size; inputs may be ``numpy.memmap``
arrays, since statistics come from a strided subsample and tiles are read one at a time.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from sitewatch.analysis.arrays import as_mask, image_pair
from sitewatch.analysis.methods import register_method
from sitewatch.analysis.scores import ChangeScore
from sitewatch.errors import InputError

#: Ten Sentinel-2 bands of the ``s2-10`` weights, in model order (10 m, then 20 m).
S2_10_BANDS = ("B02", "B03", "B04", "B08", "B05", "B06", "B07", "B8A", "B11", "B12")
#: Sentinel-2 names of the ``rgb`` weights, in model order.
RGB_BANDS = ("B04", "B03", "B02")
_RGB_ALIASES = {"RED": "B04", "GREEN": "B03", "BLUE": "B02"}
#: Weight set name -> bands, in the order the network expects them.
WEIGHT_BANDS = {"s2-10": S2_10_BANDS, "rgb": RGB_BANDS}
MODEL_FILES = {"s2-10": "siamese_s2_10", "rgb": "siamese_rgb"}

#: Input sides of the network must be multiples of this (three 2x poolings).
STRIDE = 8
CLIP = 8.0
_STATISTICS_PIXELS = 1 << 20


def models_dir() -> Path:
    """Folder of the packaged weights and model cards."""
    return Path(str(resources.files("sitewatch") / "models"))


def band_statistics(image: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """Per-band (median, scale) of a (band, y, x) image, shaped (band, 2).

    Estimated on a strided subsample of at most ~1 Mpx, which is as good as the full
    scene for two quantiles and keeps the cost independent of raster size.
    """
    _, rows, cols = image.shape
    step = max(1, int(np.ceil(np.sqrt(rows * cols / _STATISTICS_PIXELS))))
    sample = np.asarray(image[:, ::step, ::step], dtype=np.float32)
    usable = np.isfinite(sample).all(axis=0)
    if valid is not None:
        usable &= np.asarray(valid[::step, ::step], dtype=bool)
    if not usable.any():
        raise InputError("no valid pixel to normalise the image with", item="image")
    values = sample[:, usable]
    low, median, high = np.percentile(values, [25, 50, 75], axis=1)
    scale = np.maximum((high - low) / 1.349, 1e-6)
    return np.stack([median, scale], axis=1).astype(np.float32)


def normalise_image(image: np.ndarray, statistics: np.ndarray) -> np.ndarray:
    """``(image - median) / scale`` per band, clipped to +-8, NaN -> 0 (float32 copy)."""
    return _normalise(image, statistics)[0]


def _normalise(image: np.ndarray, statistics: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Normalised copy of ``image`` and its (y, x) nodata map (any band not finite).

    One allocation and in-place passes: at inference this runs on every tile of both
    dates and would otherwise cost a third of the network's time.
    """
    normalised = np.subtract(image, statistics[:, 0, None, None], dtype=np.float32)
    normalised *= (1 / statistics[:, 1])[:, None, None]
    nodata = ~np.isfinite(normalised[0])
    for band in normalised[1:]:
        nodata |= ~np.isfinite(band)
    np.clip(normalised, -CLIP, CLIP, out=normalised)
    if nodata.any():
        np.copyto(normalised, 0.0, where=np.isnan(normalised))
    return normalised, nodata


def _band_selector(indices: list[int], count: int) -> slice | list[int]:
    """A slice when the model bands are the input bands in order: no fancy-index copy."""
    return slice(None) if indices == list(range(count)) else indices


def weights_for_bands(bands: Sequence[str]) -> tuple[str, list[int]]:
    """Weight set for the given band names and the indices that put them in model order.

    All ten S2 bands present -> ``s2-10`` (extra bands are ignored); else red, green and
    blue (``B04 B03 B02`` or ``red green blue``) -> ``rgb``; else an error naming what is
    missing.
    """
    names = [_RGB_ALIASES.get(str(band).upper(), str(band).upper()) for band in bands]
    if len(set(names)) != len(names):
        raise InputError(f"band names repeat: {list(bands)}", item="bands")
    for weights in ("s2-10", "rgb"):
        wanted = WEIGHT_BANDS[weights]
        if all(band in names for band in wanted):
            return weights, [names.index(band) for band in wanted]
    missing_s2 = [band for band in S2_10_BANDS if band not in names]
    missing_rgb = [band for band in RGB_BANDS if band not in names]
    raise InputError(
        f"the siamese method needs the Sentinel-2 bands {' '.join(S2_10_BANDS)} "
        f"(missing {' '.join(missing_s2)}) or red/green/blue (missing {' '.join(missing_rgb)})",
        item="bands",
    )


def load_model_card(weights: str, directory: Path | None = None) -> dict[str, Any]:
    """The model card (JSON) of a weight set."""
    path = (directory or models_dir()) / f"{MODEL_FILES[weights]}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InputError(f"cannot read the model card: {error}", source=path) from None


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@lru_cache(maxsize=8)
def _session(path: str, threads: int) -> Any:
    """One cached onnxruntime session per model file and thread count."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    try:
        return onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime raises its own untyped exceptions
        raise InputError(f"cannot load the ONNX model: {error}", source=path) from None


def _padded(tile: np.ndarray) -> np.ndarray:
    """``tile`` padded at the bottom and right to a multiple of :data:`STRIDE`."""
    _, rows, cols = tile.shape
    pad_rows, pad_cols = -rows % STRIDE, -cols % STRIDE
    if not pad_rows and not pad_cols:
        return tile
    return np.pad(tile, ((0, 0), (0, pad_rows), (0, pad_cols)), mode="symmetric")


def _spans(length: int, tile: int, margin: int) -> list[tuple[int, int, int, int]]:
    """(read start, read stop, keep start, keep stop) along one axis.

    Kept cores tile the axis exactly; reads extend them by ``margin`` where the image
    allows. Core sizes are multiples of STRIDE so every read starts on the pooling grid
    of a whole-image run, which makes tiled and untiled scores agree.
    """
    core = max(STRIDE, (tile - 2 * margin) // STRIDE * STRIDE)
    spans = []
    for start in range(0, length, core):
        stop = min(start + core, length)
        spans.append((max(0, start - margin), min(length, stop + margin), start, stop))
    return spans


@dataclass
class SiameseChange:
    """The ``siamese`` change method (see the module docstring)."""

    bands: Sequence[str] = S2_10_BANDS
    threads: int = 1
    tile: int = 1024
    margin: int = 32
    model_dir: Path | None = None
    name: str = "siamese"
    weights: str = field(init=False)
    threshold: float = field(init=False)
    card: dict[str, Any] = field(init=False, repr=False)
    _band_indices: list[int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.threads < 1:
            raise InputError("must be at least 1", item="threads")
        if self.margin < 0 or self.tile < 2 * self.margin + STRIDE:
            raise InputError("tile must exceed twice the margin", item="tile")
        self.weights, self._band_indices = weights_for_bands(self.bands)
        self.card = load_model_card(self.weights, self.model_dir)
        self.threshold = float(self.card["threshold"])

    @property
    def model_path(self) -> Path:
        return (self.model_dir or models_dir()) / self.card["onnx"]

    def probability(
        self, before: np.ndarray, after: np.ndarray, valid: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """P(change) float32, direction int8 and nodata bool maps (y, x), tile by tile.

        Direction is +1 where the mean normalised brightness rose: both dates are centred
        on their own medians, so it reads "became brighter than the rest of the scene
        did", the rule of the statistical methods. Only one tile of normalised input is
        held at a time. ``valid`` only restricts the normalisation statistics.
        """
        if before.shape != after.shape or before.ndim != 3:
            raise InputError(
                f"before {before.shape} and after {after.shape} must be equal (band, y, x)",
                item="after",
            )
        if before.shape[0] != len(self.bands):
            raise InputError(
                f"{len(self.bands)} band names given for {before.shape[0]} bands", item="bands"
            )
        picked = _band_selector(self._band_indices, before.shape[0])
        stats_before = band_statistics(before[picked], valid)
        stats_after = band_statistics(after[picked], valid)
        session = _session(str(self.model_path), self.threads)
        _, rows, cols = before.shape
        probability = np.zeros((rows, cols), dtype=np.float32)
        direction = np.zeros((rows, cols), dtype=np.int8)
        nodata = np.zeros((rows, cols), dtype=bool)
        for y0, y1, keep_y0, keep_y1 in _spans(rows, self.tile, self.margin):
            for x0, x1, keep_x0, keep_x1 in _spans(cols, self.tile, self.margin):
                window = (picked, slice(y0, y1), slice(x0, x1))
                first, missing_before = _normalise(before[window], stats_before)
                second, missing_after = _normalise(after[window], stats_after)
                (output,) = session.run(
                    None, {"before": _padded(first)[None], "after": _padded(second)[None]}
                )
                kept = (slice(keep_y0 - y0, keep_y1 - y0), slice(keep_x0 - x0, keep_x1 - x0))
                target = (slice(keep_y0, keep_y1), slice(keep_x0, keep_x1))
                probability[target] = output[0, 0][kept]
                brighter = second[:, kept[0], kept[1]].sum(0)
                brighter -= first[:, kept[0], kept[1]].sum(0)
                direction[target] = np.sign(brighter)
                nodata[target] = missing_before[kept] | missing_after[kept]
        return probability, direction, nodata

    def score(
        self, before: np.ndarray, after: np.ndarray, valid: np.ndarray | None = None
    ) -> ChangeScore:
        """P(change) as the score, 0 outside the valid pixels; direction as above."""
        if before.ndim != 3 or after.ndim != 3:
            before, after = image_pair(before, after)
        mask = None if valid is None else as_mask(valid, before.shape[1:], "valid")
        score, direction, nodata = self.probability(before, after, mask)
        usable = ~nodata if mask is None else mask & ~nodata
        if not usable.any():
            raise InputError(
                "no pixel is valid on both dates (all nodata, clouded or masked out)",
                item="valid",
            )
        score[~usable] = 0
        direction[~usable] = 0
        return ChangeScore(score=score, direction=direction, valid=usable)


def siamese_method(
    bands: Sequence[str] = S2_10_BANDS,
    *,
    threads: int = 1,
    tile: int = 1024,
    margin: int = 32,
    model_dir: Path | None = None,
) -> SiameseChange:
    """Factory registered as ``siamese``: weights chosen from ``bands`` (see module doc)."""
    return SiameseChange(
        bands=tuple(bands), threads=threads, tile=tile, margin=margin, model_dir=model_dir
    )


register_method("siamese", siamese_method)
