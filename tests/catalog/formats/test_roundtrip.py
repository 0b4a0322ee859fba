"""Every format gives back what was written: all fields, geometry to 1e-7 degrees."""

from __future__ import annotations

from pathlib import Path

import pytest
import shapely

from sitewatch.catalog.formats import FORMATS, dumps_sites, read_sites, write_sites
from sitewatch.catalog.records import SiteRecord

TOLERANCE_DEG = 1e-7


def assert_same_sites(got: list[SiteRecord], expected: list[SiteRecord]) -> None:
    assert [r.id for r in got] == [r.id for r in expected]
    for a, b in zip(got, expected, strict=True):
        if b.geometry is None:
            assert a.geometry is None, a.id
        else:
            assert a.geometry is not None, a.id
            assert a.geometry.geom_type == b.geometry.geom_type
            assert shapely.equals_exact(a.geometry, b.geometry, tolerance=TOLERANCE_DEG), a.id
        fields = (
            "name",
            "aliases",
            "country",
            "category",
            "missile_classes",
            "status",
            "declared",
            "uncertainty_m",
            "notes",
            "sources",
        )
        for name in fields:
            assert getattr(a, name) == getattr(b, name), (a.id, name)


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_round_trip_keeps_everything(name: str, records: list[SiteRecord], tmp_path: Path) -> None:
    path = tmp_path / f"sites{FORMATS[name].extensions[0]}"
    write_sites(records, path)
    assert_same_sites(read_sites(path), records)
    # the polygon with a hole really is one (not silently filled)
    holed = next(r for r in read_sites(path) if r.id == "holed")
    assert len(holed.geometry.interiors) == 1  # type: ignore[union-attr]


def test_geojson_to_kml_to_geojson_keeps_geometry(
    records: list[SiteRecord], tmp_path: Path
) -> None:
    write_sites(records, tmp_path / "a.geojson")
    write_sites(read_sites(tmp_path / "a.geojson"), tmp_path / "b.kml")
    write_sites(read_sites(tmp_path / "b.kml"), tmp_path / "c.geojson")
    assert_same_sites(read_sites(tmp_path / "c.geojson"), records)


@pytest.mark.parametrize("name", ["geojson", "kml", "csv"])
def test_text_formats_can_be_dumped_for_stdout(name: str, records: list[SiteRecord]) -> None:
    text = dumps_sites(records, name)
    assert "Sino-ri" in text and "125.35528812345679" in text


def test_writer_leaves_no_temporary_file_and_keeps_old_file_on_failure(
    records: list[SiteRecord], tmp_path: Path
) -> None:
    target = tmp_path / "sites.geojson"
    write_sites(records, target)
    before = target.read_bytes()

    with pytest.raises(AttributeError):  # the writer fails half way through
        write_sites([*records, "not a record"], target)  # type: ignore[list-item]
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sites.geojson"]
