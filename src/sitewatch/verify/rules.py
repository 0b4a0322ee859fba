"""Verification rules as pure functions over plain records (no database).

Matching. A declared item matches a catalog site by name (the site's name, aliases or
id, compared by transliteration-tolerant keys, :mod:`sitewatch.verify.names`) or by
location: the item's point lies within the *radius* of the site's geometry, where the
radius is the larger of the site's and the item's ``uncertainty_m`` and
:attr:`VerifyParameters.default_radius_m` (500 m) when neither gives one. An item takes
its best site: name and location, then name only, then location only, the nearest first.
Several items may name one site (a base with several declared facilities); each item gets
its own verdict, and a site that no item matches gets one verdict of its own.

Observations. An *assessment* is an analyst's judgement on a date. A *run* is a stored
change detection between a before and an after scene; it shows *change* when its changed
area reaches ``min_changed_area_m2`` (or, for a run without georeferencing, its changed
share reaches ``min_changed_share``). A run measures change, not its meaning (demolition
is change too), so a run never shows removal, and it counts *after* a date only when its
before scene is on or after that date: change spanning the date may be the dismantlement
itself. A run cited as evidence by an assessment of the same site is judged by that
assessment, not counted again on its own.

- evidence of activity (completeness): assessments active, construction, maintenance or
  dismantling; runs showing change.
- renewed activity (correctness of closed/dismantled): assessments active, construction
  or maintenance; runs showing change. Dismantling seen after "closed" or "dismantled" is
  not a contradiction (taking a site apart is what the party promised).
- removal: assessments ``dismantled``. ``inactive`` does not show removal (an idle site
  still stands); ``inconclusive`` shows nothing.

Verdicts ("on or after" throughout; D = the item's status_date, else the declaration
date):

- ``contradicted``: declared closed or dismantled, with renewed activity on or after D.
- ``dismantlement-verified``: declared dismantled, no renewed activity, and removal seen
  on at least ``min_removal_observations`` (2) different dates on or after D;
  ``dismantlement-unverified`` for every other dismantled item.
- ``not-observed``: no scene covers the site on or after the declaration date and no
  assessment is dated then (for items not declared dismantled, and unmatched sites).
- ``consistent``: observed, and nothing above applies.
- ``unknown-site``: an item that matches no catalog site (new information).
- ``undeclared``: a site no item matches, with evidence of activity on or after the
  declaration date minus ``lookback_days`` (1095).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points

from sitewatch import limits
from sitewatch.geo import haversine_metres
from sitewatch.verify.formats import DeclaredItem
from sitewatch.verify.names import matching_name

ACTIVITY_STATUSES = frozenset({"active", "construction", "maintenance", "dismantling"})
RENEWED_ACTIVITY_STATUSES = frozenset({"active", "construction", "maintenance"})
REMOVAL_STATUSES = frozenset({"dismantled"})
FINDINGS = ("undeclared", "contradicted")
VERDICTS = (
    "undeclared",
    "contradicted",
    "dismantlement-verified",
    "dismantlement-unverified",
    "consistent",
    "not-observed",
    "unknown-site",
)
RUN_CHANGE, RUN_NO_CHANGE = "change", "no-change"
MAX_SCENE_EVIDENCE = 5


@dataclass(frozen=True)
class VerifyParameters:
    """The thresholds of a verification; stored with its verdicts."""

    min_removal_observations: int = 2
    lookback_days: int = 1095
    default_radius_m: float = 500.0
    min_changed_area_m2: float = 2500.0
    min_changed_share: float = 0.01

    def __post_init__(self) -> None:
        """Each threshold within its bound (:mod:`sitewatch.limits`), named by its option."""
        limits.OBSERVATIONS.check(self.min_removal_observations, item="--min-observations")
        limits.LOOKBACK_DAYS.check(self.lookback_days, item="--lookback-days")
        limits.AREA_M2.check(self.min_changed_area_m2, item="--min-change-m2")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Observation:
    """An assessment (``start == end``) or a run (before and after scene dates)."""

    evidence_id: str
    kind: str  # "assessment" | "run"
    status: str  # assessment status, or RUN_CHANGE / RUN_NO_CHANGE
    start: date
    end: date
    detail: str = ""

    @property
    def shows_activity(self) -> bool:
        return self.status == RUN_CHANGE or (
            self.kind == "assessment" and self.status in ACTIVITY_STATUSES
        )

    @property
    def renews_activity(self) -> bool:
        return self.status == RUN_CHANGE or (
            self.kind == "assessment" and self.status in RENEWED_ACTIVITY_STATUSES
        )

    @property
    def shows_removal(self) -> bool:
        return self.kind == "assessment" and self.status in REMOVAL_STATUSES

    def describe(self) -> str:
        if self.kind == "run":
            return f"detection run {self.evidence_id} ({self.start} to {self.end}): {self.detail}"
        return f"assessment {self.evidence_id} on {self.start}: {self.status}{self.detail}"


@dataclass(frozen=True)
class SiteFacts:
    """What the workspace knows of one catalog site, for one verification."""

    site_id: str
    name: str
    aliases: tuple[str, ...] = ()
    geometry: BaseGeometry | None = None
    uncertainty_m: float | None = None
    observations: tuple[Observation, ...] = ()
    # Scenes covering the site on or after the declaration date: (scene id, date), by date.
    scenes_after: tuple[tuple[str, date], ...] = ()


@dataclass(frozen=True)
class Match:
    """Why an item was paired with a site."""

    site_id: str
    matched_name: str | None
    distance_m: float | None
    radius_m: float

    @property
    def within_radius(self) -> bool:
        return self.distance_m is not None and self.distance_m <= self.radius_m


@dataclass(frozen=True)
class Verdict:
    """One line of a verification: a site, an item, or an item and its site."""

    verdict: str
    site_id: str | None
    item_index: int | None
    reasons: tuple[str, ...]
    evidence: tuple[str, ...] = ()
    item_name: str | None = None
    site_name: str | None = None
    declared_status: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["reasons"], data["evidence"] = list(self.reasons), list(self.evidence)
        return data


@dataclass
class _Context:
    declared_on: date
    parameters: VerifyParameters
    sites: Mapping[str, SiteFacts] = field(default_factory=dict)


def run_observation_status(summary: Mapping[str, Any], parameters: VerifyParameters) -> str:
    """RUN_CHANGE when a run's summary shows enough change to count as activity."""
    area = summary.get("changed_area_m2")
    if isinstance(area, int | float) and math.isfinite(area):
        return RUN_CHANGE if area >= parameters.min_changed_area_m2 else RUN_NO_CHANGE
    share = summary.get("changed_share")
    if isinstance(share, int | float) and share >= parameters.min_changed_share:
        return RUN_CHANGE
    return RUN_NO_CHANGE


