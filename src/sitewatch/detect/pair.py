"""``sitewatch detect-pair BEFORE AFTER --out DIR``: change between two scenes on disk.

Each scene is a file or a folder of per-band files. The run works on BEFORE's grid (see
:mod:`sitewatch.detect.sources`) and writes the four products of
:mod:`sitewatch.detect.products` into DIR. Bands default to those both scenes have; for
Sentinel-2 to B02 B03 B04 B08 (statistical methods) or the ten 10 m + 20 m land bands
(learned methods).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sitewatch.analysis.methods import check_change_method, default_bands
from sitewatch.detect.pipeline import DetectionOptions, run_detection
from sitewatch.detect.products import input_files, staged_products, write_products
from sitewatch.detect.sources import BandFile, FilePair, scene_bands
from sitewatch.errors import InputError
from sitewatch.files import check_output_folder

PIXEL_SPACE_NOTICE = (
    "pixel space: {before} and {after} are not georeferenced; objects are in pixel coordinates"
)


@dataclass(frozen=True)
class PairRun:
    """Where the products went and the run record (the content of run.json)."""

    out: Path
    run: dict[str, Any]

    @property
    def summary(self) -> dict[str, Any]:
        return self.run["summary"]


def pair_bands(
    before: dict[str, BandFile],
    after: dict[str, BandFile],
    requested: Sequence[str] | None,
    method: str,
    before_path: Path,
    after_path: Path,
) -> list[str]:
    """The bands of a pair of scenes on disk: the requested ones (each in both scenes), else
    the method's default (:func:`~sitewatch.analysis.methods.default_bands`) of the bands
    both share. Catalogued scenes go through :func:`sitewatch.imagery.stack.choose_bands`."""
    if requested:
        chosen = list(dict.fromkeys(requested))
        for band in chosen:
            for scene, path in ((before, before_path), (after, after_path)):
                if band not in scene:
                    raise InputError(
                        f"has no band {band!r} (it has: {', '.join(scene)})", source=path
                    )
        return chosen
    common = [band for band in before if band in after]
    if not common:
        raise InputError(
            f"shares no band name with {before_path} ({', '.join(before)} vs {', '.join(after)});"
            " pass --bands",
            source=after_path,
        )
    return default_bands(common, method)


def detect_pair(
    before: Path,
    after: Path,
    out: Path,
    *,
    options: DetectionOptions | None = None,
    bands: Sequence[str] | None = None,
    notify: Callable[[str], None] | None = None,
) -> PairRun:
    """Detect change from ``before`` to ``after`` and write the products into ``out``.

    ``notify`` receives one-line notices (the pixel-space notice). Raises InputError for
    bad input before anything is written.
    """
    options = options or DetectionOptions()
    check_change_method(options.method)
    check_output_folder(out, "--out")
    before_bands = scene_bands(before)
    after_bands = scene_bands(after)
    chosen = pair_bands(before_bands, after_bands, bands, options.method, before, after)
    with FilePair(
        before.resolve(),
        after.resolve(),
        [before_bands[band] for band in chosen],
        [after_bands[band] for band in chosen],
    ) as source:
        if not source.grid.georeferenced and notify is not None:
            notify(PIXEL_SPACE_NOTICE.format(before=before, after=after))
        with staged_products(out) as (staging, scratch):
            result = run_detection(
                source, options, scratch, before_name=str(before), after_name=str(after)
            )
            lineage = {
                "kind": "detect-pair",
                "parameters": {**options.as_dict(), "bands": chosen},
                "inputs": {
                    "before": {
                        "path": str(before.resolve()),
                        "files": input_files([before_bands[band].path for band in chosen]),
                    },
                    "after": {
                        "path": str(after.resolve()),
                        "files": input_files([after_bands[band].path for band in chosen]),
                    },
                },
            }
            run = write_products(staging, result, source.grid, lineage)
    return PairRun(out=out.resolve(), run=run)
