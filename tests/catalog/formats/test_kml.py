"""KML written is KML 2.2 as Google Earth expects; KML from Google Earth and GIS tools reads."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pyogrio
import pyogrio.raw
import pytest
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon

from sitewatch.catalog.formats import read_sites, write_sites
from sitewatch.catalog.formats.kml import KML_NS
from sitewatch.catalog.records import SiteRecord

NS = {"k": KML_NS}
COORDINATES = re.compile(r"^-?\d+(\.\d+)?(e-?\d+)?,-?\d+(\.\d+)?(e-?\d+)?(,-?[\d.]+)?$")
# Element order inside a Placemark required by the KML 2.2 schema (the ones we write).
PLACEMARK_ORDER = ["name", "description", "ExtendedData", "Point", "Polygon", "MultiGeometry"]


def test_written_kml_is_kml_22(records: list[SiteRecord], tmp_path: Path) -> None:
    path = tmp_path / "sites.kml"
    write_sites(records, path)
    root = ET.parse(path).getroot()
    assert root.tag == f"{{{KML_NS}}}kml"
    (document,) = root.findall("k:Document", NS)
    placemarks = document.findall("k:Placemark", NS)
    assert [p.findtext("k:name", namespaces=NS) for p in placemarks] == [r.name for r in records]
    for placemark in placemarks:
        tags = [child.tag.split("}")[1] for child in placemark]
        assert tags == sorted(tags, key=PLACEMARK_ORDER.index), tags
        for data in placemark.iterfind("k:ExtendedData/k:Data", NS):
            assert data.get("name") and data.find("k:value", NS) is not None
    for element in root.iter(f"{{{KML_NS}}}coordinates"):
        tuples = (element.text or "").split()
        assert tuples and all(COORDINATES.match(t) for t in tuples), element.text
    holed = placemarks[1]
    assert len(holed.findall("k:Polygon/k:outerBoundaryIs/k:LinearRing/k:coordinates", NS)) == 1
    assert len(holed.findall("k:Polygon/k:innerBoundaryIs/k:LinearRing/k:coordinates", NS)) == 1
    assert len(placemarks[2].findall("k:MultiGeometry/k:Polygon", NS)) == 2
    unlocated = placemarks[3]
    assert not {"Point", "Polygon", "MultiGeometry"} & {c.tag.split("}")[1] for c in unlocated}


def test_kmz_is_a_zip_with_doc_kml(records: list[SiteRecord], tmp_path: Path) -> None:
    path = tmp_path / "sites.kmz"
    write_sites(records, path)
    with zipfile.ZipFile(path) as archive:
        assert archive.namelist() == ["doc.kml"]
        assert ET.fromstring(archive.read("doc.kml")).tag == f"{{{KML_NS}}}kml"


def test_description_is_escaped_html_with_source_links(
    records: list[SiteRecord], tmp_path: Path
) -> None:
    path = tmp_path / "sites.kml"
    write_sites(records, path)
    first = ET.parse(path).getroot().find("k:Document/k:Placemark", NS)
    description = first.findtext("k:description", namespaces=NS)  # type: ignore[union-attr]
    assert '<a href="https://example.org/a?b=1&amp;c=2">CSIS Beyond Parallel (2019-01)</a>' in (
        description or ""
    )
    assert "&lt;tags&gt;" in (description or "")


GOOGLE_EARTH_KML = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2" xmlns:gx="http://www.google.com/kml/ext/2.2">
<Document><name>My Places</name><Folder><name>bases</name>
 <Placemark><name>Drawn base</name><description>seen 2023</description>
  <MultiGeometry>
   <Point><coordinates>125.15,39.15,0</coordinates></Point>
   <Polygon><outerBoundaryIs><LinearRing><coordinates>
     125.1,39.1,0 125.2,39.1,0 125.2,39.2,0 125.1,39.2,0 125.1,39.1,0
   </coordinates></LinearRing></outerBoundaryIs>
   <innerBoundaryIs><LinearRing><coordinates>
     125.12,39.12,0 125.14,39.12,0 125.14,39.14,0 125.12,39.12,0
   </coordinates></LinearRing></innerBoundaryIs></Polygon>
   <Polygon><outerBoundaryIs><LinearRing><coordinates>
     126,40 126.1,40 126.1,40.1 126,40
   </coordinates></LinearRing></outerBoundaryIs></Polygon>
  </MultiGeometry></Placemark>
 <Placemark><name>Pin</name><Point><coordinates>125.3, 39.6</coordinates></Point></Placemark>
 <Placemark><name>From QGIS</name>
  <ExtendedData><SchemaData schemaUrl="#s"><SimpleData name="category">launch site</SimpleData>
  <SimpleData name="country">prk</SimpleData></SchemaData></ExtendedData>
  <Point><coordinates>124.705,39.66</coordinates></Point></Placemark>
 <Placemark><name>Unknown place</name></Placemark>
</Folder></Document></kml>
"""


def test_google_earth_and_gis_kml_reads(tmp_path: Path) -> None:
    path = tmp_path / "myplaces.kml"
    path.write_text(GOOGLE_EARTH_KML)
    drawn, pin, qgis, unknown = read_sites(path)
    assert isinstance(drawn.geometry, MultiPolygon) and len(drawn.geometry.geoms) == 2
    first: Polygon = drawn.geometry.geoms[0]
    assert len(first.interiors) == 1 and not first.has_z
    assert drawn.notes == "seen 2023" and drawn.id == "drawn-base"
    assert pin.geometry == Point(125.3, 39.6)
    assert (qgis.category, qgis.country) == ("launch-site", "PRK")
    assert unknown.geometry is None


def test_kml_21_namespace_and_no_namespace_read(tmp_path: Path) -> None:
    for namespace in ('xmlns="http://earth.google.com/kml/2.1"', ""):
        path = tmp_path / "old.kml"
        path.write_text(
            f"<kml {namespace}><Placemark><name>Old</name>"
            "<Point><coordinates>125,39</coordinates></Point></Placemark></kml>"
        )
        (site,) = read_sites(path)
        assert site.geometry == Point(125, 39)


def test_libkml_reads_our_kml(records: list[SiteRecord], tmp_path: Path) -> None:
    """Google's own KML library (libkml, through GDAL) parses what we write."""
    if "LIBKML" not in pyogrio.list_drivers():
        pytest.skip("GDAL was built without the LIBKML driver")
    path = tmp_path / "sites.kml"
    write_sites(records, path)
    meta, _, geometries, values = pyogrio.raw.read(path)
    assert pyogrio.read_info(path)["driver"] == "LIBKML"
    names = list(meta["fields"])
    assert list(values[names.index("Name")]) == [r.name for r in records]
    shapes = [None if g is None else shapely.from_wkb(g) for g in geometries]
    for got, record in zip(shapes, records, strict=True):
        if record.geometry is None:
            assert got is None
        else:
            assert shapely.equals_exact(got, record.geometry, tolerance=1e-7)


def test_kml_keeps_its_default_namespace_after_another_library_took_it(
    records: list[SiteRecord],
) -> None:
    """WeasyPrint (report PDFs) registers the empty prefix for itself on import; KML
    written in the same process must still be plain ``<kml>``, not ``<ns0:kml>``."""
    ET.register_namespace("", "")  # what weasyprint.pdf.metadata does
    from sitewatch.catalog.formats.kml import document_bytes

    written = document_bytes(records)
    assert b"ns0:" not in written and written.count(b"<Placemark>") == len(records)
