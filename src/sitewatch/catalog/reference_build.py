"""Build the packaged DPRK reference sites from the project's reference facts (run once).

    python -m sitewatch.catalog.reference_build /work/shared/reference

reads ``dprk_sites_reference.csv`` and ``cns_launch_facilities.json`` and writes
``catalog/data/dprk_sites.geojson``. The rules that turn free text into fields are here,
in one reviewable place, and a test re-runs them against the shipped file.

Honesty rules: coordinates are kept exactly as published (never padded or "improved");
the published uncertainty text, coordinate provenance, reported type and missile text
go into ``notes``; ``uncertainty_m`` is derived conservatively from that text; status is
``unknown`` because the facts state none; an unlocated site stays unlocated.
"""

from __future__ import annotations

import csv
import json
import math
import re
import sys
from pathlib import Path

from shapely.geometry import Point

from sitewatch.catalog.formats import write_sites
from sitewatch.catalog.records import SiteRecord, SourceRecord
from sitewatch.geo import haversine_metres

DATA_DIR = Path(__file__).parent / "data"
OUTPUT = DATA_DIR / "dprk_sites.geojson"
COUNTRY = "PRK"

# The reference "type" text -> our category; the text itself is kept in notes.
CATEGORY_OF_TYPE = {
    "missile operating base": "missile-operating-base",
    "missile operating base / SRF Nodong brigade HQ": "missile-operating-base",
    "missile base / launch site": "missile-operating-base",
    "missile base": "missile-operating-base",
    "underground missile base": "missile-operating-base",
    "ballistic missile support facility (not an operating base)": "other",
    "space launch / engine test site": "launch-site",
    "launch site": "launch-site",
    "nuclear test site": "test-site",
    "nuclear complex": "nuclear-facility",
    "SLBM submarine base/shipyard": "shipyard",
    "missile test ground": "test-site",
    "ICBM launch site (airport)": "launch-site",
    "SRBM launch site": "launch-site",
}
# Missile classes the reported_class text mentions, hedged or not (the text itself, in
# notes, says how firm each is). Names map to classes: Scud -> SRBM, Nodong -> MRBM,
# Musudan/Hwasong-10 -> IRBM, Unha/Chollima -> SLV.
_NAMED_CLASSES = {
    "scud": "SRBM",
    "nodong": "MRBM",
    "musudan": "IRBM",
    "hwasong-10": "IRBM",
    "unha": "SLV",
    "chollima": "SLV",
}
_CLASS_WORDS = ("SRBM", "MRBM", "IRBM", "ICBM", "SLBM", "SLV")

# How far the site may be from a published point, when the text gives no figure.
SINGLE_SCRAPE_M = 2000.0  # CSIS points mark a base that spans kilometres
LOW_CONFIDENCE_M = 5000.0  # unverified or second-hand point: be conservative
CNS_FACILITY_M = 2000.0  # CNS point named after an airfield, plant or test ground
CNS_AREA_M = 10000.0  # CNS point named after a town, bay or peninsula
SAME_PLACE_M = 2500.0  # a CNS point this close to a kept site is the same place

_PUBLISHERS = {
    "beyondparallel.csis.org": "CSIS Beyond Parallel",
    "www.nti.org": "NTI facility profile",
    "nuke.fas.org": "Federation of American Scientists",
    "en.wikipedia.org": "Wikipedia",
    "atomicarchive.com": "Atomic Archive",
    "github.com": "CNS North Korea Missile Test Database (nagix/nk-missile-tests)",
}
CNS_SOURCE = SourceRecord(
    "CNS North Korea Missile Test Database, facility points (nagix/nk-missile-tests, Apache-2.0)",
    "https://github.com/nagix/nk-missile-tests",
)
SCRAPE_SOURCE = SourceRecord(
    "free-north-korea bases.json (scrape of CSIS Beyond Parallel pages)",
    "https://github.com/Ahmet-Dedeler/free-north-korea",
)


def uncertainty_metres(text: str) -> float | None:
    """Metres from the reference uncertainty text; None when the site has no coordinate."""
    explicit = re.search(r"\+-\s*(\d+(?:\.\d+)?)\s*km", text)
    if explicit:
        return float(explicit.group(1)) * 1000
    spread = re.search(r"differ by ~(\d+(?:\.\d+)?)\s*km", text)
    if spread:
        return math.ceil(float(spread.group(1))) * 1000.0
    if text.startswith("UNKNOWN"):
        return None
    if re.match(r"(LOW|MEDIUM-LOW|LOW-MEDIUM)\b", text):
        return LOW_CONFIDENCE_M
    if text.startswith("single scrape"):
        return SINGLE_SCRAPE_M
    raise ValueError(f"no rule for uncertainty text {text!r}")


