"""Packaged reference data: DPRK sites and country outlines."""

from __future__ import annotations

from pathlib import Path

import pytest
from shapely.geometry import Point

from sitewatch.catalog.formats import geojson
from sitewatch.catalog.reference import country_outline, load_reference
from sitewatch.catalog.reference_build import OUTPUT, build_dprk_records, uncertainty_metres
from sitewatch.errors import InputError
from sitewatch.geo import buffer_metres

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference"


def test_dprk_reference_has_located_sourced_sites() -> None:
    sites = load_reference("dprk")
    located = [s for s in sites if s.geometry is not None]
    assert len(located) >= 21
    assert all(s.sources and all(src.url for src in s.sources) for s in sites)
    assert all(s.country == "PRK" and s.uncertainty_m for s in located)
    assert [s.id for s in sites if s.geometry is None] == ["yongjo-ri"]
    by_id = {s.id: s for s in sites}
    assert by_id["kal-gol"].uncertainty_m == 5000.0 and "LOW" in by_id["kal-gol"].notes
    assert by_id["sakkanmol"].sources[0].date == "2018-11-12"
    assert by_id["yongjo-ri"].sources[0].date == "2018-12"
    assert by_id["sohae-satellite-launching-station"].category == "launch-site"
    # published figures are kept as published, not padded: 39.660 stays 39.66
    assert by_id["sohae-satellite-launching-station"].geometry == Point(124.705, 39.66)


def test_every_located_site_is_in_north_korea_within_its_uncertainty() -> None:
    prk = country_outline("PRK")
    for site in load_reference("dprk"):
        if site.geometry is not None:
            reach = buffer_metres(site.geometry, site.uncertainty_m or 0.0)
            assert reach.intersects(prk), site.id


def test_outline_contains_sohae_and_punggye_ri() -> None:
    prk = country_outline("prk")
    assert prk.contains(Point(124.705, 39.660))  # Sohae, on the coast
    assert prk.contains(Point(129.087408, 41.2780677))  # Punggye-ri
    assert not prk.contains(Point(126.978, 37.566))  # Seoul
    assert country_outline("KOR").contains(Point(126.978, 37.566))


def test_unknown_names_list_the_known_ones() -> None:
    with pytest.raises(InputError, match=r"unknown reference set 'iran' \(known: dprk\)"):
        load_reference("iran")
    with pytest.raises(InputError, match=r"no outline shipped for 'FRA' \(known: CHN, JPN"):
        country_outline("FRA")


@pytest.mark.parametrize(
    ("text", "metres"),
    [
        ("CSIS point, corroborated twice; base spans ~3 sq mi so +-2 km for extent", 2000.0),
        ("LOW: +-3 km; GeoNames 'Sil-li' 39.4947,125.4736 is a different village", 3000.0),
        ("versions differ by ~1.7 km", 2000.0),
        ("LOW: value fits stated distances (computed ~126 km from Seoul)", 5000.0),
        ("single scrape; plausible vs '250 km N of DMZ'", 2000.0),
        ("UNKNOWN: ~11 km from Hoejung-ni", None),
    ],
)
def test_uncertainty_text_to_metres(text: str, metres: float | None) -> None:
    assert uncertainty_metres(text) == metres


def test_shipped_file_is_what_the_build_script_makes() -> None:
    if not (REFERENCE / "dprk_sites_reference.csv").is_file():
        pytest.skip(f"reference facts not available: {REFERENCE} is absent")
    assert geojson.dumps(build_dprk_records(REFERENCE)) == OUTPUT.read_text(encoding="utf-8")
