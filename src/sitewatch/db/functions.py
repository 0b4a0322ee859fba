"""SQL functions that differ between the backends sitewatch runs on (SQLite, PostgreSQL).

SQLite has ``floor()`` only when built with its math functions (many builds are not), and
PostgreSQL's ``CAST(x AS INTEGER)`` rounds where SQLite's truncates: a grid index needs
one expression that means the same on both.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import Integer


class grid_index(FunctionElement[int]):  # lower case, as SQL functions are named
    """The integer part of a NON-NEGATIVE number: the cell of a value counted from a grid's
    origin (truncation and floor agree there, so SQLite can truncate)."""

    type = Integer()
    inherit_cache = True
    name = "grid_index"


@compiles(grid_index)
def _floor(element: grid_index, compiler: SQLCompiler, **kw: Any) -> str:
    return f"FLOOR({compiler.process(element.clauses, **kw)})"


@compiles(grid_index, "sqlite")
def _truncate(element: grid_index, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS INTEGER)"
