"""Acquisition times from file names, tags and options."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from sitewatch.errors import InputError
from sitewatch.imagery.dates import (
    datetime_from_name,
    day_bound,
    parse_date,
    parse_datetime_option,
    parse_interval,
    parse_timestamp,
    parse_window,
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "S2A_OPER_MSI_L1C_TL_MPS__20161130T130757_A007527_T31UDQ_B01.tif",
            datetime(2016, 11, 30, 13, 7, 57, tzinfo=UTC),
        ),
        ("T31UDQ_20171107T105229_B01.tif", datetime(2017, 11, 7, 10, 52, 29, tzinfo=UTC)),
        ("pleiades_2016-11-30_ms.tif", datetime(2016, 11, 30, tzinfo=UTC)),
        ("scene_20171107.tif", datetime(2017, 11, 7, tzinfo=UTC)),
    ],
)
def test_dates_in_file_names(name: str, expected: datetime) -> None:
    assert datetime_from_name(name) == expected


@pytest.mark.parametrize("name", ["B02.tif", "tile_A007527.tif", "x_20171399.tif", "12345678901"])
def test_names_without_a_date(name: str) -> None:
    assert datetime_from_name(name) is None


def test_tiff_style_and_zoned_timestamps_become_utc() -> None:
    assert parse_timestamp("2016:11:30 10:52:00") == datetime(2016, 11, 30, 10, 52, tzinfo=UTC)
    assert parse_timestamp("2016-11-30T12:52:00+02:00") == datetime(
        2016, 11, 30, 10, 52, tzinfo=UTC
    )
    assert parse_timestamp("yesterday") is None


def test_bad_option_names_the_option() -> None:
    with pytest.raises(InputError, match=r"--datetime.*'30/11/2016'"):
        parse_datetime_option("30/11/2016", "--datetime")


def test_interval_with_open_end_and_whole_last_day() -> None:
    start, end = parse_interval("2016-01-01/2016-12-31", "--datetime")
    assert start == datetime(2016, 1, 1, tzinfo=UTC)
    assert end is not None and end.date().isoformat() == "2016-12-31" and end.hour == 23
    assert parse_interval("../2017-01-01T00:00:00Z", "--datetime")[0] is None
    with pytest.raises(InputError, match="start is after the end"):
        parse_interval("2018-01-01/2017-01-01", "--datetime")


def test_a_window_has_both_ends_and_includes_its_last_day() -> None:
    start, end = parse_window(" 2019-01-01 / 2019-06-30 ", "--before")
    assert start == datetime(2019, 1, 1, tzinfo=UTC)
    assert end == datetime.combine(date(2019, 6, 30), time.max, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2019-01-01", "expected START/END"),
        ("../2019-06-30", "needs both a start and an end"),
        ("2019-06-30/2019-01-01", "the start is after the end"),
        ("1066-01-01/1066-12-31", "is not a date or time"),
    ],
)
def test_a_bad_window_names_the_option(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as raised:
        parse_window(text, "--after")
    assert str(raised.value).startswith("--after: ")


def test_a_calendar_date_names_the_option() -> None:
    assert parse_date("2017-11-07", "--date") == date(2017, 11, 7)
    with pytest.raises(InputError, match=r"^--to: not a date '7/11/2017'; use YYYY-MM-DD$"):
        parse_date("7/11/2017", "--to")


def test_a_day_bound_is_the_whole_utc_day() -> None:
    assert day_bound(date(2017, 11, 7), end_of_day=False) == datetime(2017, 11, 7, tzinfo=UTC)
    assert day_bound(date(2017, 11, 7), end_of_day=True).time() == time.max
    assert day_bound(datetime(2017, 11, 7, 12), end_of_day=True) == datetime(
        2017, 11, 7, 12, tzinfo=UTC
    )
    assert day_bound(None, end_of_day=True) is None
