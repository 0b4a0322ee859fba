"""The range of every number sitewatch accepts from outside, each stated once.

A number from a file, a form or a command-line option is checked here before it is used:
``1e400`` parses as infinity, ``nan`` compares false with every bound, and an absurd but
finite value (an uncertainty of 10,000 km, a ``--limit`` past SQLite's 64-bit integers, a
year 9999 that date arithmetic overflows) silently changes what a command means. The
declaration schema, the site records, the imagery and detection services and the CLI all
read their bounds from this module, so a bound is changed in one place (the README's
table of limits lists the same values and why).

The module sits at the bottom of the package, beside ``errors`` and ``geo``, rather than in
``catalog/``: catalog records, declarations, imagery, detection, scans and the CLI all use
it, and none of them should import another layer for a constant.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from sitewatch.errors import InputError

Number = TypeVar("Number", int, float)


@dataclass(frozen=True)
class Bound:
    """A closed range ``[low, high]`` of finite numbers, with the unit said in errors."""

    low: float
    high: float
    unit: str = ""

    def contains(self, value: float) -> bool:
        """True for a finite number within the range (NaN and infinities never are).

        Integers are compared exactly: ``math.isfinite`` would overflow converting a
        400-digit one to a float."""
        if isinstance(value, int):
            return self.low <= value <= self.high
        return math.isfinite(value) and self.low <= value <= self.high

    def check(self, value: Number, *, item: str, source: str | Path | None = None) -> Number:
        """``value`` itself if it is in range, else an InputError naming ``item``."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InputError(f"{value!r} is not a number", source=source, item=item)
        if not self.contains(value):
            raise InputError(
                f"{_shown(value)} is out of range: must be {self.describe()}",
                source=source,
                item=item,
            )
        return value

    def describe(self) -> str:
        """``between 0 and 100,000 m``: the words of an error message or a help text."""
        unit = f" {self.unit}" if self.unit else ""
        return f"between {_plain(self.low)} and {_plain(self.high)}{unit}"


def _plain(number: float) -> str:
    """``100,000`` rather than ``1e+05`` (but ``2100``, a year): as a person would write it."""
    if not float(number).is_integer():
        return f"{number:g}"
    return f"{int(number):,}" if abs(number) >= 10_000 else str(int(number))


def _shown(value: float) -> str:
    """The offending value, short: a 5000-digit integer is not echoed in full."""
    text = f"{value:g}" if isinstance(value, float) else str(value)
    return text if len(text) <= 24 else f"{text[:12]}... ({len(text)} digits)"


#: WGS 84 degrees: the definition of latitude and longitude.
LATITUDE = Bound(-90.0, 90.0, "degrees")
LONGITUDE = Bound(-180.0, 180.0, "degrees")

#: How far a site may be from its coordinates. Public reports locate sites to within
#: 10 km at worst (the DPRK reference set's coarsest); 100 km leaves room for vaguer
#: sources while a declared item can never claim sites across a whole country (a
#: declaration item matches every site within its radius).
UNCERTAINTY_M = Bound(0.0, 100_000.0, "m")

#: Radius grown around a site to read or scan (``--buffer``), same reasoning and scale: a
#: wider area is a bbox or country scan, not a site.
BUFFER_M = Bound(0.0, 100_000.0, "m")

#: Pixel size asked for (``--resolution``): from very-high-resolution imagery (0.3 m) with
#: room below, to coarse overviews; outside it a grid is either absurdly large or one pixel.
RESOLUTION_M = Bound(0.05, 1000.0, "m")

#: Side of a scan tile in pixels (``--tile-size`` / ``--resolution``): one task reads a
#: whole tile of both dates into memory (4096 px x 4 bands x 2 dates x 4 bytes = 0.5 GB),
#: and fewer than 32 px leave no room for the detectors' neighbourhoods.
TILE_SIDE_PX = Bound(32, 4096, "pixels")

#: Cloud cover in percent, as tags and STAC items state it; vendors write -999 or similar
#: when unknown, which is read as "not given".
CLOUD_COVER_PERCENT = Bound(0.0, 100.0, "%")

#: Change-score thresholds (``--threshold``): scores are probabilities in [0, 1].
THRESHOLD = Bound(0.0, 1.0)

#: Minimum mapping unit (``--min-area``, m2, or pixels for non-georeferenced pairs) and
#: the smallest change area that counts as activity (``--min-change-m2``): 100 km2 is
#: larger than any facility, above it every object would be dropped.
AREA_M2 = Bound(0.0, 100_000_000.0, "m2")

#: Dates on which removal must be seen to verify a dismantlement (``--min-observations``):
#: a time series has at most a few hundred usable dates.
OBSERVATIONS = Bound(1, 1000)

#: How far before a declaration activity makes an omitted site undeclared
#: (``--lookback-days``): a century, back past the years any record may hold; a larger
#: value overflows date arithmetic.
LOOKBACK_DAYS = Bound(0, 36_500, "days")

#: How many rows a listing returns (``--limit``, ``--top``): far above any screen or
#: report, far below SQLite's 64-bit integers (a larger value overflows the query).
ROW_LIMIT = Bound(1, 1_000_000)

