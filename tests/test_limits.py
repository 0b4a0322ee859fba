"""The bounds of sitewatch.limits: finite numbers within a closed range."""

from __future__ import annotations

import pytest

from sitewatch import limits
from sitewatch.errors import InputError


def test_a_bound_refuses_non_numbers_and_non_finite_values() -> None:
    assert limits.UNCERTAINTY_M.check(0.0, item="u") == 0.0
    for value in (float("nan"), float("inf"), -1.0, 100_000.5, True):
        with pytest.raises(InputError, match=r"^u: "):
            limits.UNCERTAINTY_M.check(value, item="u")


def test_a_huge_integer_is_out_of_range_not_an_overflow() -> None:
    with pytest.raises(InputError, match=r"^--limit: 100000000000\.\.\. \(401 digits\) is out"):
        limits.ROW_LIMIT.check(10**400, item="--limit")