def missile_classes(text: str) -> list[str]:
    found = [word for word in _CLASS_WORDS if re.search(rf"\b{word}\b", text)]
    lowered = text.lower()
    found += [cls for name, cls in _NAMED_CLASSES.items() if name in lowered]
    return list(dict.fromkeys(found))


def _source(row: dict[str, str]) -> SourceRecord:
    url = row["report"].split(" ", 1)[0]
    host = url.split("/")[2]
    date = re.match(r"\d{4}(?:-\d{2}){0,2}", row["report_date"])
    return SourceRecord(f"{_PUBLISHERS[host]}: {row['name']}", url, date.group(0) if date else None)


def _notes(row: dict[str, str], metres: float | None) -> str:
    parts = [
        f"Reported type: {row['type']}.",
        f"Reported missiles: {row['reported_class']}.",
        f"Province: {row['province']}.",
        f"Coordinate source: {row['coord_source']}.",
        f"Published uncertainty: {row['uncertainty']}"
        + (f" (taken as {metres:g} m)." if metres is not None else "."),
    ]
    if " " in row["report"]:
        parts.append(f"Report note: {row['report'].split(' ', 1)[1]}.")
    if row["report_date"] and not re.fullmatch(r"\d{4}(?:-\d{2}){0,2}", row["report_date"]):
        parts.append(f"Report date as given: {row['report_date']}.")
    return " ".join(parts)


def reference_row_record(row: dict[str, str]) -> SiteRecord:
    metres = uncertainty_metres(row["uncertainty"])
    located = bool(row["lat"] and row["lon"])
    sources = [_source(row)]
    provenance = row["coord_source"]
    if "nagix" in provenance and sources[0].url != CNS_SOURCE.url:
        sources.append(CNS_SOURCE)
    if "free-north-korea" in provenance:
        sources.append(SCRAPE_SOURCE)
    return SiteRecord(
        name=row["name"],
        aliases=[a for a in row["alt_names"].split(";") if a.strip() and a != row["name"]],
        geometry=Point(float(row["lon"]), float(row["lat"])) if located else None,
        country=COUNTRY,
        category=CATEGORY_OF_TYPE[row["type"]],
        missile_classes=missile_classes(row["reported_class"]),
        uncertainty_m=metres if located else None,
        notes=_notes(row, metres),
        sources=sources,
    )


def cns_record(key: str, facility: dict[str, object]) -> SiteRecord:
    """A CNS launch location that the reference table lacks."""
    name = str(facility["name"])
    is_facility = re.search(r"Airbase|Airport|Airfield|Field|Plant|Testing Ground", name)
    metres = CNS_FACILITY_M if is_facility else CNS_AREA_M
    return SiteRecord(
        name=name if is_facility else f"{name} launch area",
        aliases=[] if is_facility else [name],
        geometry=Point(float(facility["lon"]), float(facility["lat"])),  # type: ignore[arg-type]
        country=COUNTRY,
        category="test-site" if "Testing Ground" in name else "launch-site",
        uncertainty_m=metres,
        notes=(
            f"Launch location {key!r} of the CNS North Korea Missile Test Database: a place "
            f"missiles were reported launched from, not a surveyed facility "
            f"(taken as {metres:g} m)."
        ),
        sources=[CNS_SOURCE],
    )


def build_dprk_records(reference_dir: Path) -> list[SiteRecord]:
    with (reference_dir / "dprk_sites_reference.csv").open(encoding="utf-8") as handle:
        records = [reference_row_record(row) for row in csv.DictReader(handle)]
    cns = json.loads((reference_dir / "cns_launch_facilities.json").read_text(encoding="utf-8"))
    for key, facility in cns["facilities"].items():
        lon, lat = float(facility["lon"]), float(facility["lat"])
        near = [
            r
            for r in records
            if r.geometry is not None
            and haversine_metres(lon, lat, r.geometry.x, r.geometry.y) <= SAME_PLACE_M
        ]
        if not near:
            records.append(cns_record(key, facility))
    ids = [r.id for r in records]
    assert len(ids) == len(set(ids)), "reference ids must be unique"
    return sorted(records, key=lambda r: r.id)


def main(argv: list[str]) -> None:
    records = build_dprk_records(Path(argv[1]) if len(argv) > 1 else Path("."))
    write_sites(records, OUTPUT)
    located = sum(r.geometry is not None for r in records)
    print(f"wrote {len(records)} sites ({located} located) to {OUTPUT}")


if __name__ == "__main__":
    main(sys.argv)
