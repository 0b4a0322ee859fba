"""CSV header variants and GeoPackage files as QGIS and GDAL see them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyogrio
import pyogrio.raw
import pytest
import shapely
from shapely.geometry import Point

from sitewatch.catalog.formats import read_sites, write_sites
from sitewatch.catalog.records import SiteRecord, SourceRecord


@pytest.mark.parametrize(
    ("header", "row"),
    [
        ("Name,Latitude,Longitude", "Sino-ri,39.644929,125.355288"),
        ("name,lat,lng", "Sino-ri,39.644929,125.355288"),
        ("name,y,x", "Sino-ri,39.644929,125.355288"),
        ("name,WKT", "Sino-ri,POINT (125.355288 39.644929)"),
    ],
)
def test_csv_coordinate_header_variants(header: str, row: str, tmp_path: Path) -> None:
    path = tmp_path / "sites.csv"
    path.write_bytes(("\ufeff" + header + "\r\n" + row + "\r\n").encode())  # Excel: BOM, CRLF
    (site,) = read_sites(path)
    assert site.geometry == Point(125.355288, 39.644929)
    assert site.id == "sino-ri"


def test_csv_simple_source_columns_and_lists(tmp_path: Path) -> None:
    path = tmp_path / "sites.csv"
    path.write_text(
        "name,aliases,category,lat,lon,declared,uncertainty_m,source_title,source_url,source_date\n"
        "Sino-ri,Sinori;신오리,missile operating base,39.64,125.35,no,2000,CSIS,"
        "https://example.org,2019-01-21\n"
        "Yongjo-ri,,missile operating base,,,yes,,Report,,2018\n"
    )
    sino, yongjo = read_sites(path)
    assert sino.aliases == ["Sinori", "신오리"] and sino.uncertainty_m == 2000.0
    assert sino.sources == [SourceRecord("CSIS", "https://example.org", "2019-01-21")]
    assert yongjo.geometry is None and yongjo.declared is True


def test_gpkg_reads_back_with_pyogrio(records: list[SiteRecord], tmp_path: Path) -> None:
    path = tmp_path / "sites.gpkg"
    write_sites(records, path)
    info = pyogrio.read_info(path, layer="sites")
    assert info["crs"] == "EPSG:4326" and info["features"] == len(records)
    assert list(info["fields"]) == [
        "id",
        "name",
        "aliases",
        "category",
        "country",
        "missile_classes",
        "status",
        "declared",
        "uncertainty_m",
        "notes",
        "sources",
    ]
    meta, _, geometries, values = pyogrio.raw.read(path, layer="sites")
    names = list(meta["fields"])
    assert list(values[names.index("id")]) == [r.id for r in records]
    assert values[names.index("declared")].dtype == np.bool_
    assert geometries[3] is None  # the unlocated site
    assert shapely.from_wkb(geometries[1]).equals(records[1].geometry)


def test_gpkg_in_another_crs_is_reprojected(tmp_path: Path) -> None:
    path = tmp_path / "utm.gpkg"
    utm_point = shapely.to_wkb(Point(500000.0, 4400000.0))  # UTM 52N
    pyogrio.raw.write(
        str(path),
        np.array([utm_point], dtype=object),
        [np.array(["Somewhere"], dtype=object)],
        ["name"],
        layer="places",
        driver="GPKG",
        geometry_type="Point",
        crs="EPSG:32652",
    )
    (site,) = read_sites(path)
    assert site.geometry.x == pytest.approx(129.0, abs=1e-6)  # type: ignore[union-attr]
    assert site.geometry.y == pytest.approx(39.75, abs=0.01)  # type: ignore[union-attr]
