"""Catalog sites found by name and alias across transliterations; homonyms never silent."""

from __future__ import annotations

import pytest

from sitewatch.catalog.reference import load_reference
from sitewatch.sources.mentions import SiteIndex, find_sites
from sitewatch.sources.patterns import (
    find_dates,
    find_missiles,
    find_organisations,
    find_quantities,
)


@pytest.fixture(scope="module")
def index() -> SiteIndex:
    return SiteIndex((r.id, r.name, r.aliases) for r in load_reference("dprk"))


@pytest.mark.parametrize(
    ("text", "site"),
    [
        ("The Sino-ri Missile Operating Base houses Nodong missiles.", "sino-ri"),
        ("A base at Sinori was found.", "sino-ri"),
        ("신오리는 노동 미사일 기지다.", "sino-ri"),
        ("CSIS detailed the Sakkanmol base.", "sakkanmol"),
        ("북한 삭간몰 기지에서", "sakkanmol"),
        ("Rockets were launched from Musudan-ri in 2009.", "tonghae-satellite-launching-ground"),
        (
            "Activity at the Yongbyon nuclear complex.",
            "yongbyon-nuclear-scientific-research-center",
        ),
        ("Sangnam-ri and Kumchon-ni were named.", "sangnam-ni"),
    ],
)
def test_a_named_site_is_found(index: SiteIndex, text: str, site: str) -> None:
    assert site in {m.site_id for m in find_sites(text, index)}


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Kim visited a plant in Hwangju.", "Hwangju"),
        ("A textile mill in Kaesong reopened.", "Kaesong"),
        ("The plan was 구성된 well.", "구성"),
    ],
)
def test_a_bare_homonym_is_listed_as_ambiguous_not_matched(
    index: SiteIndex, text: str, name: str
) -> None:
    mentions = find_sites(text, index)
    assert [(m.text, m.site_id) for m in mentions] == [(name, None)]
    assert mentions[0].candidates


def test_missile_names_that_are_site_aliases_are_not_sites(index: SiteIndex) -> None:
    text = "North Korea launched a Taepodong-2 rocket; the Musudan missile was paraded."
    assert [m.site_id for m in find_sites(text, index) if m.site_id] == []


def test_missiles_organisations_quantities_dates() -> None:
    text = (
        "The Beyond Parallel program at the Center for Strategic and International Studies "
        "found 16 secret bases for short-range ballistic missile (SRBM) up to ICBM, Nodong-1 "
        "and Hwasong-10 (Musudan), on November 13, 2018; 2019년 1월 22일 보도."
    )
    assert [f.value for f in find_missiles(text)] == [
        "SRBM", "SRBM", "ICBM", "Nodong-1", "Hwasong-10", "Musudan",
    ]  # fmt: skip
    assert [f.value for f in find_organisations(text)] == ["CSIS Beyond Parallel"]
    assert [f.value for f in find_quantities(text)] == ["16 bases"]
    assert [f.value for f in find_dates(text)] == ["2018-11-13", "2019-01-22"]
