"""File plumbing shared by the formats: careful reads, strict JSON, all-or-nothing writes."""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sitewatch.errors import EnvironmentProblem, InputError
from sitewatch.text import has_lone_surrogate


def existing_input(path: Path) -> Path:
    """``path`` absolute with its links followed; InputError if it is missing or a link loop.

    Python raises RuntimeError (3.11) or OSError (3.13) for a loop of symbolic links.
    """
    try:
        resolved = path.expanduser().resolve()
    except (RuntimeError, OSError):
        raise InputError("is a loop of symbolic links", source=path) from None
    if not resolved.exists():
        raise InputError("does not exist", source=resolved)
    return resolved


def read_bytes(path: Path) -> bytes:
    """The file's bytes, or an InputError naming it (missing, a folder, unreadable)."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError("file not found", source=path) from None
    except IsADirectoryError:
        raise InputError("is a folder, not a file", source=path) from None
    except OSError as error:
        raise InputError(f"cannot read: {error.strerror}", source=path) from None


def decode_text(data: bytes, path: Path) -> str:
    """UTF-8 text (a byte-order mark, as Excel writes, is dropped)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(
            f"not UTF-8 text (bad byte at offset {error.start})", source=path
        ) from None


def check_output_folder(path: Path, option: str) -> Path:
    """``path`` if it is, or can be created as, a folder; else InputError naming ``option``.

    Checked before any work, so a long computation does not end in "File exists" because
    the user named a file (or a path through a file) where a folder of products goes.
    """
    for folder in (path, *path.parents):
        if folder.is_dir():
            return path
        if folder.exists():
            what = "is a file, not a folder" if folder == path else f"{folder} is not a folder"
            raise InputError(what, source=path, item=option)
    return path


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


@contextmanager
def atomic_output(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path`` that replaces it only if the block succeeds.

    Readers of ``path`` never see a half-written file, and a failed export leaves any
    previous file in place. The temporary name keeps the suffix because some drivers
    (GDAL's GeoPackage) choose behaviour by extension.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InputError("folder does not exist", source=folder)
    if path.is_dir():
        raise InputError("is a folder, not a file", source=path)
    try:
        handle, temp_name = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=path.suffix, dir=folder
        )
    except OSError as error:
        raise InputError(f"cannot write here: {error.strerror}", source=path) from None
    os.close(handle)
    temp = Path(temp_name)
    temp.unlink()  # let the writer create it: some drivers refuse to open an empty file
    try:
        yield temp
        os.replace(temp, path)
    except OSError as error:  # disk full (exit 7), or a path the OS refuses (exit 2)
        problem = EnvironmentProblem.from_os_error(error, path)
        if problem is not None:
            raise problem from None
        raise InputError(f"cannot write: {error.strerror or error}", source=path) from None
    except EnvironmentProblem as problem:  # a writer's own report, named after our file
        if problem.source is not None:
            raise
        raise EnvironmentProblem(str(problem), source=path) from None
    finally:
        temp.unlink(missing_ok=True)
