"""Hostile or broken files: one-line InputError naming the file and the item at fault."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from sitewatch.catalog.formats import kml, read_sites
from sitewatch.errors import InputError

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE kml [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark>
<name>&lol4;</name><Point><coordinates>125,39</coordinates></Point>
</Placemark></Document></kml>
"""
XXE = """<?xml version="1.0"?>
<!DOCTYPE kml [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark>
<name>&secret;</name><Point><coordinates>125,39</coordinates></Point>
</Placemark></Document></kml>
"""


def _kml(placemarks: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2">'
        f"<Document>{placemarks}</Document></kml>"
    )


def _geojson(geometry: dict[str, object], name: str = "Bad one") -> str:
    ok = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [125, 39]},
        "properties": {"name": "Fine"},
    }
    bad = {"type": "Feature", "geometry": geometry, "properties": {"name": name}}
    return json.dumps({"type": "FeatureCollection", "features": [ok, bad]})


def _error(path: Path) -> str:
    with pytest.raises(InputError) as caught:
        read_sites(path)
    message = str(caught.value)
    assert "\n" not in message
    assert str(path) in message
    return message


@pytest.mark.parametrize("text", [BILLION_LAUGHS, XXE], ids=["billion-laughs", "xxe"])
def test_kml_entities_are_refused(text: str, tmp_path: Path) -> None:
    path = tmp_path / "evil.kml"
    path.write_text(text)
    assert "refused" in _error(path)


def test_xxe_inside_kmz_is_refused_too(tmp_path: Path) -> None:
    path = tmp_path / "evil.kmz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("doc.kml", XXE)
    assert "refused" in _error(path)


def test_kmz_zip_bomb_is_capped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kml, "MAX_KML_BYTES", 10_000)
    path = tmp_path / "bomb.kmz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("doc.kml", _kml("") + " " * 100_000)
    assert path.stat().st_size < 2_000
    assert "zip bomb" in _error(path)


def test_kmz_whose_header_lies_about_the_size_is_still_capped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kml, "MAX_KML_BYTES", 10_000)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("doc.kml", _kml("") + " " * 100_000)
    data = bytearray(buffer.getvalue())
    # Patch the uncompressed size recorded in the central directory to claim 100 bytes.
    central = data.rfind(b"PK\x01\x02")
    data[central + 24 : central + 28] = (100).to_bytes(4, "little")
    path = tmp_path / "liar.kmz"
    path.write_bytes(bytes(data))
    message = _error(path)
    assert "zip bomb" in message or "not a readable KMZ" in message


def test_kmz_without_kml_and_not_a_zip(tmp_path: Path) -> None:
    empty = tmp_path / "empty.kmz"
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("icon.png", b"png")
    assert "no .kml file" in _error(empty)
    junk = tmp_path / "junk.kmz"
    junk.write_bytes(b"not a zip")
    assert "not a readable KMZ" in _error(junk)


def test_kml_not_xml_or_not_kml(tmp_path: Path) -> None:
    broken = tmp_path / "broken.kml"
    broken.write_text("<kml><Document>")
    assert "not well-formed XML" in _error(broken)
    other = tmp_path / "other.kml"
    other.write_text("<gpx/>")
    assert "not KML" in _error(other)


def test_kml_bad_placemark_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.kml"
    path.write_text(
        _kml(
            "<Placemark><name>Good</name><Point><coordinates>125,39</coordinates></Point>"
            "</Placemark><Placemark><name>Broken</name><Point><coordinates>125;39"
            "</coordinates></Point></Placemark>"
        )
    )
    assert "[placemark 2 'Broken']: coordinates: '125;39' is not 'lon,lat[,alt]'" in _error(path)


def test_kml_swapped_coordinates_are_named(tmp_path: Path) -> None:
    path = tmp_path / "swapped.kml"
    path.write_text(
        _kml(
            "<Placemark><name>Sino-ri</name><Point><coordinates>39.64,125.35</coordinates>"
            "</Point></Placemark>"
        )
    )
    assert "[placemark 1 'Sino-ri']: geometry: latitude/longitude look swapped" in _error(path)


def test_geojson_self_intersecting_polygon_names_the_feature(tmp_path: Path) -> None:
    path = tmp_path / "bowtie.geojson"
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[125, 39], [126, 40], [126, 39], [125, 40], [125, 39]]],
    }
    path.write_text(_geojson(bowtie))
    message = _error(path)
    assert "[feature 2 'Bad one']: geometry: invalid Polygon: Self-intersection" in message


def test_geojson_swapped_lat_lon_names_the_feature(tmp_path: Path) -> None:
    path = tmp_path / "swapped.geojson"
    path.write_text(_geojson({"type": "Point", "coordinates": [39.64, 125.35]}))
    assert "[feature 2 'Bad one']: geometry: latitude/longitude look swapped" in _error(path)


def test_geojson_broken_json_and_bad_geometry(tmp_path: Path) -> None:
    path = tmp_path / "broken.geojson"
    path.write_text('{"type": "FeatureCollection", "features": [')
    assert "not valid JSON" in _error(path)
    path.write_text(_geojson({"type": "Point", "coordinates": "here"}))
    assert "[feature 2 'Bad one']: geometry: not a GeoJSON geometry" in _error(path)


def test_csv_without_coordinate_columns_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "nocoords.csv"
    path.write_text("name,category\nSino-ri,missile operating base\n")
    assert "no coordinate columns" in _error(path)


def test_csv_bad_date_names_row_and_field(tmp_path: Path) -> None:
    path = tmp_path / "dates.csv"
    path.write_text(
        "name,latitude,longitude,source_title,source_date\n"
        "Sino-ri,39.64,125.35,CSIS,2019-01\n"
        "Sakkanmol,38.58,126.10,CSIS,12 Nov 2018\n"
    )
    message = _error(path)
    assert "[row 3 'Sakkanmol']: source date: '12 Nov 2018' is not a date" in message


def test_csv_half_a_coordinate_and_bad_numbers(tmp_path: Path) -> None:
    path = tmp_path / "half.csv"
    path.write_text("name,lat,lon\nA,39.1,\n")
    assert "[row 2 'A']: lat/lon: give both" in _error(path)
    path.write_text("name,lat,lon\nA,39.1,east\n")
    assert "[row 2 'A']: lon: 'east' is not a number" in _error(path)


def test_unknown_extension_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot tell the format"):
        read_sites(tmp_path / "sites.txt")
    assert "file not found" in _error(tmp_path / "absent.geojson")


def test_gpkg_that_is_not_a_geopackage(tmp_path: Path) -> None:
    path = tmp_path / "fake.gpkg"
    path.write_text("hello")
    assert "not a readable GeoPackage" in _error(path)
