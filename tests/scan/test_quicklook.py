"""Before/after chips of a candidate: shared stretch, context, outline, nothing on bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sitewatch.errors import InputError
from sitewatch.scan.quicklook import MIN_CONTEXT_PX, OUTLINE_COLOUR, chip_window, write_quicklooks


def _tile(level: float, rows: int = 100, cols: int = 120) -> np.ndarray:
    rng = np.random.default_rng(7)
    return (level + 0.05 * rng.random((3, rows, cols))).astype(np.float32)


def test_writes_two_dated_pngs_with_the_box_outlined(tmp_path: Path) -> None:
    before, after = _tile(0.2), _tile(0.2)
    after[:, 40:50, 60:70] = 0.9  # a bright new object
    paths = write_quicklooks(
        before,
        after,
        (40, 60, 50, 70),
        tmp_path / "chips",
        "cand-1",
        labels=("2018-03-01", "2019-03-01"),
    )
    assert paths == {
        "before": str((tmp_path / "chips" / "cand-1_before.png").resolve()),
        "after": str((tmp_path / "chips" / "cand-1_after.png").resolve()),
    }
    with Image.open(paths["before"]) as b, Image.open(paths["after"]) as a:
        assert b.mode == a.mode == "RGBA" and b.size == a.size
        # Chip = box (10 px) + 24 px context each side = 58 px, enlarged x5 to >= 256 px.
        assert b.size == (290, 290)
        before_px, after_px = np.asarray(b), np.asarray(a)
    # Object centre: bright after, dark before (one shared stretch).
    centre = (24 + 5) * 5
    assert after_px[centre, centre, :3].min() == 255
    box = slice(24 * 5, 34 * 5)
    assert before_px[box, box, :3].mean() < 160
    # The outline sits just outside the box, in both images.
    edge = 24 * 5 - 1
    for pixels in (before_px, after_px):
        assert tuple(pixels[centre, edge]) == OUTLINE_COLOUR
    # The label box is drawn (black) in the top-left corner.
    assert tuple(before_px[1, 1]) == (0, 0, 0, 255)


def test_context_is_clipped_at_the_tile_edges_and_grows_with_the_object() -> None:
    assert chip_window((0, 0, 5, 5), 100, 100) == (0, 0, 5 + MIN_CONTEXT_PX, 5 + MIN_CONTEXT_PX)
    assert chip_window((30, 40, 70, 50), 100, 100) == (0, 16, 100, 74)


def test_nan_pixels_are_transparent_and_single_band_is_grey(tmp_path: Path) -> None:
    before = _tile(0.3)[0]
    after = before.copy()
    after[0:5, 0:5] = np.nan
    paths = write_quicklooks(before, after, (10, 10, 20, 20), tmp_path, "grey")
    with Image.open(paths["after"]) as image:
        pixels = np.asarray(image)
    factor = image.width // 44
    assert pixels[factor * 4, factor * 2, 3] == 0  # below the label, inside the NaN block
    red, green, blue = pixels[factor * 30, factor * 30, :3]
    assert red == green == blue


@pytest.mark.parametrize(
    ("box", "after_shape"),
    [
        ((10, 10, 10, 20), (3, 100, 120)),
        ((0, 0, 101, 5), (3, 100, 120)),
        ((1, 1, 5, 5), (3, 90, 120)),
    ],
)
def test_bad_input_writes_nothing(
    tmp_path: Path, box: tuple[int, int, int, int], after_shape: tuple[int, ...]
) -> None:
    after = np.ones(after_shape, np.float32)
    with pytest.raises(InputError):
        write_quicklooks(_tile(0.2), after, box, tmp_path / "out", "bad")
    assert not (tmp_path / "out").exists()
