"""Activity over a time series: how much of a site changed at each date.

Input is a ``(time, band, y, x)`` stack (numpy with NaN for nodata, or the
``xarray.DataArray`` of :func:`sitewatch.imagery.stack.load_site_stack`), an optional bool
cloud mask ``(time, y, x)`` and an optional area-of-interest mask ``(y, x)``. Output is one
:class:`ActivityRecord` per date. Choices, and why:

- **Usable dates.** A date is usable when at least ``min_clear_fraction`` (50 %) of the
  area is valid and cloud-free. Below that, the few pixels left are mostly cloud edges and
  haze the mask missed, and their statistics are not worth comparing.
- **Previous usable date as the reference.** Each usable date is compared with the last
  usable date before it, never with a clouded one: a cloud would otherwise show up as
  activity twice (when it comes and when it goes). Consecutive comparisons localise an
  event to the interval in which it happened, which a fixed base date cannot do, and the
  series stays streamable: one pair of dates is in memory beyond the stack itself.
- **Scene-wide shift removed** (``remove_shift``, on by default). The median difference
  over the area is the part of the change every pixel shares: phenology, snow, haze,
  illumination. It is reported per date as ``shift`` but not counted as activity, the same
  way CVA ignores a global offset: site activity is change against the rest of the site.
- **Robust threshold** (method ``difference``, one band such as NDVI). A pixel changed
  when ``|difference - shift|`` exceeds ``max(k * noise, min_change)``. ``noise`` is the
  median over all compared pairs of each pair's robust spread (1.4826 x MAD): median and
  MAD ignore the changed pixels themselves, and taking the typical pair's spread rather
  than each pair's own keeps a pair where much of the site changed from raising its own bar.
  ``min_change`` is a physical floor in the band's units (0.1-0.2 for NDVI; 0 by default).
- **Multi-band methods** (``cva``, ``irmad`` from :mod:`sitewatch.analysis.methods`): a
  pixel changed when the method's chi-square score exceeds ``significance`` (0.999, a
  false-alarm rate of 0.1 % over unchanged ground). IR-MAD needs no radiometric
  normalisation between dates; it is the default for several bands.
- **Spikes.** A date's activity is a spike when it lies above the series' robust upper
  fence, median + ``spike_k`` x 1.4826 x MAD of all activity values, and is at least
  ``min_spike`` (1 % of the area), so that a near-constant quiet series does not call
  noise a spike.

``activity`` is the fraction of the pixels clear on both dates that changed; ``gain_share``
and ``loss_share`` split those pixels by direction (brighter / darker, or NDVI up / down).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from sitewatch.analysis.methods import get_method
from sitewatch.errors import InputError

DIFFERENCE = "difference"
SCORE_METHODS = ("cva", "irmad")
MAD_TO_SIGMA = 1.4826


@dataclass(frozen=True)
class ActivitySettings:
    """Thresholds of an activity run (see the module docstring for their meaning)."""

    min_clear_fraction: float = 0.5
    k: float = 3.0
    min_change: float = 0.0
    remove_shift: bool = True
    significance: float = 0.999
    spike_k: float = 3.0
    min_spike: float = 0.01

    def __post_init__(self) -> None:
        checks = {
            "min_clear_fraction": 0 < self.min_clear_fraction <= 1,
            "k": self.k > 0,
            "min_change": self.min_change >= 0,
            "significance": 0 < self.significance < 1,
            "spike_k": self.spike_k > 0,
            "min_spike": 0 <= self.min_spike <= 1,
        }
        for name, ok in checks.items():
            value = getattr(self, name)
            if not (ok and math.isfinite(value)):
                raise InputError(f"value {value} is out of range", item=name)


@dataclass
class ActivityRecord:
    """One date of the series. Fractions are of the area of interest, 0..1.

    ``activity``, ``mean_abs_change`` (mean over bands and clear pixels of |after - before|),
    ``shift`` (median change) and the direction shares are None when the date was not
    compared (unusable, first usable date, or too little overlap with its reference);
    ``note`` then says why.
    """

    index: int
    date: datetime | None
    scene_id: str | None
    usable: bool
    clear_fraction: float
    note: str = ""
    reference_index: int | None = None
    reference_date: datetime | None = None
    reference_scene_id: str | None = None
    joint_fraction: float | None = None
    activity: float | None = None
    mean_abs_change: float | None = None
    shift: float | None = None
    gain_share: float | None = None
    loss_share: float | None = None
    spike: bool = False

    def as_dict(self) -> dict[str, Any]:
        """Plain values for JSON and CSV (dates as ISO 8601 UTC)."""
        row = dict(self.__dict__)
        for key in ("date", "reference_date"):
            row[key] = row[key].isoformat().replace("+00:00", "Z") if row[key] else None
        return row


@dataclass
class ActivitySeries:
    """The records and the parameters that produced them (lineage for products)."""

    records: list[ActivityRecord]
    method: str
    bands: list[str]
    settings: ActivitySettings
    threshold: float | None = None
    noise: float | None = None
    spike_fence: float | None = None

    @property
    def spikes(self) -> list[ActivityRecord]:
        return [record for record in self.records if record.spike]

    @property
    def unusable(self) -> list[ActivityRecord]:
        return [record for record in self.records if not record.usable]


@dataclass(frozen=True)
class _Stack:
    """The stack as plain numpy plus its per-date labels."""

    data: np.ndarray  # (time, band, y, x) float
    band_indices: list[int]
    band_names: list[str]
    dates: list[datetime | None]
    scene_ids: list[str | None]


def activity_series(
    stack: Any,
    cloud: np.ndarray | None = None,
    *,
    method: str = "auto",
    settings: ActivitySettings | None = None,
    area: np.ndarray | None = None,
    bands: Sequence[str | int] | None = None,
    dates: Sequence[Any] | None = None,
    scene_ids: Sequence[str] | None = None,
) -> ActivitySeries:
    """Per-date activity of ``stack`` (see the module docstring).

    ``stack``: ``(time, band, y, x)`` numpy array or DataArray; a DataArray supplies dates
    (``time``), scene ids (``scene_id``) and band names unless given. ``cloud``: bool
    ``(time, y, x)``, True = cloud. ``area``: bool ``(y, x)``, the pixels that count (default
    all). ``bands``: names or indices of the bands to compare (default all). ``method``:
    ``difference`` (one band), ``cva``, ``irmad`` or ``auto`` (difference for one band,
    else irmad).
    """
    settings = settings or ActivitySettings()
    prepared = _prepare(stack, bands, dates, scene_ids)
    times, _, rows, cols = prepared.data.shape
    cloud = _check_cloud(cloud, (times, rows, cols))
    area = _check_area(area, (rows, cols))
    method = _resolve_method(method, len(prepared.band_indices))

    records = [_usability(prepared, cloud, area, index, settings) for index in range(times)]
    pairs = _pairs(records)
    noise = threshold = None
    if method == DIFFERENCE:
        spreads = [_pair_spread(prepared, cloud, area, pair, settings) for pair in pairs]
        measured = [spread for spread in spreads if spread is not None]
        noise = float(np.median(measured)) if measured else 0.0
        threshold = max(settings.k * noise, settings.min_change)
    else:
        threshold = settings.significance
    change_method = None if method == DIFFERENCE else get_method(method)
    for before_index, after_index in pairs:
        _compare(
            prepared,
            cloud,
            area,
            records,
            before_index,
            after_index,
            settings,
            threshold,
            change_method,
        )
    fence = _flag_spikes(records, settings)
    return ActivitySeries(
        records=records,
        method=method,
        bands=prepared.band_names,
        settings=settings,
        threshold=threshold,
        noise=noise,
        spike_fence=fence,
    )


def _prepare(
    stack: Any,
    bands: Sequence[str | int] | None,
    dates: Sequence[Any] | None,
    scene_ids: Sequence[str] | None,
) -> _Stack:
    """Numpy data, chosen band indices and per-date labels, from an array or DataArray."""
    is_data_array = hasattr(stack, "dims") and hasattr(stack, "coords")
    if is_data_array and tuple(stack.dims) != ("time", "band", "y", "x"):
        raise InputError(f"expected dims (time, band, y, x), got {stack.dims}", item="stack")
    data = np.asarray(stack.values if is_data_array else stack)
    if data.ndim == 3:
        data = data[:, np.newaxis]
    if data.ndim != 4 or 0 in data.shape:
        raise InputError(
            f"expected a (time, band, y, x) stack, got shape {data.shape}", item="stack"
        )
    if not np.issubdtype(data.dtype, np.floating):
        data = data.astype(np.float32)
    times, count = data.shape[:2]
    names = (
        [str(name) for name in stack.coords["band"].values]
        if is_data_array and "band" in stack.coords
        else [f"b{index + 1}" for index in range(count)]
    )
    indices = _band_indices(bands, names)
    if dates is None and is_data_array and "time" in stack.coords:
        dates = list(stack.coords["time"].values)
    if scene_ids is None and is_data_array and "scene_id" in stack.coords:
        scene_ids = [str(value) for value in stack.coords["scene_id"].values]
    labels = [_as_utc(value) for value in dates] if dates is not None else [None] * times
    ids = list(scene_ids) if scene_ids is not None else [None] * times
    for name, values in (("dates", labels), ("scene_ids", ids)):
        if len(values) != times:
            raise InputError(f"{len(values)} given for {times} time steps", item=name)
    return _Stack(data, indices, [names[index] for index in indices], labels, ids)


def _band_indices(bands: Sequence[str | int] | None, names: list[str]) -> list[int]:
    if bands is None:
        return list(range(len(names)))
    indices = []
    for band in bands:
        if isinstance(band, int | np.integer) and 0 <= band < len(names):
            indices.append(int(band))
        elif isinstance(band, str) and band in names:
            indices.append(names.index(band))
        else:
            raise InputError(f"no band {band!r} in the stack ({', '.join(names)})", item="bands")
    if not indices:
        raise InputError("asks for no band at all", item="bands")
    return indices


def _as_utc(value: Any) -> datetime:
    """A timezone-aware UTC datetime from datetime64, datetime or ISO text (naive = UTC)."""
    if isinstance(value, np.datetime64):
        seconds = value.astype("datetime64[us]").astype(datetime)
        return seconds.replace(tzinfo=UTC)
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise InputError(f"not an ISO 8601 date: {value!r}", item="dates") from None
    if not isinstance(value, datetime):
        raise InputError(f"not a date: {value!r}", item="dates")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _check_cloud(cloud: np.ndarray | None, shape: tuple[int, int, int]) -> np.ndarray | None:
    if cloud is None:
        return None
    mask = np.asarray(cloud)
    if mask.shape != shape:
        raise InputError(f"cloud mask shape {mask.shape} differs from {shape}", item="cloud")
    return mask.astype(bool, copy=False)


def _check_area(area: np.ndarray | None, shape: tuple[int, int]) -> np.ndarray:
    if area is None:
        return np.ones(shape, dtype=bool)
    mask = np.asarray(area, dtype=bool)
    if mask.shape != shape:
        raise InputError(f"area mask shape {mask.shape} differs from {shape}", item="area")
    if not mask.any():
        raise InputError("the area of interest covers no pixel of the stack", item="area")
    return mask


def check_activity_method(method: str) -> None:
    """Raise :class:`InputError` unless ``method`` is one this module knows."""
    if method not in ("auto", DIFFERENCE, *SCORE_METHODS):
        known = ", ".join(("auto", DIFFERENCE, *SCORE_METHODS))
        raise InputError(f"unknown activity method {method!r}; use {known}", item="method")


def _resolve_method(method: str, band_count: int) -> str:
    check_activity_method(method)
    if method == "auto":
        return DIFFERENCE if band_count == 1 else "irmad"
    if method == DIFFERENCE and band_count != 1:
        raise InputError(
            f"compares one band but {band_count} were given: pick one band (e.g. NDVI) "
            "or use cva or irmad",
            item="method difference",
        )
    return method


def _image(prepared: _Stack, index: int) -> np.ndarray:
    """One date's chosen bands, (band, y, x) float32."""
    return prepared.data[index, prepared.band_indices].astype(np.float32, copy=False)


