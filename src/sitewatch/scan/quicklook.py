"""Before/after quicklook chips of one scan candidate, for triage by eye.

An analyst decides from these two pictures whether a candidate is worth a closer look, so
they follow the rules of the site chips (:mod:`sitewatch.imagery.chips`): one contrast
stretch shared by both dates (a stretch per image would make a bright new clearing and the
field it replaced look equally "normal"), NaN pixels transparent, small chips enlarged by
whole factors so pixels stay pixels. On top of that a chip is cut around the object with
context on every side (a change means little without its surroundings: a new pad next to
a road, a clearing at a forest edge) and the object's box is outlined in both images, so
the eye goes to the same place before and after.

The stretch is computed over the chip's own pixels, not the whole tile: the object is what
the analyst must read, and a tile-wide stretch can leave it nearly black or white.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from sitewatch.errors import InputError
from sitewatch.files import atomic_output
from sitewatch.imagery.chips import enlarge_for_display, joint_stretch

# Context around the object on each side: at least this many pixels, or the object's own
# size if larger, so a 3-pixel object still shows its neighbourhood and a large one is not
# drowned in it.
MIN_CONTEXT_PX = 24
OUTLINE_COLOUR = (255, 220, 0, 255)  # yellow: visible on vegetation, soil, water and roofs


def write_quicklooks(
    before_rgb: np.ndarray,
    after_rgb: np.ndarray,
    box: tuple[int, int, int, int],
    out_dir: Path,
    stem: str,
    *,
    labels: tuple[str, str] = ("before", "after"),
) -> dict[str, str]:
    """Write ``<stem>_before.png`` and ``<stem>_after.png`` into ``out_dir``.

    ``before_rgb``/``after_rgb`` are (3, rows, cols) or (1, rows, cols) or (rows, cols)
    arrays of the same tile on the same grid (NaN = no data); ``box`` is (row0, col0, row1,
    col1) of the object in those arrays, end-exclusive. ``labels`` are drawn in the top-left
    corner (give the dates or date windows: an undated picture is not evidence). Returns
    ``{"before": path, "after": path}``. Both inputs are checked before anything is written;
    each file appears under its final name only once complete.
    """
    before, after = _as_channels(before_rgb, "before"), _as_channels(after_rgb, "after")
    if before.shape != after.shape:
        raise InputError(
            f"before {before.shape[1:]} and after {after.shape[1:]} are not the same grid",
            item="quicklook",
        )
    rows, cols = before.shape[1:]
    row0, col0, row1, col1 = _check_box(box, rows, cols)
    window = chip_window((row0, col0, row1, col1), rows, cols)
    top, left, bottom, right = window
    values = np.stack([before, after])[:, :, top:bottom, left:right]
    images = _render(values, (row0 - top, col0 - left, row1 - top, col1 - left), labels)
    out_dir = Path(out_dir).expanduser().resolve()
    paths: dict[str, str] = {}
    for key, image in zip(("before", "after"), images, strict=True):
        path = out_dir / f"{stem}_{key}.png"
        with atomic_output(path, make_folder=True) as temporary:
            # Fast zlib level: triage draws chips by the dozen, and level 6 took about
            # three times the CPU for files ~13 % smaller.
            image.save(temporary, format="PNG", compress_level=1)
        paths[key] = str(path)
    return paths


def chip_window(box: tuple[int, int, int, int], rows: int, cols: int) -> tuple[int, int, int, int]:
    """(top, left, bottom, right) of the chip: the box plus context, clipped to the tile."""
    row0, col0, row1, col1 = box
    pad_rows = max(MIN_CONTEXT_PX, row1 - row0)
    pad_cols = max(MIN_CONTEXT_PX, col1 - col0)
    return (
        max(0, row0 - pad_rows),
        max(0, col0 - pad_cols),
        min(rows, row1 + pad_rows),
        min(cols, col1 + pad_cols),
    )


def _as_channels(array: np.ndarray, name: str) -> np.ndarray:
    values = np.asarray(array, dtype=np.float32)
    if values.ndim == 2:
        values = values[np.newaxis]
    if values.ndim != 3 or values.shape[0] not in (1, 3) or 0 in values.shape:
        raise InputError(
            f"must be (3, rows, cols), (1, rows, cols) or (rows, cols), got {array.shape}",
            item=f"quicklook {name}",
        )
    return values


def _check_box(box: tuple[int, int, int, int], rows: int, cols: int) -> tuple[int, int, int, int]:
    try:
        row0, col0, row1, col1 = (int(value) for value in box)
    except (TypeError, ValueError):
        raise InputError(
            f"must be four integers (row0, col0, row1, col1), got {box!r}", item="box"
        ) from None
    if not (0 <= row0 < row1 <= rows and 0 <= col0 < col1 <= cols):
        raise InputError(
            f"{(row0, col0, row1, col1)} is empty or outside the {rows} x {cols} tile", item="box"
        )
    return row0, col0, row1, col1


def _render(
    values: np.ndarray, box: tuple[int, int, int, int], labels: tuple[str, str]
) -> list[Image.Image]:
    """Two RGBA images of (2, channels, rows, cols) ``values`` sharing one stretch."""
    low, high = joint_stretch(values)
    scale = np.where(high > low, high - low, 1.0)
    stretched = np.clip((values - low[:, None, None]) / scale[:, None, None], 0.0, 1.0)
    images = []
    for index, label in enumerate(labels):
        bytes_ = (np.nan_to_num(stretched[index]) * 255).round().astype(np.uint8)
        if bytes_.shape[0] == 1:
            bytes_ = np.repeat(bytes_, 3, axis=0)
        valid = np.all(np.isfinite(values[index]), axis=0)
        rgba = np.concatenate([bytes_, (valid * 255).astype(np.uint8)[np.newaxis]])
        small = Image.fromarray(np.ascontiguousarray(rgba.transpose(1, 2, 0)), "RGBA")
        image = enlarge_for_display(small)
        factor = image.width // small.width
        _outline(image, box, factor)
        _label(image, label)
        images.append(image)
    return images


def _outline(image: Image.Image, box: tuple[int, int, int, int], factor: int) -> None:
    """A 2-pixel frame just outside the box, so the object's own pixels stay visible."""
    row0, col0, row1, col1 = box
    draw = ImageDraw.Draw(image)
    draw.rectangle(
        (col0 * factor - 2, row0 * factor - 2, col1 * factor + 1, row1 * factor + 1),
        outline=OUTLINE_COLOUR,
        width=2,
    )


def _label(image: Image.Image, text: str) -> None:
    font = ImageFont.load_default(size=max(11, image.width // 28))
    draw = ImageDraw.Draw(image)
    _, _, right, bottom = draw.textbbox((4, 3), text, font=font)
    draw.rectangle((0, 0, right + 4, bottom + 3), fill=(0, 0, 0, 255))
    draw.text((4, 3), text, font=font, fill=(255, 255, 255, 255))