#: Years of dates in records and declarations: reports and declarations of this era;
#: years past 2100 or before 1900 are typing errors, and year 9999 makes date arithmetic
#: (a day after, a lookback before) overflow.
RECORD_YEARS = Bound(1900, 2100)

#: Years of imagery acquisition: the satellite era (CORONA returned its first images in
#: 1960) up to 2100. Dates outside it in tags or file names are not acquisition times.
IMAGERY_YEARS = Bound(1960, 2100)

#: Pixels of one raster's grid (width x height). 2**32 (65,536 x 65,536 px, 4.3 Gpx) is
#: 35 Sentinel-2 tiles or a large WorldView strip; a detection run keeps a 1-byte mask per
#: pixel (4 GB at this size) and takes hours at the measured 1.5-2 Mpx/s, so larger grids
#: are refused when opened rather than after memory or disk ran out.
MAX_RASTER_PIXELS = 2**32

#: Largest ratio of the bytes a raster declares (width x height x bands x bytes per
#: sample) to its size on disk, for rasters declaring more than ``SPARSE_CHECK_BYTES``.
#: Uncompressed data is 1:1; DEFLATE cannot exceed 1032:1 and LZW ~2700:1 even on
#: constant blocks, and real imagery compresses 2-10x. A larger ratio means a sparse file
#: (blocks declared but never written): a few MB claiming tens of GB of pixels.
MAX_DECLARED_BYTES_PER_FILE_BYTE = 5_000

#: Below this many declared bytes (1 GiB) the ratio is not checked: a small raster cannot
#: exhaust memory, and a small constant test image legitimately compresses very well.
SPARSE_CHECK_BYTES = 2**30

#: Rows skipped before a page of a listing (``offset`` of the web API): any catalog of
#: this era, far below SQLite's 64-bit integers (a larger value overflows the query).
ROW_OFFSET = Bound(0, 1_000_000_000)

#: Rows of one page of the web API when the client names none: a screenful, fast to send.
DEFAULT_PAGE_ROWS = 100

#: Characters of a web user's password: 10 at least (the lockout bounds guessing online,
#: not offline cracking of a stolen hash), 1024 at most (argon2 hashes any length, but a
#: megabyte password is an attempt to spend the server's time, not a password).
PASSWORD_CHARS = Bound(10, 1024, "characters")

#: Bytes of one request body to ``sitewatch serve`` (64 KiB): an assessment or a login is
#: a few hundred bytes; a larger body is refused (413) before it is read into memory.
MAX_REQUEST_BYTES = 64 * 1024

#: TCP ports ``sitewatch serve --port`` may listen on; 0 asks the system for a free one,
#: which the printed URL then names (how tests and benchmarks start servers without races).
TCP_PORT = Bound(0, 65_535)

#: Server processes of ``sitewatch serve --workers``: one per core is the useful most;
#: each holds its own database connections and tile caches.
SERVE_WORKERS = Bound(1, 64)

#: Candidates the map draws one by one (``/api/map/candidates``). A viewport holding more
#: is answered with grid clusters (count, scores, centre) until the zoom reaches
#: :data:`MAP_POINTS_FROM_ZOOM`; then the best-scored points up to this many, said to be
#: truncated. 2,000 canvas markers draw in well under a second; 100,000 do not.
MAP_POINTS = 2_000

#: The zoom (Leaflet/web-mercator levels, 0 = the world in one 256 px tile) from which the
#: map always gets points: at 14 a viewport is a few km across, a city district.
MAP_POINTS_FROM_ZOOM = 14

#: Web-map zoom levels (Leaflet's range for 256 px tiles), for the map API and for imagery
#: tiles (``/api/tiles/.../{z}/{x}/{y}.png``): level 22 has pixels of 0.04 m at the
#: equator, finer than the finest resolution accepted (``RESOLUTION_M``); a deeper level
#: only magnifies pixels further. Columns and rows of a level are checked against 2**z.
WEB_ZOOM = Bound(0, 22)

#: Grid cells per 256 px tile side when candidates are clustered: one cell is 64 px on
#: screen, about a marker's size and gap.
MAP_CELLS_PER_TILE = 4

#: Scene footprints one map answer draws, newest first; a viewport of many years of
#: imagery is narrowed by the date range rather than drawn as an opaque mass.
MAP_SCENES = 500

#: Bytes of one source document (``sources add``): a long report as PDF is a few MB, a
#: saved article page with inline images well under 10 MB; 20 MB leaves room and refuses a
#: disk image or a video handed over by mistake before it is read whole.
SOURCE_BYTES = 20 * 1024 * 1024

#: Characters of text kept from one source: some 300 pages. Past it the matchers' work
#: (every window of words against every name) is not worth it and the input is not an
#: article.
SOURCE_TEXT_CHARS = 2_000_000

#: HTML elements and their nesting depth in one page: real pages have a few thousand
#: elements nested a few dozen deep; a nesting bomb (``<div>`` x 100,000) exhausts the
#: parser's and the extractor's recursion long before any text comes out.
HTML_ELEMENTS = 200_000
HTML_DEPTH = 256

#: Fetching a source URL (``sources add --fetch``): seconds to wait for the server.
FETCH_TIMEOUT_S = 20.0
