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

Like the statistical methods, the method splits into a fit and an apply step so that a
scene larger than memory streams through it: :meth:`SiameseChange.fit` takes the
per-band statistics above from (band, n) pixel samples of the two dates (the detection
pipeline's scene-wide sample: the statistics are per scene, so a sample gives the same
normalisation up to sampling error), and :meth:`SiameseChange.apply` runs the network on
one window read with margins (:meth:`SiameseChange.windows`: cores of ``tile - 2 *
margin`` px, rounded to the pooling stride, read with ``margin`` px of context that is
computed and discarded). The network sees 40 px around a pixel, so a 40 px margin gives
scores identical to an untiled run; the default 32 px saves 4 % of the compute and moves
probabilities near window borders by less than 0.01 (no pixel of rennes crosses the
threshold). :meth:`SiameseChange.score` does the same on in-memory (or memory-mapped)
arrays, with statistics from a strided subsample.

Cost (one onnxruntime thread, see benchmarks/siamese_throughput.py): the network is
nearly all of it; 1024 px windows hold about 0.5-0.8 GB (onnxruntime's arena, per window
shape, whatever the raster size), 512 px windows about 0.15 GB but spend 27 % instead of
14 % of the compute on margins.
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
from sitewatch.analysis.methods import TileWindow, register_method
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
_STATISTICS_PIXELS = 1 << 18
#: Bytes of normalised input handled at a time (a block of rows of all bands): L2-sized.
_BLOCK_BYTES = 1 << 20


def models_dir() -> Path:
    """Folder of the packaged weights and model cards."""
    return Path(str(resources.files("sitewatch") / "models"))


