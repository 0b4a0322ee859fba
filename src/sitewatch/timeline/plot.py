"""The timeline plot: activity per date as bars, with what could not be measured marked.

Drawn with matplotlib's object API on an Agg canvas (no pyplot, no global state, no
display needed), so it runs in servers, tests and threads alike. What the reader needs:
bars at their true dates (gaps in the series stay visible as gaps), spikes in a contrasting
colour with their date written above, unusable dates as grey crosses on the axis (a quiet
stretch full of crosses is "not seen", not "nothing happened"), the spike fence as a dashed
line, and the scene-wide shift in a panel below, since it is what activity leaves out.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from sitewatch.timeline.service import Timeline

BAR_COLOUR = "#4477aa"
SPIKE_COLOUR = "#cc3311"
UNUSABLE_COLOUR = "#999999"
SHIFT_COLOUR = "#228833"


def _naive(moment: datetime) -> datetime:
    """matplotlib plots naive datetimes; ours are UTC-aware."""
    return moment.replace(tzinfo=None)


def _bar_width(dates: list[datetime]) -> timedelta:
    """Most of the typical gap between dates, so neighbouring bars never overlap."""
    if len(dates) < 2:
        return timedelta(days=1)
    gaps = np.diff(sorted(date.timestamp() for date in dates))
    positive = gaps[gaps > 0]
    typical = float(np.median(positive)) if positive.size else 86_400.0
    return timedelta(seconds=max(3_600.0, 0.7 * typical))


def plot_timeline(timeline: Timeline, path: Path) -> Path:
    """Write the activity plot of ``timeline`` to ``path`` as PNG."""
    records = [record for record in timeline.records if record.date is not None]
    figure = Figure(figsize=(12, 6), dpi=110, layout="constrained")
    FigureCanvasAgg(figure)
    axes, shift_axes = figure.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    width = _bar_width([record.date for record in records])

    compared = [record for record in records if record.activity is not None]
    for spike, colour, label in ((False, BAR_COLOUR, "activity"), (True, SPIKE_COLOUR, "spike")):
        chosen = [record for record in compared if record.spike == spike]
        if chosen:
            axes.bar(
                [_naive(record.date) for record in chosen],
                [100 * record.activity for record in chosen],
                width=width,
                color=colour,
                label=label,
            )
    for record in compared:
        if record.spike:
            axes.annotate(
                f"{record.date:%Y-%m-%d}",
                (_naive(record.date), 100 * record.activity),
                xytext=(0, 3),
                textcoords="offset points",
                ha="center",
                fontsize=8,
                color=SPIKE_COLOUR,
            )
    unusable = [_naive(record.date) for record in records if not record.usable]
    if unusable:
        axes.plot(
            unusable,
            [0] * len(unusable),
            "x",
            color=UNUSABLE_COLOUR,
            markersize=6,
            clip_on=False,
            label=f"unusable (cloud/nodata): {len(unusable)}",
        )
    unmeasured = [
        _naive(record.date) for record in records if record.usable and record.activity is None
    ]
    if unmeasured:
        axes.plot(
            unmeasured,
            [0] * len(unmeasured),
            "o",
            markerfacecolor="none",
            color=UNUSABLE_COLOUR,
            clip_on=False,
            label="usable, not compared",
        )
    if timeline.spike_fence is not None:
        axes.axhline(
            100 * timeline.spike_fence,
            color=SPIKE_COLOUR,
            linestyle="--",
            linewidth=0.8,
            label=f"spike fence {100 * timeline.spike_fence:.1f} %",
        )

    shifted = [record for record in compared if record.shift is not None]
    shift_axes.bar(
        [_naive(record.date) for record in shifted],
        [record.shift for record in shifted],
        width=width,
        color=SHIFT_COLOUR,
    )
    shift_axes.axhline(0, color="black", linewidth=0.5)
    shift_axes.set_ylabel(f"scene-wide shift\n(median change, {', '.join(timeline.bands)})")
    shift_axes.grid(axis="y", alpha=0.3)

    locator = AutoDateLocator(minticks=6, maxticks=14)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    axes.set_ylim(bottom=0, top=max([5.0] + [115 * r.activity for r in compared]))
    axes.set_ylabel("activity (% of clear area changed)")
    axes.grid(axis="y", alpha=0.3)
    axes.set_title(
        f"{timeline.site_id}: activity per date against the previous usable date "
        f"({timeline.method}, {', '.join(timeline.bands)}; clouds: {timeline.cloud_source})",
        fontsize=10,
    )
    axes.legend(loc="upper left", fontsize=8, framealpha=0.9)
    figure.savefig(path, format="png")
    return path