def _clear(prepared: _Stack, cloud: np.ndarray | None, area: np.ndarray, index: int) -> np.ndarray:
    """Pixels of one date inside the area, finite in every chosen band and not cloud."""
    clear = area.copy()
    for band in prepared.band_indices:
        clear &= np.isfinite(prepared.data[index, band])
    if cloud is not None:
        clear &= ~cloud[index]
    return clear


def _usability(
    prepared: _Stack,
    cloud: np.ndarray | None,
    area: np.ndarray,
    index: int,
    settings: ActivitySettings,
) -> ActivityRecord:
    fraction = float(_clear(prepared, cloud, area, index).sum() / area.sum())
    usable = fraction >= settings.min_clear_fraction
    return ActivityRecord(
        index=index,
        date=prepared.dates[index],
        scene_id=prepared.scene_ids[index],
        usable=usable,
        clear_fraction=fraction,
        note=""
        if usable
        else f"clear on {fraction:.1%} of the area (< {settings.min_clear_fraction:.0%})",
    )


def _pairs(records: list[ActivityRecord]) -> list[tuple[int, int]]:
    """(reference, date) for each usable date after the first, and notes on the first."""
    pairs = []
    previous: int | None = None
    for record in records:
        if not record.usable:
            continue
        if previous is None:
            record.note = "first usable date: nothing earlier to compare with"
        else:
            pairs.append((previous, record.index))
        previous = record.index
    return pairs


