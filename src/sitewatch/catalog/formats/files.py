"""File plumbing shared by the formats: careful reads, strict JSON, all-or-nothing writes."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sitewatch.errors import InputError
from sitewatch.text import has_lone_surrogate


def read_bytes(path: Path, *, limit: int | None = None, what: str = "file") -> bytes:
    """The file's bytes, or an InputError naming it (missing, a folder, unreadable).

    With ``limit``, a file larger than ``limit`` bytes is refused unread beyond it (a
    password file, say, must not be a disk image).
    """
    try:
        with path.open("rb") as stream:
            data = stream.read() if limit is None else stream.read(limit + 1)
    except FileNotFoundError:
        raise InputError("file not found", source=path) from None
    except IsADirectoryError:
        raise InputError("is a folder, not a file", source=path) from None
    except OSError as error:
        raise InputError(f"cannot read: {error.strerror}", source=path) from None
    if limit is not None and len(data) > limit:
        raise InputError(f"larger than {limit} bytes: not a {what}", source=path)
    return data


def decode_text(data: bytes, path: Path) -> str:
    """UTF-8 text (a byte-order mark, as Excel writes, is dropped)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(
            f"not UTF-8 text (bad byte at offset {error.start})", source=path
        ) from None


@dataclass(frozen=True)
class UnreadableInteger:
    """Stands for an integer too long for ``int()`` until its place can be named."""

    digits: int


def _integer(text: str) -> int | UnreadableInteger:
    """``int(text)``, or a marker when Python refuses the length (over 4300 digits)."""
    try:
        return int(text)
    except ValueError:
        return UnreadableInteger(len(text.lstrip("-")))


def parse_json(text: str, source: str | Path) -> Any:
    """Parsed JSON; duplicate keys, NaN/Infinity and deep nesting are refused.

    Parsers disagree on the first two (a file could mean one thing to us and another to
    the next tool), and the third exhausts Python's recursion limit. An integer too long
    for Python to read (over 4300 digits) becomes an :class:`UnreadableInteger` instead
    of a ValueError without a place: the caller, who knows what each place means, refuses
    it by name (:func:`find_unrepresentable`). ``1e400`` parses as infinity, which the
    caller's range checks refuse.
    """

    def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [key for key, _ in pairs]
        repeated = sorted({key for key in keys if keys.count(key) > 1})
        if repeated:
            raise InputError(f"key {repeated[0]!r} appears twice in one object", source=source)
        return dict(pairs)

    def no_constant(name: str) -> Any:
        raise InputError(f"{name} is not a JSON number", source=source)

    try:
        return json.loads(
            text,
            object_pairs_hook=unique_keys,
            parse_constant=no_constant,
            parse_int=_integer,
        )
    except json.JSONDecodeError as error:
        raise InputError(
            f"not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})",
            source=source,
        ) from None
    except RecursionError:
        raise InputError("not valid JSON: nested too deeply", source=source) from None


def find_unrepresentable(
    value: Any, path: tuple[str | int, ...] = ()
) -> tuple[list[str | int], str] | None:
    """(path, problem) of the first value that could not be stored and printed back as
    the same JSON, or None: a non-finite number (``1e400`` parses as infinity), an
    :class:`UnreadableInteger`, or a lone surrogate in a string or key.

    Readers of JSON from outside (declarations, STAC items) refuse such a document by the
    place this names, instead of failing later where the place is lost (an encoder
    refusing the surrogate, ``print_json`` refusing NaN).
    """
    problem = None
    if isinstance(value, UnreadableInteger):
        problem = f"a number of {value.digits} digits is too large to read"
    elif isinstance(value, float) and not math.isfinite(value):
        problem = f"{value} is not a finite number"
    elif isinstance(value, str) and has_lone_surrogate(value):
        problem = f"{_short(value)} holds a lone surrogate escape (not a Unicode character)"
    elif isinstance(value, dict):
        for key, child in value.items():
            if isinstance(key, str) and has_lone_surrogate(key):
                return [*path], f"the key {_short(key)} holds a lone surrogate escape"
            found = find_unrepresentable(child, (*path, key))
            if found is not None:
                return found
    elif isinstance(value, list | tuple):
        for index, child in enumerate(value):
            found = find_unrepresentable(child, (*path, index))
            if found is not None:
                return found
    return None if problem is None else ([*path], problem)


def _short(text: str) -> str:
    shown = repr(text)
    return shown if len(shown) <= 60 else shown[:57] + "..."