def distance_to_site(lon: float, lat: float, geometry: BaseGeometry) -> float:
    """Metres from a point to a site geometry (0 inside a polygon).

    The nearest point is found in degrees and the distance measured on the sphere: the
    error is far below the coordinate uncertainties this radius test works with.
    """
    here = Point(lon, lat)
    if geometry.covers(here):
        return 0.0
    nearest = nearest_points(geometry, here)[0]
    return haversine_metres(lon, lat, nearest.x, nearest.y)


def match_item(
    item: DeclaredItem, sites: Sequence[SiteFacts], parameters: VerifyParameters
) -> tuple[Match | None, list[Match]]:
    """The item's best site and the other candidates, best first (see module docstring)."""
    candidates: list[Match] = []
    for site in sites:
        radius = max(site.uncertainty_m or 0.0, item.uncertainty_m or 0.0)
        radius = radius or parameters.default_radius_m
        distance = None
        if item.lat is not None and item.lon is not None and site.geometry is not None:
            distance = distance_to_site(item.lon, item.lat, site.geometry)
        name = None
        if item.name:
            name = matching_name(item.name, (site.name, *site.aliases, site.site_id))
        match = Match(site.site_id, name, distance, radius)
        if name is not None or match.within_radius:
            candidates.append(match)
    candidates.sort(
        key=lambda m: (
            m.matched_name is None,
            not m.within_radius,
            math.inf if m.distance_m is None else m.distance_m,
            m.site_id,
        )
    )
    return (candidates[0] if candidates else None), candidates[1:]


def verify(
    declared_on: date,
    items: Sequence[DeclaredItem],
    sites: Sequence[SiteFacts],
    parameters: VerifyParameters | None = None,
) -> list[Verdict]:
    """Every item's verdict (by index), then the verdicts of sites no item matched (by id)."""
    context = _Context(declared_on, parameters or VerifyParameters(), {s.site_id: s for s in sites})
    verdicts: list[Verdict] = []
    matched: set[str] = set()
    for item in items:
        best, others = match_item(item, sites, context.parameters)
        if best is None:
            verdicts.append(_unknown_site(item, context))
            continue
        matched.add(best.site_id)
        verdicts.append(_item_verdict(item, best, others, context))
    for site in sorted(sites, key=lambda s: s.site_id):
        if site.site_id not in matched:
            verdicts.append(_site_verdict(site, context))
    return verdicts


def has_findings(verdicts: Sequence[Verdict]) -> bool:
    """True when anything is undeclared or contradicted (the exit status of ``verify``)."""
    return any(v.verdict in FINDINGS for v in verdicts)


