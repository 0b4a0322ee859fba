"""Matching and verdicts on plain records: each verdict from a constructed case."""

from __future__ import annotations

from datetime import date

from shapely.geometry import Point, box

from sitewatch.verify.formats import DeclaredItem
from sitewatch.verify.rules import (
    Observation,
    SiteFacts,
    VerifyParameters,
    distance_to_site,
    has_findings,
    match_item,
    run_observation_status,
    verify,
)

DECLARED = date(2023, 1, 1)
SCENE_AFTER = (("s2-2023-03-01", date(2023, 3, 1)),)


def _item(index: int = 0, status: str = "operational", **fields: object) -> DeclaredItem:
    return DeclaredItem(index=index, category="base", status=status, **fields)  # type: ignore[arg-type]


def _site(site_id: str = "sino-ri", *observations: Observation, scenes=SCENE_AFTER) -> SiteFacts:
    return SiteFacts(
        site_id=site_id,
        name="Sino-ri",
        aliases=("신오리",),
        geometry=Point(125.5, 39.6),
        uncertainty_m=2000.0,
        observations=observations,
        scenes_after=scenes,
    )


def _assessment(evidence_id: str, status: str, day: date) -> Observation:
    return Observation(evidence_id, "assessment", status, day, day)


def _run(evidence_id: str, start: date, end: date, status: str = "change") -> Observation:
    return Observation(evidence_id, "run", status, start, end, "change over 9,000 m2")


def test_distance_uses_the_larger_uncertainty_and_a_500_m_default() -> None:
    site = _site()
    near = _item(lat=39.6 + 1500 / 111_320, lon=125.5)  # 1.5 km north
    far = _item(lat=39.6 + 2500 / 111_320, lon=125.5)
    best, _ = match_item(near, [site], VerifyParameters())
    assert best is not None and best.within_radius and best.radius_m == 2000
    assert abs(best.distance_m - 1500) < 5
    assert match_item(far, [site], VerifyParameters())[0] is None
    assert (
        match_item(
            _item(lat=39.6 + 2500 / 111_320, lon=125.5, uncertainty_m=3000),
            [site],
            VerifyParameters(),
        )[0]
        is not None
    )
    bare = SiteFacts("x", "Nowhere", geometry=Point(125.5, 39.6))
    assert match_item(_item(lat=39.6 + 400 / 111_320, lon=125.5), [bare], VerifyParameters())[0]
    assert not match_item(_item(lat=39.6 + 600 / 111_320, lon=125.5), [bare], VerifyParameters())[0]
    assert distance_to_site(125.5, 39.6, box(125.4, 39.5, 125.6, 39.7)) == 0.0


def test_a_name_match_wins_over_a_nearer_site() -> None:
    other = SiteFacts("kal-gol", "Kal-gol", geometry=Point(125.5, 39.6), uncertainty_m=5000)
    named = _site(scenes=())
    best, others = match_item(
        _item(name="Sinori", lat=39.6, lon=125.5), [other, named], VerifyParameters()
    )
    assert best is not None and best.site_id == "sino-ri" and best.matched_name == "Sino-ri"
    assert [m.site_id for m in others] == ["kal-gol"]


def test_consistent_not_observed_and_unknown_site() -> None:
    observed, unseen = _site("a"), _site("b", scenes=())
    items = [_item(0, name="Sin-o-ri"), _item(1, name="Pyongyang Bakery", lat=10.0, lon=10.0)]
    verdicts = verify(DECLARED, items, [observed, unseen])
    by_item = {v.item_index: v for v in verdicts if v.item_index is not None}
    assert by_item[0].verdict == "consistent" and by_item[0].site_id == "a"
    assert by_item[0].evidence == ("s2-2023-03-01",)
    assert by_item[1].verdict == "unknown-site" and by_item[1].site_id is None
    site_b = [v for v in verdicts if v.item_index is None]
    assert [(v.site_id, v.verdict) for v in site_b] == [("b", "not-observed")]
    assert not has_findings(verdicts)


