"""Column types shared by both database backends."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import DateTime, LargeBinary
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class WKBGeometry(TypeDecorator[BaseGeometry]):
    """A shapely geometry in EPSG:4326 stored as WKB bytes.

    WKB round-trips coordinates exactly (unlike WKT) and is a plain binary column on
    SQLite and PostgreSQL alike, so the schema is identical on both.
    """

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(
        self, value: BaseGeometry | bytes | None, dialect: Dialect
    ) -> bytes | None:
        """WKB for the column; WKB already made elsewhere (a scan worker's) goes in as is."""
        if value is None:
            return None
        if isinstance(value, bytes):
            return value
        return shapely.to_wkb(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> BaseGeometry | None:
        if value is None:
            return None
        return shapely.from_wkb(bytes(value))


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend.

    SQLite has no time zones; storing naive UTC and re-attaching UTC on read keeps
    comparisons and ordering right on both backends.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; attach a time zone")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    """Now, in UTC, aware."""
    return datetime.now(UTC)