def _unknown_site(item: DeclaredItem, context: _Context) -> Verdict:
    where = []
    if item.name:
        where.append(f"no catalog site is named {item.name!r} or a transliteration of it")
    if item.lat is not None and item.lon is not None:
        where.append(
            f"none lies within its radius of {item.lat:.5f}, {item.lon:.5f} "
            f"({item.uncertainty_m or context.parameters.default_radius_m:g} m or the site's "
            "uncertainty)"
        )
    return Verdict(
        "unknown-site",
        None,
        item.index,
        (*where, "the declaration names a facility the catalog does not hold: new information"),
        item_name=item.name,
        declared_status=item.status,
    )


def _match_reasons(item: DeclaredItem, best: Match, others: list[Match]) -> list[str]:
    reasons = []
    if best.matched_name is not None:
        reasons.append(f"name {item.name!r} matches {best.matched_name!r}")
    if best.distance_m is not None:
        relation = "within" if best.within_radius else "BEYOND"
        reasons.append(
            f"declared location {best.distance_m:.0f} m from the site, {relation} the "
            f"{best.radius_m:g} m radius"
        )
    if others:
        reasons.append("other candidate sites: " + ", ".join(m.site_id for m in others))
    return reasons


def _item_verdict(
    item: DeclaredItem, best: Match, others: list[Match], context: _Context
) -> Verdict:
    site = context.sites[best.site_id]
    since = item.status_date or context.declared_on
    reasons = _match_reasons(item, best, others)
    after = [o for o in site.observations if o.start >= since]
    renewed = [o for o in after if o.renews_activity]

    def verdict(name: str, more: list[str], evidence: list[str]) -> Verdict:
        return Verdict(
            name,
            site.site_id,
            item.index,
            (*reasons, *more),
            tuple(dict.fromkeys(evidence)),
            item_name=item.name,
            site_name=site.name,
            declared_status=item.status,
        )

    if item.status in ("closed", "dismantled") and renewed:
        return verdict(
            "contradicted",
            [f"declared {item.status} since {since}, but " + o.describe() for o in renewed],
            [o.evidence_id for o in renewed],
        )
    observed, seen = _observed_after(site, context.declared_on)
    if item.status == "dismantled":
        removals = [o for o in after if o.shows_removal]
        dates = sorted({o.start for o in removals})
        needed = context.parameters.min_removal_observations
        counted = f"removal seen on {len(dates)} date(s) since {since} (needs {needed})"
        if dates:
            counted += ": " + ", ".join(str(d) for d in dates)
        evidence = [o.evidence_id for o in removals]
        if len(dates) >= needed:
            return verdict("dismantlement-verified", [counted, "no renewed activity"], evidence)
        if not observed:
            counted += f"; not observed since the declaration ({context.declared_on})"
        return verdict("dismantlement-unverified", [counted], evidence + seen)
    if not observed:
        return verdict("not-observed", [_not_observed(context.declared_on)], [])
    return verdict(
        "consistent",
        [f"declared {item.status}; observed since {context.declared_on}, nothing conflicts"],
        seen,
    )


def _site_verdict(site: SiteFacts, context: _Context) -> Verdict:
    window = context.declared_on - timedelta(days=context.parameters.lookback_days)
    activity = [o for o in site.observations if o.shows_activity and o.end >= window]
    if activity:
        reasons = [f"no declared item matches this site, but {o.describe()}" for o in activity]
        evidence = tuple(dict.fromkeys(o.evidence_id for o in activity))
        return Verdict("undeclared", site.site_id, None, tuple(reasons), evidence, None, site.name)
    observed, seen = _observed_after(site, context.declared_on)
    if not observed:
        reasons = ("not declared", _not_observed(context.declared_on))
        return Verdict("not-observed", site.site_id, None, reasons, (), None, site.name)
    return Verdict(
        "consistent",
        site.site_id,
        None,
        (f"not declared, and no evidence of activity since {window}",),
        tuple(seen),
        None,
        site.name,
    )


def _observed_after(site: SiteFacts, declared_on: date) -> tuple[bool, list[str]]:
    """Whether imagery or an assessment shows the site on or after the declaration date,
    and the latest scene and assessment ids that do (a few scenes, not hundreds)."""
    assessments = [
        o.evidence_id
        for o in site.observations
        if o.kind == "assessment" and o.end >= declared_on and o.status != "inconclusive"
    ]
    scenes = [scene_id for scene_id, _ in site.scenes_after[-MAX_SCENE_EVIDENCE:]]
    return bool(assessments or site.scenes_after), scenes + assessments


def _not_observed(declared_on: date) -> str:
    return f"no imagery covers the site and no assessment is dated on or after {declared_on}"
