"""SiteRecord validation: what is accepted, how it is normalised, what is refused."""

from __future__ import annotations

import pytest
from shapely.geometry import LineString, Point, Polygon

from sitewatch.catalog.records import (
    SiteRecord,
    SourceRecord,
    normalise_category,
    parse_partial_date,
    slugify,
)
from sitewatch.errors import InputError


def test_slug_is_made_from_the_name_when_no_id_is_given() -> None:
    assert SiteRecord(name="Sohae Satellite Launching Station").id == (
        "sohae-satellite-launching-station"
    )
    assert slugify("Kŭmch'ŏn-ni  (north)") == "kumch-on-ni-north"


def test_a_name_with_no_ascii_form_needs_an_id() -> None:
    with pytest.raises(InputError, match="give an id"):
        SiteRecord(name="신오리")
    assert SiteRecord(name="신오리", id="sino-ri").id == "sino-ri"


@pytest.mark.parametrize("bad", ["Sino ri", "sino_ri", "-sino", "sino--ri", "SINO"])
def test_ids_must_be_slugs(bad: str) -> None:
    with pytest.raises(InputError, match=r"^id: .* is not a valid id"):
        SiteRecord(name="x", id=bad)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("missile operating base", "missile-operating-base"),
        ("Missile_Operating_Base", "missile-operating-base"),
        ("  launch site ", "launch-site"),
        ("nuclear-facility", "nuclear-facility"),
    ],
)
def test_human_category_spellings_are_normalised(given: str, expected: str) -> None:
    assert normalise_category(given) == expected
    assert SiteRecord(name="x", category=given).category == expected


def test_unknown_category_and_status_name_the_field_and_the_choices() -> None:
    with pytest.raises(InputError, match=r"^category: unknown value 'airbase' \(expected"):
        SiteRecord(name="x", category="airbase")
    with pytest.raises(InputError, match=r"^status: .*under-construction"):
        SiteRecord(name="x", status="rebuilt")
    assert SiteRecord(name="x", status="Under construction").status == "under-construction"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("2018", "2018"),
        ("2018-12", "2018-12"),
        ("2018-11-12", "2018-11-12"),
        ("", None),
        (None, None),
    ],
)
def test_partial_dates_keep_their_precision(given: str | None, expected: str | None) -> None:
    assert parse_partial_date(given) == expected


@pytest.mark.parametrize("bad", ["2018-13", "2018-02-30", "12/11/2018", "2018-1", "soon"])
def test_bad_dates_name_the_field(bad: str) -> None:
    with pytest.raises(InputError, match=r"^source date: .* is not a date"):
        SourceRecord("t", "", bad)


def test_swapped_latitude_longitude_is_named_as_such() -> None:
    with pytest.raises(InputError, match="latitude/longitude look swapped"):
        SiteRecord(name="x", geometry=Point(39.644929, 125.355288))


def test_out_of_range_coordinates_are_refused() -> None:
    with pytest.raises(InputError, match=r"longitude 200 is out of range"):
        SiteRecord(name="x", geometry=Point(200, 10))
    with pytest.raises(InputError, match=r"latitude 95 is out of range"):
        SiteRecord(name="x", geometry=Point(100, 95))


def test_self_intersecting_polygon_is_invalid() -> None:
    bowtie = Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    with pytest.raises(InputError, match=r"^geometry: invalid Polygon: Self-intersection"):
        SiteRecord(name="x", geometry=bowtie)


def test_lines_are_not_site_geometries() -> None:
    with pytest.raises(InputError, match="LineString is not a site geometry"):
        SiteRecord(name="x", geometry=LineString([(0, 0), (1, 1)]))


def test_heights_are_dropped_and_empty_geometry_means_unlocated() -> None:
    assert not SiteRecord(name="x", geometry=Point(1, 2, 30)).geometry.has_z  # type: ignore[union-attr]
    assert SiteRecord(name="x", geometry=Point()).geometry is None


def test_country_uncertainty_and_lists_are_normalised() -> None:
    record = SiteRecord(
        name=" Sino-ri ",
        country="prk",
        aliases=["Sinori", " Sinori ", ""],
        uncertainty_m="2000",  # type: ignore[arg-type]
    )
    assert (record.name, record.country, record.aliases, record.uncertainty_m) == (
        "Sino-ri",
        "PRK",
        ["Sinori"],
        2000.0,
    )
    with pytest.raises(InputError, match=r"^country: "):
        SiteRecord(name="x", country="North Korea")
    with pytest.raises(InputError, match=r"^uncertainty_m: "):
        SiteRecord(name="x", uncertainty_m=-5)
    with pytest.raises(InputError, match=r"^aliases: .*';'"):
        SiteRecord(name="x", aliases=["a;b"])


def test_a_source_needs_a_title_or_url() -> None:
    with pytest.raises(InputError, match="title or a URL"):
        SourceRecord("", "", "2020")


def test_representative_point_of_a_polygon_lies_inside_it() -> None:
    ring = Polygon([(0, 0), (10, 0), (10, 1), (1, 1), (1, 10), (0, 10)])  # an L: centroid outside
    lon, lat = SiteRecord(name="x", geometry=ring).lon_lat  # type: ignore[misc]
    assert ring.contains(Point(lon, lat))


def test_values_longer_than_their_database_column_are_refused() -> None:
    with pytest.raises(InputError, match=r"^name: is 301 characters long; at most 300 fit"):
        SiteRecord(name="x" * 301)
    with pytest.raises(InputError, match=r"^source url: "):
        SourceRecord("t", "https://example.org/" + "a" * 1000)
