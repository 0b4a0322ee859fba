"""``sitewatch verify``: gather what the workspace knows, apply the rules, keep the verdicts.

The rules themselves are pure (:mod:`sitewatch.verify.rules`); this module turns rows
into their records: the sites in the declaration's scope (its ``country``, else the whole
catalog), each site's assessments and detection runs (dated by their scenes), and the
scenes covering it on or after the declaration date. The verdicts are stored as a
Verification with the parameters used and recorded in the ledger in the same transaction,
so a published verdict can be traced to the exact inputs and thresholds.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from shapely.geometry import mapping
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sitewatch.catalog.aoi import site_area_of_interest
from sitewatch.db.models import (
    Assessment,
    DeclarationItem,
    DetectionRun,
    Scene,
    Site,
    Verification,
)
from sitewatch.evidence import ledger
from sitewatch.imagery.search import find_scenes
from sitewatch.verify.formats import DeclaredItem
from sitewatch.verify.rules import (
    Observation,
    SiteFacts,
    Verdict,
    VerifyParameters,
    has_findings,
    run_observation_status,
    verify,
)
from sitewatch.verify.store import get_declaration


@dataclass(frozen=True)
class VerificationResult:
    """A stored verification: its id, the declaration, the verdicts and their counts."""

    verification_id: str
    declaration_id: str
    verdicts: list[Verdict]
    summary: dict[str, int]

    @property
    def has_findings(self) -> bool:
        return has_findings(self.verdicts)


def verify_declaration(
    session: Session, declaration_id: str, parameters: VerifyParameters | None = None
) -> VerificationResult:
    """Verify a stored declaration against the catalog and imagery; store and record it."""
    parameters = parameters or VerifyParameters()
    declaration = get_declaration(session, declaration_id)
    items = [_declared_item(row) for row in declaration.items]
    sites = _sites_in_scope(session, declaration.document.get("country"))
    facts = _site_facts(session, sites, declaration.declared_on, parameters)
    verdicts = verify(declaration.declared_on, items, facts, parameters)
    summary = dict(Counter(v.verdict for v in verdicts))
    taken = session.scalar(
        select(func.count())
        .select_from(Verification)
        .where(Verification.declaration_id == declaration.id)
    )
    verification = Verification(
        id=f"{declaration.id}-v{int(taken or 0) + 1}",
        declaration_id=declaration.id,
        parameters=parameters.as_dict(),
        verdicts=[v.as_dict() for v in verdicts],
        summary=summary,
    )
    session.add(verification)
    session.flush()
    ledger.record(
        session,
        kind="verification",
        payload={
            "verification_id": verification.id,
            "declaration_id": declaration.id,
            "parameters": verification.parameters,
            "summary": summary,
            "verdicts": verification.verdicts,
        },
        subject_id=verification.id,
    )
    return VerificationResult(verification.id, declaration.id, verdicts, summary)


def list_verifications(session: Session, declaration_id: str) -> list[Verification]:
    """The stored verifications of a declaration, newest first (NotFoundError if unknown)."""
    declaration = get_declaration(session, declaration_id)
    return list(
        session.scalars(
            select(Verification)
            .where(Verification.declaration_id == declaration.id)
            .order_by(Verification.created_at.desc(), Verification.id.desc())
        )
    )


def latest_site_verdicts(session: Session, site_ids: Iterable[str]) -> dict[str, str]:
    """Each site's verdict in the newest verification that names it (sites no verification
    names are left out): what the map shows beside declared/undeclared."""
    wanted, found = set(site_ids), {}
    newest_first = select(Verification.verdicts).order_by(
        Verification.created_at.desc(), Verification.id.desc()
    )
    for verdicts in session.scalars(newest_first):
        for verdict in verdicts:
            site_id = verdict.get("site_id")
            if site_id in wanted and site_id not in found:
                found[site_id] = verdict["verdict"]
        if len(found) == len(wanted):
            break
    return found


def verification_to_dict(verification: Verification) -> dict[str, Any]:
    """A stored verification as plain data: its verdicts as they were given."""
    return {
        "id": verification.id,
        "declaration_id": verification.declaration_id,
        "created_at": verification.created_at.isoformat(),
        "parameters": verification.parameters,
        "summary": verification.summary,
        "verdicts": verification.verdicts,
    }


def site_verdicts(session: Session, site_id: str) -> list[dict[str, Any]]:
    """The verdicts about ``site_id`` in the newest verification of each declaration (an
    older one is superseded by the next ``verify``), each with its declaration and
    verification ids."""
    newest: dict[str, Verification] = {}
    for verification in session.scalars(
        select(Verification).order_by(Verification.created_at.desc(), Verification.id.desc())
    ):
        newest.setdefault(verification.declaration_id, verification)
    return [
        {
            "declaration_id": verification.declaration_id,
            "verification_id": verification.id,
            "verified_at": verification.created_at.isoformat(),
            **verdict,
        }
        for verification in newest.values()
        for verdict in verification.verdicts
        if verdict.get("site_id") == site_id
    ]


def verdict_map(session: Session, declaration_id: str) -> dict[str, Any]:
    """A GeoJSON FeatureCollection for a map of the newest verification's verdicts: each
    declared item at its position and each catalog site with its geometry, both carrying
    the verdict given on them (``kind``: ``item`` or ``site``)."""
    declaration = get_declaration(session, declaration_id)
    verifications = list_verifications(session, declaration_id)
    verdicts = verifications[0].verdicts if verifications else []
    items = {item.position: item for item in declaration.items}
    site_ids = {v["site_id"] for v in verdicts if v.get("site_id")}
    sites = {s.id: s for s in session.scalars(select(Site).where(Site.id.in_(site_ids)))}
    features: list[dict[str, Any]] = []
    for number, verdict in enumerate(verdicts):
        common = {"verdict": verdict["verdict"], "row": number}
        item = items.get(verdict.get("item_index"))  # type: ignore[arg-type]
        if item is not None and item.lon is not None and item.lat is not None:
            point = {"type": "Point", "coordinates": [item.lon, item.lat]}
            properties = {**common, "kind": "item", "name": item.name, "index": item.position}
            features.append({"type": "Feature", "geometry": point, "properties": properties})
        site = sites.get(verdict.get("site_id") or "")
        if site is not None and site.geometry is not None:
            properties = {**common, "kind": "site", "name": site.name, "site_id": site.id}
            features.append(
                {"type": "Feature", "geometry": mapping(site.geometry), "properties": properties}
            )
    return {"type": "FeatureCollection", "features": features}


def _declared_item(row: DeclarationItem) -> DeclaredItem:
    return DeclaredItem(
        index=row.position,
        name=row.name,
        lat=row.lat,
        lon=row.lon,
        uncertainty_m=row.uncertainty_m,
        category=row.category,
        status=row.status,
        status_date=row.status_date,
        inventory=row.inventory,
        extra=dict(row.extra or {}),
    )


def _sites_in_scope(session: Session, country: str | None) -> list[Site]:
    query = select(Site).order_by(Site.id)
    if country:
        query = query.where(Site.country == country.upper())
    return list(session.scalars(query))


def _site_facts(
    session: Session, sites: list[Site], declared_on: date, parameters: VerifyParameters
) -> list[SiteFacts]:
    ids = [site.id for site in sites]
    assessments: dict[str, list[Assessment]] = defaultdict(list)
    for assessment in session.scalars(
        select(Assessment).where(Assessment.site_id.in_(ids)).order_by(Assessment.observed_on)
    ):
        assessments[assessment.site_id].append(assessment)
    runs: dict[str, list[DetectionRun]] = defaultdict(list)
    for run in session.scalars(select(DetectionRun).where(DetectionRun.site_id.in_(ids))):
        runs[run.site_id or ""].append(run)
    scene_dates = _scene_dates(session, runs.values())
    since = datetime.combine(declared_on, datetime.min.time(), UTC)
    facts = []
    for site in sites:
        cited = {e for a in assessments[site.id] for e in a.evidence}
        observations = [_assessment_observation(a) for a in assessments[site.id]]
        for run in runs[site.id]:
            if run.id not in cited:
                observation = _run_observation(run, scene_dates, parameters)
                if observation is not None:
                    observations.append(observation)
        scenes = []
        if site.geometry is not None:
            scenes = [
                (scene.id, scene.datetime.date())
                for scene in find_scenes(session, site_area_of_interest(site), since)
            ]
        facts.append(
            SiteFacts(
                site_id=site.id,
                name=site.name,
                aliases=tuple(site.aliases or ()),
                geometry=site.geometry,
                uncertainty_m=site.uncertainty_m,
                observations=tuple(sorted(observations, key=lambda o: (o.start, o.evidence_id))),
                scenes_after=tuple(scenes),
            )
        )
    return facts


def _scene_dates(session: Session, runs: Iterable[list[DetectionRun]]) -> dict[str, date]:
    wanted = {
        scene_id
        for group in runs
        for run in group
        for scene_id in (run.before_scene_id, run.after_scene_id)
        if scene_id
    }
    rows = session.execute(select(Scene.id, Scene.datetime).where(Scene.id.in_(wanted)))
    return {scene_id: when.date() for scene_id, when in rows}


def _assessment_observation(assessment: Assessment) -> Observation:
    detail = f" ({assessment.confidence} confidence, {assessment.analyst})"
    return Observation(
        assessment.id,
        "assessment",
        assessment.status,
        assessment.observed_on,
        assessment.observed_on,
        detail,
    )


def _run_observation(
    run: DetectionRun, scene_dates: dict[str, date], parameters: VerifyParameters
) -> Observation | None:
    """The run as an observation dated by its scenes (lineage dates if a scene was removed);
    None when neither gives its dates."""
    inputs = (run.lineage or {}).get("inputs", {})
    dates = []
    for scene_id, key in ((run.before_scene_id, "before"), (run.after_scene_id, "after")):
        when = scene_dates.get(scene_id or "")
        if when is None and isinstance(inputs.get(key), dict) and inputs[key].get("datetime"):
            when = datetime.fromisoformat(inputs[key]["datetime"]).date()
        if when is None:
            return None
        dates.append(when)
    summary = run.summary or {}
    status = run_observation_status(summary, parameters)
    area = summary.get("changed_area_m2")
    detail = "change" if status == "change" else "no change above the thresholds"
    if isinstance(area, int | float):
        detail += f" over {area:,.0f} m2 in {summary.get('object_count', '?')} object(s)"
    return Observation(run.id, "run", status, dates[0], dates[1], detail)