def band_statistics(image: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """Per-band (median, scale) of a (band, y, x) image, shaped (band, 2).

    Estimated on a strided subsample of at most ~0.26 Mpx, which is as good as the full
    scene for two quantiles (12 k pixels already move the rennes F1 by < 0.002) and keeps
    the cost independent of raster size.
    """
    _, rows, cols = image.shape
    step = max(1, int(np.ceil(np.sqrt(rows * cols / _STATISTICS_PIXELS))))
    sample = np.asarray(image[:, ::step, ::step], dtype=np.float32)
    if valid is None:
        return sample_statistics(sample.reshape(sample.shape[0], -1))
    return sample_statistics(sample[:, np.asarray(valid[::step, ::step], dtype=bool)])


def sample_statistics(sample: np.ndarray) -> np.ndarray:
    """Per-band (median, scale) of a (band, n) pixel sample, shaped (band, 2) float32.

    Pixels with any band not finite are left out. This is :func:`band_statistics` for a
    caller that already holds a sample of the scene (the detection pipeline).
    """
    values = np.asarray(sample, dtype=np.float32)
    finite = np.isfinite(values).all(axis=0)
    if not finite.all():
        values = values[:, finite]
    if not values.shape[1]:
        raise InputError("no valid pixel to normalise the image with", item="image")
    low, median, high = np.percentile(values, [25, 50, 75], axis=1)
    scale = np.maximum((high - low) / 1.349, 1e-6)
    return np.stack([median, scale], axis=1).astype(np.float32)


def normalise_image(image: np.ndarray, statistics: np.ndarray) -> np.ndarray:
    """``(image - median) / scale`` per band, clipped to +-8, NaN -> 0 (float32 copy)."""
    normalised = np.empty(image.shape, dtype=np.float32)
    _normalise_into(normalised, image, statistics)
    return normalised


def _normalise_into(
    out: np.ndarray,
    image: np.ndarray,
    statistics: np.ndarray,
    picked: slice | list[int] = slice(None),
) -> tuple[np.ndarray, np.ndarray]:
    """Write normalised ``image[picked]`` into the top-left of ``out`` (band, y, x); return
    its (y, x) nodata map (any band not finite) and brightness (band sum after clipping,
    NaN -> 0), which gives the direction.

    Works on blocks of rows of about :data:`_BLOCK_BYTES` so the five passes (subtract,
    scale, nodata sum, clip, brightness sum) run on data in cache: one trip through
    memory per window instead of five. A pixel is nodata when its band sum before
    clipping is not finite, which is when a band is (the normalised values are far too
    small for a finite sum to overflow float32).
    """
    bands, (rows, cols) = out.shape[0], image.shape[1:]
    median = statistics[:, 0, None, None]
    inverse = (1 / statistics[:, 1])[:, None, None]
    nodata = np.empty((rows, cols), dtype=bool)
    brightness = np.empty((rows, cols), dtype=np.float32)
    step = max(1, _BLOCK_BYTES // (4 * bands * cols))
    for top in range(0, rows, step):
        span = slice(top, min(top + step, rows))
        block = out[:, span, :cols]
        np.subtract(image[picked, span], median, out=block, dtype=np.float32)
        block *= inverse
        np.sum(block, axis=0, out=brightness[span])
        np.logical_not(np.isfinite(brightness[span]), out=nodata[span])
        np.clip(block, -CLIP, CLIP, out=block)
        if nodata[span].any():
            np.copyto(block, 0.0, where=np.isnan(block))
        np.sum(block, axis=0, out=brightness[span])
    return nodata, brightness


def _reflect_padding(buffer: np.ndarray, rows: int, cols: int) -> None:
    """Fill ``buffer`` beyond ``rows`` x ``cols`` in place as ``np.pad(mode="symmetric")``
    at the bottom and right would (the padding the network was run with)."""
    total_rows, total_cols = buffer.shape[1:]
    if total_rows > rows:
        source = np.pad(np.arange(rows), (0, total_rows - rows), mode="symmetric")[rows:]
        buffer[:, rows:, :cols] = buffer[:, source, :cols]
    if total_cols > cols:
        source = np.pad(np.arange(cols), (0, total_cols - cols), mode="symmetric")[cols:]
        buffer[:, :, cols:] = buffer[:, :, source]


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
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    # ENABLE_ALL includes the blocked (NCHWc) convolution layout: 10-30 % faster here.
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    try:
        return onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime raises its own untyped exceptions
        raise InputError(f"cannot load the ONNX model: {error}", source=path) from None


def _spans(length: int, tile: int, margin: int) -> list[tuple[slice, slice]]:
    """(read, kept) slices along one axis.

    Kept cores tile the axis exactly; reads extend them by ``margin`` where the image
    allows. Core sizes and margins are multiples of STRIDE so every read starts on the
    pooling grid of a whole-image run, which makes tiled and untiled scores agree.
    """
    core = max(STRIDE, (tile - 2 * margin) // STRIDE * STRIDE)
    spans = []
    for start in range(0, length, core):
        stop = min(start + core, length)
        spans.append(
            (slice(max(0, start - margin), min(length, stop + margin)), slice(start, stop))
        )
    return spans


@dataclass(frozen=True)
class SceneStatistics:
    """What :meth:`SiameseChange.fit` learns: per-band (median, scale) of each date,
    (band, 2) float32 in model band order."""

    before: np.ndarray
    after: np.ndarray


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
    _scratch: dict[str, np.ndarray] = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        if self.threads < 1:
            raise InputError("must be at least 1", item="threads")
        if self.margin < 0 or self.margin % STRIDE:
            raise InputError(f"must be a multiple of {STRIDE}, 0 or more", item="margin")
        if self.tile < 2 * self.margin + STRIDE:
            raise InputError("tile must exceed twice the margin", item="tile")
        self.weights, self._band_indices = weights_for_bands(self.bands)
        self.card = load_model_card(self.weights, self.model_dir)
        self.threshold = float(self.card["threshold"])

    @property
    def model_path(self) -> Path:
        return (self.model_dir or models_dir()) / self.card["onnx"]

    def _scratch_buffer(self, name: str, shape: tuple[int, int, int]) -> np.ndarray:
        """A C-contiguous float32 array of ``shape`` over memory kept between windows.

        Fresh window-sized arrays (40 MB for 1024 px and ten bands) come from the kernel
        as new pages, zeroed on first touch, for every window; reusing one buffer per
        date avoids that. The instance is therefore not for concurrent use by threads.
        """
        size = shape[0] * shape[1] * shape[2]
        flat = self._scratch.get(name)
        if flat is None or flat.size < size:
            flat = self._scratch[name] = np.empty(size, dtype=np.float32)
        return flat[:size].reshape(shape)

    def fit(self, sample_before: np.ndarray, sample_after: np.ndarray) -> SceneStatistics:
        """Normalisation statistics from (band, n) pixel samples of the two dates, bands in
        the order of :attr:`bands` (the pipeline's sample of clear pixels)."""
        for name, sample in (("before", sample_before), ("after", sample_after)):
            if sample.ndim != 2 or sample.shape[0] != len(self.bands):
                raise InputError(
                    f"sample {sample.shape} must be ({len(self.bands)} bands, pixels)", item=name
                )
        return SceneStatistics(
            before=sample_statistics(sample_before[self._band_indices]),
            after=sample_statistics(sample_after[self._band_indices]),
        )

    def windows(self, height: int, width: int) -> list[TileWindow]:
        """The network runs that cover a ``height`` x ``width`` grid, row-major."""
        return [
            TileWindow(read=(read_rows, read_cols), core=(core_rows, core_cols))
            for read_rows, core_rows in _spans(height, self.tile, self.margin)
            for read_cols, core_cols in _spans(width, self.tile, self.margin)
        ]

    def apply(
        self,
        before: np.ndarray,
        after: np.ndarray,
        fitted: SceneStatistics,
        keep: tuple[slice, slice] = (slice(None), slice(None)),
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """P(change) float32, direction int8 and nodata bool maps of ``keep`` of one window.

        ``before`` and ``after`` are one :meth:`windows` read window (band, y, x), bands in
        the order of :attr:`bands`. Direction is +1 where the mean normalised brightness
        rose: both dates are centred on their own medians, so it reads "became brighter
        than the rest of the scene did", the rule of the statistical methods.
        """
        picked = _band_selector(self._band_indices, before.shape[0])
        _, rows, cols = before.shape
        shape = (len(self._band_indices), -(-rows // STRIDE) * STRIDE, -(-cols // STRIDE) * STRIDE)
        inputs, missing, brightness = {}, [], []
        for name, image, statistics in (
            ("before", before, fitted.before),
            ("after", after, fitted.after),
        ):
            buffer = self._scratch_buffer(name, shape)
            image_missing, image_brightness = _normalise_into(buffer, image, statistics, picked)
            _reflect_padding(buffer, rows, cols)
            inputs[name] = buffer[None]
            missing.append(image_missing[keep])
            brightness.append(image_brightness[keep])
        (output,) = _session(str(self.model_path), self.threads).run(None, inputs)
        direction = np.sign(np.subtract(brightness[1], brightness[0])).astype(np.int8)
        nodata = missing[0] | missing[1]
        unpadded = output[0, 0, :rows, :cols]
        return unpadded[keep], direction, nodata

    def probability(
        self, before: np.ndarray, after: np.ndarray, valid: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The maps of :meth:`apply` over whole in-memory (or memory-mapped) images.

        Statistics come from a strided subsample of each date (``valid`` restricts it);
        only one window of normalised input is held at a time.
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
        fitted = SceneStatistics(
            before=band_statistics(before[picked], valid),
            after=band_statistics(after[picked], valid),
        )
        _, rows, cols = before.shape
        probability = np.zeros((rows, cols), dtype=np.float32)
        direction = np.zeros((rows, cols), dtype=np.int8)
        nodata = np.zeros((rows, cols), dtype=bool)
        for window in self.windows(rows, cols):
            read = (slice(None), *window.read)
            maps = self.apply(before[read], after[read], fitted, window.inner)
            for whole, part in zip((probability, direction, nodata), maps, strict=True):
                whole[window.core] = part
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
