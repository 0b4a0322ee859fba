"""What a tile task marks: the compared pixels beside the ones it could not compare."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from sitewatch.analysis.threshold import EIGHT_CONNECTED
from sitewatch.scan.tasks import beside_gaps


def test_pixels_beside_a_gap_are_the_ring_around_it() -> None:
    usable = np.ones((7, 7), bool)
    assert not beside_gaps(usable).any()
    usable[3, 3] = False  # one nodata pixel: its eight neighbours are beside it
    ring = beside_gaps(usable)
    assert ring.sum() == 8 and not ring[3, 3] and ring[2:5, 2:5].sum() == 8


def test_beside_gaps_is_the_eight_connected_dilation_of_the_gaps() -> None:
    usable = np.random.default_rng(0).random((40, 50)) > 0.1
    expected = usable & ndimage.binary_dilation(~usable, structure=EIGHT_CONNECTED)
    np.testing.assert_array_equal(beside_gaps(usable), expected)
