"""Canonical JSON: one byte sequence per value, so that a hash of it means something.

The form is RFC 8785-like: object keys sorted by code point, no insignificant whitespace,
UTF-8 (non-ASCII characters written as themselves), no NaN or infinity (:func:`jsonable`
turns them into ``null``, as a statistic over no pixels is recorded). It differs
from RFC 8785 only where Python and ECMAScript disagree: keys outside the Basic
Multilingual Plane sort by code point (RFC 8785 sorts UTF-16 units) and floats are written
by Python's shortest round-trip ``repr`` (``1.0``, ``1e+22``). Anyone checking an entry
with Python's ``json.dumps(value, sort_keys=True, separators=(",", ":"),
ensure_ascii=False, allow_nan=False)`` gets the same bytes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import PurePath
from typing import Any


def iso_utc(moment: datetime) -> str:
    """A UTC instant as text with microseconds and ``Z``: the only time form in hashes."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime in evidence: attach a time zone")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def jsonable(value: Any) -> Any:
    """``value`` with datetimes, dates, paths and tuples turned into plain JSON values.

    Callers may hand over what they have (a scene's datetime, a product's path); anything
    else that JSON cannot hold is a programming error and raises TypeError.
    """
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN or infinity; a missing statistic is recorded as null
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, Mapping):
        result = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"evidence payload keys must be text, got {key!r}")
            result[key] = jsonable(item)
        return result
    if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        return [jsonable(item) for item in value]
    raise TypeError(f"cannot put {type(value).__name__} into an evidence payload")


def canonical_json(value: Any) -> str:
    """The canonical text of ``value`` (see the module docstring for the rules)."""
    return json.dumps(
        jsonable(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def canonical_bytes(value: Any) -> bytes:
    """UTF-8 bytes of :func:`canonical_json`: what hashes and signatures are computed over."""
    return canonical_json(value).encode("utf-8")
