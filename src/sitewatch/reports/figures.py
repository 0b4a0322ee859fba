"""The reports' figures drawn from data alone (no tiles from the net): the locator map,
the declaration map and the activity timeline, each as PNG bytes.

matplotlib's object API on an Agg canvas, as :mod:`sitewatch.timeline.plot`; PNGs are
saved without a software tag or date so that the same inputs give the same bytes.
"""

from __future__ import annotations

import io
import math
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from shapely import clip_by_rect
from shapely.geometry import shape

from sitewatch.catalog.reference import outline_collection
from sitewatch.timeline.plot import plot_timeline
from sitewatch.timeline.service import Timeline

#: PNG metadata left out: matplotlib would write its version, which says nothing here.
_PNG_METADATA = {"Software": None}
SITE_COLOUR = "#cc3311"
NEIGHBOUR_COLOUR = "#4477aa"
#: Verdict colours, colour-blind safe (Paul Tol's bright scheme), grey for the rest.
VERDICT_COLOURS = {
    "consistent": "#228833",
    "undeclared": "#ee6677",
    "contradicted": "#cc3311",
    "unknown-site": "#ccbb44",
    "dismantlement-verified": "#66ccee",
    "dismantlement-unverified": "#aa3377",
    "not-observed": "#999999",
}
OTHER_COLOUR = "#bbbbbb"


@dataclass(frozen=True)
class MapPoint:
    """A point to draw on a map, with its label and colour."""

    lon: float
    lat: float
    label: str
    colour: str
    marker: str = "o"
    size: float = 30


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata=_PNG_METADATA)
    return buffer.getvalue()


def locator_map(
    points: Sequence[MapPoint],
    *,
    margin_deg: float = 1.5,
    title: str = "",
    legend: Sequence[tuple[str, str]] = (),
) -> bytes:
    """The shipped country outlines around ``points`` (the first is the subject), each point
    labelled, and a ``legend`` of (label, colour); a grid of degrees stands in for a base
    map."""
    figure = Figure(figsize=(6.4, 4.6), dpi=110, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    lons = [p.lon for p in points]
    lats = [p.lat for p in points]
    west, east = min(lons) - margin_deg, max(lons) + margin_deg
    south, north = min(lats) - margin_deg, max(lats) + margin_deg
    _draw_outlines(axes, (west, south, east, north))
    for point in points:
        axes.scatter([point.lon], [point.lat], s=point.size, c=point.colour, marker=point.marker,
                     edgecolors="black", linewidths=0.5, zorder=3)  # fmt: skip
        axes.annotate(point.label, (point.lon, point.lat), xytext=(5, 4),
                      textcoords="offset points", fontsize=7, zorder=4)  # fmt: skip
    axes.set_xlim(west, east)
    axes.set_ylim(south, north)
    axes.set_aspect(1 / max(0.2, _cos_deg((south + north) / 2)))
    axes.set_xlabel("longitude (°)")
    axes.set_ylabel("latitude (°)")
    axes.grid(alpha=0.3)
    if title:
        axes.set_title(title, fontsize=9)
    for label, colour in legend:
        axes.scatter([], [], c=colour, label=label, edgecolors="black", linewidths=0.5)
    if legend:
        axes.legend(loc="lower right", fontsize=7, framealpha=0.9)
    return _png(figure)


def _draw_outlines(axes: Any, view: tuple[float, float, float, float]) -> None:
    """The outlines cut to the view (drawing whole countries costs most of a map's time)."""
    for feature in outline_collection()["features"]:  # type: ignore[attr-defined]
        geometry = clip_by_rect(shape(feature["geometry"]), *view)
        for polygon in getattr(geometry, "geoms", [geometry]):
            if polygon.is_empty or not hasattr(polygon, "exterior"):
                continue
            x, y = polygon.exterior.xy
            axes.fill(x, y, facecolor="#f2efe6", edgecolor="#777777", linewidth=0.6, zorder=1)


def _cos_deg(latitude: float) -> float:
    return math.cos(math.radians(latitude))


def timeline_png(timeline: Timeline) -> bytes:
    """The activity plot of :mod:`sitewatch.timeline.plot`, as the CLI writes it."""
    with tempfile.TemporaryDirectory(prefix="sitewatch-report-") as folder:
        path = plot_timeline(timeline, Path(folder) / "timeline.png")
        return path.read_bytes()