def test_undeclared_needs_recent_activity() -> None:
    active = _site("a", _assessment("asmt-1", "construction", date(2022, 6, 1)))
    old = _site("b", _assessment("asmt-2", "active", date(2015, 6, 1)))
    idle = _site("c", _assessment("asmt-3", "inactive", date(2022, 6, 1)))
    run = _site("d", _run("run-1", date(2022, 1, 1), date(2022, 9, 1)))
    verdicts = {v.site_id: v for v in verify(DECLARED, [], [active, old, idle, run])}
    assert verdicts["a"].verdict == "undeclared" and verdicts["a"].evidence == ("asmt-1",)
    assert verdicts["d"].verdict == "undeclared" and verdicts["d"].evidence == ("run-1",)
    assert verdicts["b"].verdict == "consistent" and verdicts["c"].verdict == "consistent"
    assert has_findings(list(verdicts.values()))


def test_closed_or_dismantled_with_later_activity_is_contradicted() -> None:
    since = date(2022, 6, 1)
    site = _site(
        "a",
        _run("run-spanning", date(2022, 1, 1), date(2022, 9, 1)),
        _run("run-after", date(2022, 7, 1), date(2023, 2, 1)),
    )
    [verdict] = verify(
        DECLARED, [_item(status="dismantled", name="Sino-ri", status_date=since)], [site]
    )
    assert verdict.verdict == "contradicted"
    # Only the run wholly after the declared date counts: the other may be the dismantling.
    assert verdict.evidence == ("run-after",)
    closed = _site("a", _assessment("asmt-9", "maintenance", date(2022, 6, 1)))
    [verdict] = verify(
        DECLARED, [_item(status="closed", name="Sino-ri", status_date=since)], [closed]
    )
    assert verdict.verdict == "contradicted" and verdict.evidence == ("asmt-9",)
    dismantling = _site("a", _assessment("asmt-8", "dismantling", date(2022, 7, 1)))
    [verdict] = verify(
        DECLARED, [_item(status="closed", name="Sino-ri", status_date=since)], [dismantling]
    )
    assert verdict.verdict == "consistent"


def test_dismantlement_verified_needs_n_dates_of_removal() -> None:
    item = _item(status="dismantled", name="Sino-ri", status_date=date(2022, 6, 1))
    one = _site(
        "a",
        _assessment("asmt-1", "dismantled", date(2022, 8, 1)),
        _assessment("asmt-2", "dismantled", date(2022, 8, 1)),
        _assessment("asmt-3", "inactive", date(2022, 9, 1)),
    )
    [verdict] = verify(DECLARED, [item], [one])
    assert verdict.verdict == "dismantlement-unverified"
    assert "removal seen on 1 date(s)" in verdict.reasons[-1]
    two = _site(
        "a",
        _assessment("asmt-1", "dismantled", date(2022, 8, 1)),
        _assessment("asmt-4", "dismantled", date(2023, 2, 1)),
        _run("run-quiet", date(2022, 8, 1), date(2023, 2, 1), status="no-change"),
    )
    [verdict] = verify(DECLARED, [item], [two])
    assert verdict.verdict == "dismantlement-verified"
    assert verdict.evidence == ("asmt-1", "asmt-4")
    [verdict] = verify(DECLARED, [item], [two], VerifyParameters(min_removal_observations=3))
    assert verdict.verdict == "dismantlement-unverified"
    [verdict] = verify(DECLARED, [item], [_site("a", scenes=())])
    assert verdict.verdict == "dismantlement-unverified" and "not observed" in verdict.reasons[-1]


def test_run_status_from_its_summary() -> None:
    parameters = VerifyParameters(min_changed_area_m2=1000)
    assert run_observation_status({"changed_area_m2": 1500.0}, parameters) == "change"
    assert run_observation_status({"changed_area_m2": 500.0}, parameters) == "no-change"
    assert (
        run_observation_status({"changed_area_m2": None, "changed_share": 0.2}, parameters)
        == "change"
    )
    assert run_observation_status({}, parameters) == "no-change"
