"""How long a site dossier takes: ``sitewatch report site`` on a site with 20 scenes.

The workspace is the synthetic demo (``run_demo``: the site, two scenes, a detection run,
a declaration) with 18 more scenes of the same site added here: copies of the demo's
scene pair, a month apart, each with a little noise so its content (and scene id) is its
own. Measured, best of ``--repeat``: the whole dossier (gather, 2 plates, locator map,
activity timeline over the 20 scenes, HTML, PDF, ledger record), and its parts.

The peer, measured in the same run: WeasyPrint alone turning a page of text into a PDF
(its fixed cost), and the activity timeline alone (``site_timeline`` over the same 20
scenes), which a dossier cannot be faster than.

Target of issue 16 (stated, not asserted): under 10 s for a site with 20 scenes.

Run: PYTHONPATH=src .venv/bin/python benchmarks/report_speed.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import rasterio

from measure import machine, save_results
from sitewatch.demo.runner import run_demo
from sitewatch.imagery.ingest import add_scenes
from sitewatch.imagery.scenes import list_scenes
from sitewatch.reports.site import report_site
from sitewatch.timeline.service import site_timeline
from sitewatch.workspace import open_workspace

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "report_speed.json"
SCENES = 20
TARGET_S = 10.0


def _more_scenes(root: Path, site_id: str, count: int) -> list[Path]:
    """``count`` copies of the demo's scenes, a month apart, each slightly different."""
    with open_workspace(root) as workspace, workspace.session() as session:
        sources = [scene.assets[0].href for scene in list_scenes(session, site_id=site_id)]
    start = datetime(2024, 6, 1, 0, 52, tzinfo=UTC)
    rng = np.random.default_rng(16)
    written = []
    for index in range(count):
        source = Path(sources[index % len(sources)])
        target = root / "bench-scenes" / f"scene-{index:02d}.tif"
        target.parent.mkdir(parents=True, exist_ok=True)
        with rasterio.open(source) as reader:
            profile, data, tags = reader.profile, reader.read(), reader.tags()
            descriptions = reader.descriptions
        noise = rng.normal(0, 0.002, data.shape).astype(data.dtype)
        tags["ACQUISITION_DATETIME"] = (start + timedelta(days=30 * index)).isoformat()
        with rasterio.open(target, "w", **profile) as writer:
            writer.write(data + noise)
            writer.update_tags(**tags)
            writer.descriptions = descriptions
        written.append(target)
    return written


def _best(repeat: int, action) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        action()
        times.append(time.perf_counter() - began)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="report-speed-") as folder:
        demo = run_demo(Path(folder) / "ws")
        root = demo.workspace
        with open_workspace(root) as workspace:
            with workspace.session() as session:
                add_scenes(session, _more_scenes(root, demo.site_id, SCENES - 2))
            with workspace.session() as session:
                scenes = len(list_scenes(session, site_id=demo.site_id))
            out = Path(folder) / "out"
            html_s = _best(args.repeat, lambda: report_site(workspace, demo.site_id, out=out))
            pdf_s = _best(
                args.repeat, lambda: report_site(workspace, demo.site_id, out=out, pdf=True)
            )
            timeline_s = _best(args.repeat, lambda: site_timeline(workspace, demo.site_id))
        from weasyprint import HTML

        text = "<h1>peer</h1>" + "<p>text of a page</p>" * 40
        weasy_s = _best(args.repeat, lambda: HTML(string=text).write_pdf())
    rows = [
        ("dossier, HTML only", html_s),
        ("dossier, HTML and PDF", pdf_s),
        ("peer: sitewatch timeline alone (its defaults)", timeline_s),
        ("peer: WeasyPrint, one page of text", weasy_s),
    ]
    print(f"site with {scenes} scenes, best of {args.repeat}")
    print(f"{'what':<44} {'seconds':>8}")
    for name, seconds in rows:
        print(f"{name:<44} {seconds:>8.2f}")
    verdict = "met" if pdf_s < TARGET_S else "NOT met"
    print(f"target: dossier with PDF under {TARGET_S:.0f} s: {verdict}")
    save_results(
        RESULTS,
        {
            "machine": machine(scenes=scenes, repeat=args.repeat),
            "seconds": {name: round(seconds, 3) for name, seconds in rows},
            "target_s": TARGET_S,
            "target_met": pdf_s < TARGET_S,
        },
    )


if __name__ == "__main__":
    sys.exit(main())
