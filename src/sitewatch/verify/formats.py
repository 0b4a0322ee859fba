"""Declaration files: JSON (the documented format) and CSV (for spreadsheets), validated.

Both forms become the same JSON document and pass the same checks: the shipped JSON Schema
(``declaration.schema.json``), then what a schema cannot say (real calendar dates, an
item's ``status_date`` not after the declaration's ``date``, no spreadsheet formulas or
control characters in text). The first problem is reported as one line naming the file,
the item (``items[3]``, plus the row for CSV) and the field; nothing is returned half-read.

JSON keys: ``party``, ``date``, optional ``country``, ``items``; each item ``name``,
optional ``lat``/``lon``/``uncertainty_m``, ``category``, ``status``, optional
``status_date`` and ``inventory``. Other keys are kept as the item's ``extra``.

CSV: one row per item with the item keys as columns, plus ``party`` and ``date`` (and
optionally ``country``) columns that must hold the same value on every row. Empty cells
mean "not given". Other columns are kept as extra (text).

Text is refused when it starts with ``= + - @`` (a spreadsheet would run it as a
formula when the table is exported and opened) or holds control or bidirectional
override characters (which make a name display as something other than it is).

Anything in the document, extra fields included, is refused when it cannot be stored and
printed back as the same JSON: a number that is not finite (``1e400`` parses as infinity,
a CSV cell may say ``nan``), an integer too long for Python to read (over 4300 digits) and
a lone surrogate escape (``\\ud800``, which is no character and cannot be encoded). The
ranges of ``lat``, ``lon`` and ``uncertainty_m`` come from :mod:`sitewatch.limits`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, ValidationError

from sitewatch import limits
from sitewatch.catalog.formats.files import (
    decode_text,
    find_unrepresentable,
    parse_json,
    read_bytes,
)
from sitewatch.errors import InputError
from sitewatch.text import check_text

SCHEMA_FILE = "declaration.schema.json"
DECLARED_STATUSES = ("operational", "closed", "dismantled", "converted")
ITEM_FIELDS = (
    "name",
    "lat",
    "lon",
    "uncertainty_m",
    "category",
    "status",
    "status_date",
    "inventory",
)
NUMBER_FIELDS = ("lat", "lon", "uncertainty_m")
TOP_FIELDS = ("party", "date", "country")
TEXT_FIELDS = ("name", "category", "inventory")
MAX_FILE_BYTES = 50 * 1024 * 1024
_FORMULA_START = ("=", "+", "-", "@")

ItemLabel = Callable[[int], str]


@dataclass(frozen=True)
class DeclaredItem:
    """One item as declared; ``index`` is its position in ``items`` (from 0)."""

    index: int
    category: str
    status: str
    name: str | None = None
    lat: float | None = None
    lon: float | None = None
    uncertainty_m: float | None = None
    status_date: date | None = None
    inventory: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ParsedDeclaration:
    """A validated declaration and where it came from (nothing stored yet)."""

    party: str
    declared_on: date
    country: str | None
    items: tuple[DeclaredItem, ...]
    document: dict[str, Any]
    source_name: str
    sha256: str


#: The item fields whose range :mod:`sitewatch.limits` states (the schema file leaves them out).
NUMBER_BOUNDS = {
    "lat": limits.LATITUDE,
    "lon": limits.LONGITUDE,
    "uncertainty_m": limits.UNCERTAINTY_M,
}


@cache
def declaration_schema() -> dict[str, Any]:
    """The shipped JSON Schema of declarations, with the numeric ranges of the limits."""
    text = resources.files("sitewatch.verify").joinpath(SCHEMA_FILE).read_text("utf-8")
    schema = json.loads(text)
    properties = schema["$defs"]["item"]["properties"]
    for name, bound in NUMBER_BOUNDS.items():
        properties[name].update(minimum=bound.low, maximum=bound.high)
    return schema


def read_declaration(path: Path) -> ParsedDeclaration:
    """Read and validate a declaration file (``.csv`` as CSV, anything else as JSON)."""
    return parse_declaration_bytes(read_bytes(Path(path)), Path(path))


def parse_declaration_bytes(data: bytes, path: Path) -> ParsedDeclaration:
    """Validate the bytes of the declaration file ``path`` (its suffix says the format)."""
    if len(data) > MAX_FILE_BYTES:
        raise InputError(f"is larger than {MAX_FILE_BYTES // 2**20} MB", source=path)
    text = decode_text(data, path)
    if path.suffix.lower() == ".csv":
        document, label = csv_document(text, path)
    else:
        document, label = parse_json(text, path), _json_label
    return parse_document(
        document, source=path, sha256=hashlib.sha256(data).hexdigest(), label=label
    )


def _json_label(index: int) -> str:
    return f"items[{index}]"


def csv_document(text: str, source: str | Path) -> tuple[dict[str, Any], ItemLabel]:
    """A CSV declaration as the equivalent JSON document, and labels naming each row."""
    reader = csv.reader(io.StringIO(text, newline=""))
    document: dict[str, Any] = {}
    items: list[dict[str, Any]] = []
    rows: list[int] = []
    try:
        header = [column.strip().lower() for column in next(reader, [])]
        missing = [name for name in ("party", "date") if name not in header]
        if missing:
            raise InputError(
                f"missing column(s) {', '.join(missing)}; the header is: "
                f"{', '.join(header) or '(empty)'}",
                source=source,
            )
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            where = f"items[{len(items)}], row {reader.line_num}"
            if len(row) > len(header):
                raise InputError(
                    f"{len(row)} cells but the header has {len(header)} columns",
                    source=source,
                    item=where,
                )
            cells = {k: v.strip() for k, v in zip(header, row, strict=False) if v.strip()}
            for name in TOP_FIELDS:
                if name in cells:
                    first = document.setdefault(name, cells[name])
                    if cells[name] != first:
                        raise InputError(
                            f"{cells[name]!r} differs from {first!r} in the first row; one "
                            "file holds one declaration",
                            source=source,
                            item=f"{where}.{name}",
                        )
            items.append(_csv_item(cells, source, where))
            rows.append(reader.line_num)
    except csv.Error as error:
        raise InputError(f"not readable CSV: {error}", source=source) from None
    if not items:
        raise InputError("has no item rows", source=source)
    document["items"] = items
    return document, lambda index: f"items[{index}], row {rows[index]}"


def _csv_item(cells: dict[str, str], source: str | Path, where: str) -> dict[str, Any]:
    item: dict[str, Any] = {}
    for name, value in cells.items():
        if name in TOP_FIELDS:
            continue
        if name in NUMBER_FIELDS:
            try:
                item[name] = float(value)
            except ValueError:
                raise InputError(
                    f"{value!r} is not a number", source=source, item=f"{where}.{name}"
                ) from None
        else:
            item[name] = value
    return item


def parse_document(
    document: Any,
    *,
    source: str | Path,
    sha256: str,
    label: ItemLabel = _json_label,
) -> ParsedDeclaration:
    """Validate a declaration document (schema, then semantics) into plain records."""
    unrepresentable = find_unrepresentable(document)
    if unrepresentable is not None:
        path, problem = unrepresentable
        raise InputError(problem, source=source, item=_where(path, label))
    error = _first_schema_error(document)
    if error is not None:
        where, message = _explain(error, label)
        raise InputError(message, source=source, item=where)
    declared_on = _calendar_date(document["date"], source, "date")
    party = _text(document["party"], source, "party")
    items = tuple(
        _item(index, raw, declared_on, source, label(index))
        for index, raw in enumerate(document["items"])
    )
    country = document.get("country")
    return ParsedDeclaration(
        party=party,
        declared_on=declared_on,
        country=country.upper() if country else None,
        items=items,
        document=document,
        source_name=Path(source).name,
        sha256=sha256,
    )


def _first_schema_error(document: Any) -> ValidationError | None:
    """The error of the lowest item index (then field), so reports are deterministic."""
    validator = Draft202012Validator(declaration_schema())
    errors = sorted(
        validator.iter_errors(document), key=lambda e: [str(p).zfill(9) for p in e.absolute_path]
    )
    return errors[0] if errors else None


def _where(path: list[Any], label: ItemLabel) -> str:
    """``items[3].lat`` (``items[3], row 5.lat`` in CSV), ``date`` or ``document``."""
    if len(path) >= 2 and path[0] == "items" and isinstance(path[1], int):
        return ".".join([label(path[1]), *(str(p) for p in path[2:])])
    return ".".join(str(p) for p in path) or "document"


def _explain(error: ValidationError, label: ItemLabel) -> tuple[str, str]:
    """(where, message) of a schema error in an analyst's words."""
    path = list(error.absolute_path)
    instance, kind, expected = error.instance, error.validator, error.validator_value
    message = error.message
    if kind == "required":
        path.append(next(name for name in expected if name not in instance))
        message = "is required"
    elif kind == "dependentRequired":
        given = next(name for name in expected if name in instance)
        path.append(next(name for name in expected[given] if name not in instance))
        message = f"is required when {given} is given"
    elif kind == "anyOf" and len(path) == 2 and path[0] == "items":
        message = "an item needs a name, or lat and lon"
    elif kind == "enum":
        message = f"unknown value {_short(instance)} (expected one of: {', '.join(expected)})"
    elif kind == "type":
        article = "an" if str(expected)[:1] in "aeiou" else "a"
        message = f"{_short(instance)} is not {article} {expected}"
    elif kind == "pattern":
        message = f"{_short(instance)} is not a date (YYYY-MM-DD)"
        if path[-1:] == ["country"]:
            message = f"{_short(instance)} is not an ISO 3166 alpha-3 code (e.g. PRK)"
    elif kind in ("minimum", "maximum"):
        message = f"{_short(instance)} is out of range ({kind} {expected:g})"
    elif kind in ("minLength", "maxLength"):
        message = "must not be empty" if kind == "minLength" else f"is longer than {expected}"
    return _where(path, label), message


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _calendar_date(text: str, source: str | Path, where: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{text!r} is not a calendar date", source=source, item=where) from None
    limits.RECORD_YEARS.check(day.year, source=source, item=where)
    return day


def _text(value: str, source: str | Path, where: str, *, multiline: bool = False) -> str:
    """Stripped text, refused if blank, formula-like or carrying control characters
    (:func:`check_text`: inventories, being free text, may hold tabs and line breaks)."""
    text = value.strip()
    if not text:
        raise InputError("must not be blank", source=source, item=where)
    if text.startswith(_FORMULA_START):
        raise InputError(
            f"{text[:20]!r} starts like a spreadsheet formula (= + - @); quote or reword it",
            source=source,
            item=where,
        )
    check_text(text, where, multiline=multiline, source=source)
    return text


def _item(
    index: int, raw: dict[str, Any], declared_on: date, source: str | Path, where: str
) -> DeclaredItem:
    status_date = None
    if "status_date" in raw:
        status_date = _calendar_date(raw["status_date"], source, f"{where}.status_date")
        if status_date > declared_on:
            raise InputError(
                f"{status_date} is after the declaration date {declared_on}",
                source=source,
                item=f"{where}.status_date",
            )
    texts = {
        name: _text(raw[name], source, f"{where}.{name}", multiline=name == "inventory")
        for name in TEXT_FIELDS
        if name in raw
    }
    return DeclaredItem(
        index=index,
        name=texts.get("name"),
        lat=raw.get("lat"),
        lon=raw.get("lon"),
        uncertainty_m=raw.get("uncertainty_m"),
        category=texts["category"],
        status=raw["status"],
        status_date=status_date,
        inventory=texts.get("inventory"),
        extra={key: value for key, value in raw.items() if key not in ITEM_FIELDS},
    )
