"""Claims against the imagery: for each claim about a site, the observations of that site
(assessments, detection runs, scenes) that support or contradict it, and how old the
newest image before the claim was.

The weighing is deliberately plain, so an analyst can redo it: an assessment of activity
(active, construction, maintenance) supports a claim of activity and contradicts a claim
of dismantlement or a denial; an assessment of dismantling, dismantled or inactive does
the reverse. A detection run that found change supports activity; one that found none is
weak evidence against it (change can be missed). A dispute ("nothing new", "the imagery
is months old") is about significance, not about the site's state: its observations are
listed, not weighed. A claim dated only to the month or year counts to its period's end.
"""

from __future__ import annotations

import calendar
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from sitewatch.catalog.sites import get_site
from sitewatch.db.models import DetectionRun, Scene
from sitewatch.detect.runs import list_runs
from sitewatch.imagery.scenes import list_scenes
from sitewatch.sources.review import effective, list_claims
from sitewatch.verify.assessments import list_assessments

ACTIVITY = frozenset({"active", "construction", "maintenance"})
GONE = frozenset({"dismantling", "dismantled", "inactive"})
#: Which way each stance points: +1 says the site is active, -1 that it is not.
DIRECTION = {"asserts_activity": 1, "reports_dismantlement": -1, "denies": -1}


def claim_day(text: str | None) -> date | None:
    """The last day a claim dated ``text`` (YYYY, YYYY-MM or YYYY-MM-DD) can be of."""
    if not text or text.startswith("-"):
        return None
    parts = [int(p) for p in text.split("-")]
    if len(parts) == 3:
        return date(*parts)
    if len(parts) == 2:
        return date(parts[0], parts[1], calendar.monthrange(parts[0], parts[1])[1])
    return date(parts[0], 12, 31)


def check_site_claims(session: Session, site_id: str) -> list[dict[str, Any]]:
    """Each claim about ``site_id`` with its observations and the newest image before it."""
    site = get_site(session, site_id)
    claims = list_claims(session, site.id)
    if not claims:  # the usual case on a site page or in a dossier: read nothing more
        return []
    scenes = list_scenes(session, site_id=site.id)
    runs = list_runs(session, site_id=site.id)
    assessments = list_assessments(session, site.id)
    scene_days = {s.id: s.datetime.date() for s in scenes}
    checked = []
    for claim in claims:
        values = effective(claim)
        if values["rejected"]:
            continue
        day = claim_day(claim.claimed_on)
        direction = DIRECTION.get(values["stance"], 0)
        observations = [_assessment(a, direction, day) for a in assessments]
        observations += [_run(r, direction, day, scene_days) for r in runs]
        checked.append(
            {
                "claim_id": claim.id,
                "claimed_on": claim.claimed_on,
                "speaker": values["speaker"],
                "stance": values["stance"],
                "quote": claim.quote,
                "newest_image_before": _newest_before(scenes, day),
                "images_before": sum(day is not None and d <= day for d in scene_days.values()),
                "images_after": sum(day is not None and d > day for d in scene_days.values()),
                "observations": observations,
                "supported_by": sum(o["relation"] == "supports" for o in observations),
                "contradicted_by": sum(o["relation"] == "contradicts" for o in observations),
            }
        )
    return checked


def _newest_before(scenes: list[Scene], day: date | None) -> dict[str, Any] | None:
    if day is None:
        return None
    before = [s for s in scenes if s.datetime.date() <= day]
    if not before:
        return None
    newest = max(before, key=lambda s: s.datetime)
    return {
        "scene_id": newest.id,
        "date": newest.datetime.date().isoformat(),
        "age_days": (day - newest.datetime.date()).days,
    }


def _timing(observed: date | None, day: date | None) -> str:
    if observed is None or day is None:
        return "undated"
    return "before" if observed <= day else "after"


def _relation(says_active: int, direction: int) -> str:
    if direction == 0 or says_active == 0:
        return "listed"
    return "supports" if says_active == direction else "contradicts"


def _assessment(assessment: Any, direction: int, day: date | None) -> dict[str, Any]:
    says = 1 if assessment.status in ACTIVITY else -1 if assessment.status in GONE else 0
    return {
        "kind": "assessment",
        "id": assessment.id,
        "date": assessment.observed_on.isoformat(),
        "timing": _timing(assessment.observed_on, day),
        "what": f"{assessment.status} ({assessment.confidence}, {assessment.analyst})",
        "relation": _relation(says, direction),
    }


def _run(
    run: DetectionRun, direction: int, day: date | None, scene_days: dict[str, date]
) -> dict[str, Any]:
    after = scene_days.get(run.after_scene_id or "")
    summary = run.summary or {}
    # Pixel-space runs have no area; either figure says whether change was found.
    changed = summary.get("changed_area_m2", summary.get("changed_pixels"))
    says = 0 if changed is None else 1 if changed > 0 else -1
    relation = _relation(says, direction)
    if says == -1 and relation != "listed":
        relation += " (weakly: change can be missed)"
    return {
        "kind": "run",
        "id": run.id,
        "date": after.isoformat() if after else None,
        "timing": _timing(after, day),
        "what": f"{run.method}: change {'found' if says == 1 else 'none' if says == -1 else '?'}"
        f" ({changed if changed is not None else '?'})",
        "relation": relation,
    }
