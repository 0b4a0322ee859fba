"""The dates burnt into a candidate's chips."""

from __future__ import annotations

from datetime import datetime

from sitewatch.scan.candidate_chips import dates_label


def test_a_chip_is_labelled_with_the_dates_it_shows_not_the_window() -> None:
    window = (datetime(2019, 1, 1), datetime(2019, 12, 31))
    one = [{"scene_id": "s1", "acquired": "2019-05-01T02:00:00+00:00"}]
    three = [*one, *({"scene_id": f"s{n}", "acquired": f"2019-0{n}-11T02:00:00"} for n in (6, 7))]
    assert dates_label(one, window) == "2019-05-01"
    assert dates_label(three, window) == "2019-05-01..2019-07-11 (3 scenes)"
    assert dates_label([], window) == "window 2019-01-01/2019-12-31"
