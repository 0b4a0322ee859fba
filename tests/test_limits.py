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
