"""Bounded options (sitewatch.limits): infinity, NaN and absurd values in one line, exit 2."""

from __future__ import annotations

import pytest

from tests.cli.conftest import RunCli

HUGE = str(10**20)  # past SQLite's 64-bit integers: it used to overflow the query (exit 70)


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["imagery", "list", "--site", "s", "--buffer", "1e400"], "--buffer: inf is out of range"),
        (["imagery", "list", "--site", "s", "--buffer", "nan"], "--buffer: nan is out of range"),
        (["imagery", "list", "--site", "s", "--buffer", "200000"], "--buffer: 200000 is out"),
        (["chips", "s", "--out", "c", "--buffer", "1e400"], "buffer: inf is out of range"),
        (
            ["ledger", "list", "--limit", HUGE],
            "--limit: 100000000000000000000 is out of range: must be between 1 and 1,000,000",
        ),
        (["candidates", "list", "--limit", HUGE], "--limit: 100000000000000000000 is out of range"),
        (["candidates", "list", "--limit", "0"], "--limit: 0 is out of range"),
        (["ledger", "list", "--limit", "0"], "--limit: 0 is out of range: must be between 1 and"),
        (["scan-tiles", "x", "--top", HUGE], "--top: 100000000000000000000 is out"),
        (["detect-pair", "a", "b", "--out", "o", "--threshold", "nan"], "--threshold: nan is"),
        (["verify", "d", "--lookback-days", "1000000000"], "--lookback-days: 1000000000 is out"),
        (["verify", "d", "--min-change-m2", "nan"], "--min-change-m2: nan is out of range"),
        (["verify", "d", "--min-observations", "0"], "--min-observations: 0 is out of range"),
        (
            [
                "scan",
                "site:s",
                "--before",
                "2016-01-01/2016-12-31",
                "--after",
                "2017-01-01/2017-12-31",
                "--min-area",
                "1e400",
            ],
            "--min-area: inf is out of range",
        ),
    ],
)
def test_bounded_options_refuse_in_one_line(cli: RunCli, args: list[str], named: str) -> None:
    assert cli("sites", "add", "--name", "S", "--lat", "39", "--lon", "125").exit_code == 0
    result = cli(*args)
    assert result.exit_code == 2, result.output
    [line] = result.output.splitlines()
    assert line.startswith("error: ") and named in line, line
