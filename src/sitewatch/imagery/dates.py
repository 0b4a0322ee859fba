"""Acquisition times: parsing what users type, what tags hold and what file names encode.

Everything returned is timezone-aware UTC: a time without a zone is taken as UTC, which is
how satellite products state acquisition times.

The one vocabulary for dates given as options (as pystac's ``str_to_datetime``), used by
the CLI and the web routes alike, each error naming the option:

- :func:`parse_date`: a calendar date (``--date``, detect's ``--before``/``--after``).
- :func:`parse_datetime_option`: a date or a time; a bare date as an end means that whole day.
- :func:`parse_interval`: ``START/END`` with open ends (``../2017-12-31``), or one date.
- :func:`parse_window`: ``START/END`` with both ends (a scan's ``--before``/``--after``).
- :func:`day_bound`: a ``date`` or ``datetime`` a caller passed, as the UTC instant it
  starts (or ends) a period at.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

from sitewatch import limits
from sitewatch.errors import InputError

# Basic ISO date-time (Sentinel-2 names), extended ISO date, basic ISO date: most specific
# first, so that 20161130T130757 is not read as the bare date 20161130 alone.
_NAME_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"(?<!\d)(\d{8}T\d{6})(?!\d)"),
    re.compile(r"(?<!\d)(\d{4}-\d{2}-\d{2})(?!\d)"),
    re.compile(r"(?<!\d)(\d{8})(?!\d)"),
)
_EXIF_STYLE = re.compile(r"^(\d{4}):(\d{2}):(\d{2})")


def as_utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive time is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def parse_timestamp(text: str) -> datetime | None:
    """An ISO 8601 (or TIFF ``YYYY:MM:DD HH:MM:SS``) time in UTC, or None if it is not one."""
    text = _EXIF_STYLE.sub(r"\1-\2-\3", text.strip())
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if not limits.IMAGERY_YEARS.contains(moment.year):
        return None
    return as_utc(moment)


def parse_datetime_option(text: str, option: str, *, end_of_day: bool = False) -> datetime:
    """A user-given date or time; a bare date means its first (or last) instant in UTC.

    ``end_of_day`` makes ``--to 2017-11-07`` include scenes taken during that day.
    """
    moment = parse_timestamp(text)
    if moment is None:
        raise InputError(
            f"{text!r} is not a date or time (use ISO 8601, e.g. 2016-11-30 or "
            "2016-11-30T10:52:00Z)",
            item=option,
        )
    if end_of_day and _is_bare_date(text):
        moment = datetime.combine(moment.date(), time.max, tzinfo=UTC)
    return moment


def parse_date(text: str, option: str) -> date:
    """A calendar date ``YYYY-MM-DD`` given as ``option``."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"not a date {text!r}; use YYYY-MM-DD", item=option) from None


def parse_optional_date(text: str | None, option: str) -> date | None:
    """:func:`parse_date`, or None for an option left out."""
    return None if text is None else parse_date(text, option)


def day_bound(value: datetime | date | None, *, end_of_day: bool) -> datetime | None:
    """``value`` as an aware UTC instant; a ``date`` is its first (or, as an end, its last)."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        return datetime.combine(value, time.max if end_of_day else time.min, tzinfo=UTC)
    return as_utc(value)


def parse_interval(text: str, option: str) -> tuple[datetime | None, datetime | None]:
    """A STAC-style ``START/END`` interval (``..`` or empty for an open end), or one date."""
    if "/" not in text:
        return (
            parse_datetime_option(text, option),
            parse_datetime_option(text, option, end_of_day=True),
        )
    start_text, _, end_text = (part.strip() for part in text.partition("/"))
    start = None if start_text in ("", "..") else parse_datetime_option(start_text, option)
    end = (
        None if end_text in ("", "..") else parse_datetime_option(end_text, option, end_of_day=True)
    )
    if start is not None and end is not None and start > end:
        raise InputError(f"{text!r}: the start is after the end", item=option)
    return start, end


def parse_window(text: str, option: str) -> tuple[datetime, datetime]:
    """``START/END`` with both ends (a bare date as END includes that day), in UTC.

    A scan compares two closed windows: an open end would make its id depend on the
    scenes present when it ran, so both ends are required here.
    """
    if "/" not in text:
        raise InputError(
            f"expected START/END, e.g. 2019-01-01/2019-06-30, got {text!r}", item=option
        )
    start, end = parse_interval(text.strip(), option)
    if start is None or end is None:
        raise InputError(f"{text!r}: a window needs both a start and an end", item=option)
    return start, end


def datetime_from_name(name: str) -> datetime | None:
    """The first date (with time if present) encoded in a file name, in UTC."""
    for pattern in _NAME_PATTERNS:
        for match in pattern.finditer(name):
            moment = _parse_compact(match.group(1))
            if moment is not None:
                return moment
    return None


def _parse_compact(token: str) -> datetime | None:
    try:
        if "T" in token:
            moment = datetime.strptime(token, "%Y%m%dT%H%M%S")
        elif "-" in token:
            moment = datetime.strptime(token, "%Y-%m-%d")
        else:
            moment = datetime.strptime(token, "%Y%m%d")
    except ValueError:
        return None
    if not limits.IMAGERY_YEARS.contains(moment.year):
        return None
    return moment.replace(tzinfo=UTC)


def _is_bare_date(text: str) -> bool:
    try:
        date.fromisoformat(text.strip())
    except ValueError:
        return False
    return True