def _joint(
    prepared: _Stack, cloud: np.ndarray | None, area: np.ndarray, pair: tuple[int, int]
) -> tuple[np.ndarray, float]:
    """Pixels clear on both dates of ``pair`` and the fraction of the area they cover."""
    joint = _clear(prepared, cloud, area, pair[0]) & _clear(prepared, cloud, area, pair[1])
    return joint, float(joint.sum() / area.sum())


def _pair_spread(
    prepared: _Stack,
    cloud: np.ndarray | None,
    area: np.ndarray,
    pair: tuple[int, int],
    settings: ActivitySettings,
) -> float | None:
    """Robust spread (1.4826 x MAD) of one pair's single-band differences."""
    joint, fraction = _joint(prepared, cloud, area, pair)
    if fraction < settings.min_clear_fraction:
        return None
    band = prepared.band_indices[0]
    difference = prepared.data[pair[1], band][joint] - prepared.data[pair[0], band][joint]
    return float(MAD_TO_SIGMA * np.median(np.abs(difference - np.median(difference))))


def _compare(
    prepared: _Stack,
    cloud: np.ndarray | None,
    area: np.ndarray,
    records: list[ActivityRecord],
    before_index: int,
    after_index: int,
    settings: ActivitySettings,
    threshold: float,
    change_method: Any,
) -> None:
    """Fill the record of ``after_index`` with its comparison against ``before_index``."""
    record = records[after_index]
    reference = records[before_index]
    record.reference_index = before_index
    record.reference_date = reference.date
    record.reference_scene_id = reference.scene_id
    joint, record.joint_fraction = _joint(prepared, cloud, area, (before_index, after_index))
    if record.joint_fraction < settings.min_clear_fraction:
        record.note = (
            f"clear on both dates on only {record.joint_fraction:.1%} of the area "
            f"(< {settings.min_clear_fraction:.0%})"
        )
        return
    before = _image(prepared, before_index)
    after = _image(prepared, after_index)
    difference = after[:, joint] - before[:, joint]  # (band, n)
    mean_difference = difference.mean(axis=0)
    shift = float(np.median(mean_difference))
    record.shift = shift
    record.mean_abs_change = float(np.abs(difference).mean())
    if change_method is None:
        local = mean_difference - shift if settings.remove_shift else mean_difference
        changed = np.abs(local) > threshold
        rising = local > 0
    else:
        result = change_method.score(before, after, joint)
        changed = result.score[joint] > threshold
        rising = result.direction[joint] > 0
    count = int(changed.sum())
    record.activity = count / changed.size
    if count:
        record.gain_share = float(rising[changed].sum() / count)
        record.loss_share = 1.0 - record.gain_share


def _flag_spikes(records: list[ActivityRecord], settings: ActivitySettings) -> float | None:
    """Mark dates above the robust upper fence of the series; returns the fence."""
    values = np.array([r.activity for r in records if r.activity is not None], dtype=float)
    if values.size < 3:
        return None
    median = float(np.median(values))
    fence = median + settings.spike_k * MAD_TO_SIGMA * float(np.median(np.abs(values - median)))
    for record in records:
        if record.activity is not None:
            record.spike = record.activity > fence and record.activity >= settings.min_spike
    return fence
