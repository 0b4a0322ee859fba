"""Catalog changes, scene ingest and detection runs leave signed entries in their transaction."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from shapely.geometry import Point

from sitewatch.catalog.records import SiteRecord
from sitewatch.catalog.sites import add_site, edit_site, import_sites, remove_site
from sitewatch.demo.synthetic import write_synthetic_pair
from sitewatch.detect.site import detect_site
from sitewatch.errors import ConflictError
from sitewatch.evidence import ledger
from sitewatch.imagery.ingest import add_scenes
from sitewatch.workspace import Workspace


def _kinds(workspace: Workspace, site_id: str | None = None) -> list[str]:
    with workspace.session() as session:
        return [entry.kind for entry in ledger.list_entries(session, site_id=site_id)]


def test_catalog_changes_are_recorded(workspace: Workspace, tmp_path: Path) -> None:
    source = tmp_path / "sites.geojson"
    source.write_text("{}", encoding="utf-8")
    with workspace.session() as session:
        add_site(session, SiteRecord(id="a", name="Alpha", geometry=Point(125.0, 39.0)))
        edit_site(session, "a", notes="seen in 2019")
        import_sites(session, [SiteRecord(id="b", name="Bravo")], source=source)
        remove_site(session, "b")
    assert _kinds(workspace) == ["site.add", "site.edit", "site.import", "site.remove"]
    with workspace.session() as session:
        edit, imported = ledger.list_entries(session)[1:3]
    assert json.loads(edit.payload)["after"]["notes"] == "seen in 2019"
    assert json.loads(edit.payload)["before"]["notes"] == ""
    assert json.loads(imported.payload)["source_sha256"] is not None
    assert ledger.verify_ledger(workspace).ok


def test_a_refused_import_records_nothing(workspace: Workspace) -> None:
    with workspace.session() as session:
        add_site(session, SiteRecord(id="a", name="Alpha"))
    with pytest.raises(ConflictError), workspace.session() as session:
        import_sites(session, [SiteRecord(id="a", name="Alpha again")])
    assert _kinds(workspace) == ["site.add"]


def test_ingest_and_detection_record_their_files(workspace: Workspace, tmp_path: Path) -> None:
    pair = write_synthetic_pair(tmp_path / "synthetic", size=256)
    with workspace.session() as session:
        add_scenes(session, [pair.before.path, pair.after.path])
        add_scenes(session, [pair.before.path])  # already present: no second entry
        import_sites(
            session, [SiteRecord(id=pair.site_id, name=pair.site_name, geometry=pair.site_geometry)]
        )
    run = detect_site(workspace, pair.site_id)
    assert _kinds(workspace) == ["scene.ingest", "scene.ingest", "site.import", "detection.run"]
    with workspace.session() as session:
        scene_entry, _, _, run_entry = ledger.list_entries(session)
    assert scene_entry.files[0]["path"] == pair.before.path.resolve().as_posix()
    assert run_entry.subject_id == run.run_id and run_entry.site_id == pair.site_id
    recorded = {item["path"] for item in run_entry.files}
    assert f"products/runs/{run.run_id}/run.json" in recorded
    assert all((workspace.root / path).is_file() for path in recorded)
    report = ledger.verify_ledger(workspace)
    assert report.ok, report.problems
    assert report.files_checked == 2 + len(recorded)
