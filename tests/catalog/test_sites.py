"""Catalog services against a real workspace database."""

from __future__ import annotations

import pytest
from shapely.geometry import Point
from sqlalchemy import func, select

from sitewatch.catalog.records import SiteRecord, SourceRecord
from sitewatch.catalog.sites import (
    add_site,
    edit_site,
    get_site,
    import_sites,
    list_sites,
    remove_site,
    to_record,
)
from sitewatch.db.models import Site, SiteSource
from sitewatch.errors import ConflictError, InputError, NotFoundError
from sitewatch.workspace import Workspace


def _counts(workspace: Workspace) -> tuple[int, int]:
    with workspace.session() as session:
        return (
            session.scalar(select(func.count()).select_from(Site)) or 0,
            session.scalar(select(func.count()).select_from(SiteSource)) or 0,
        )


def test_add_then_read_back_every_field(workspace: Workspace, records: list[SiteRecord]) -> None:
    with workspace.session() as session:
        for record in records:
            add_site(session, record)
    with workspace.session() as session:
        back = [to_record(s) for s in list_sites(session)]
        site = get_site(session, "sino-ri")
        assert (site.min_lon, site.min_lat) == (125.35528812345679, 39.644929)
        assert get_site(session, "yongjo-ri").min_lon is None
    assert sorted(back, key=lambda r: r.id) == sorted(records, key=lambda r: r.id)
    assert [r.id for r in back] == sorted(r.id for r in records)


def test_duplicate_id_is_a_conflict_and_nothing_changes(
    workspace: Workspace, records: list[SiteRecord]
) -> None:
    with workspace.session() as session:
        add_site(session, records[0])
    before = _counts(workspace)
    with pytest.raises(ConflictError, match="'sino-ri' already exists"), workspace.session() as s:
        add_site(s, SiteRecord(name="Sino-ri again", id="sino-ri"))
    assert _counts(workspace) == before


def test_list_filters(workspace: Workspace, records: list[SiteRecord]) -> None:
    with workspace.session() as session:
        import_sites(session, records)
        assert [s.id for s in list_sites(session, category="Missile operating base")] == ["sino-ri"]
        assert [s.id for s in list_sites(session, country="prk")] == ["sino-ri"]
        with pytest.raises(InputError, match=r"^category: unknown value"):
            list_sites(session, category="airbase")


def test_get_unknown_suggests_by_alias(workspace: Workspace, records: list[SiteRecord]) -> None:
    with workspace.session() as session:
        import_sites(session, records)
        with pytest.raises(
            NotFoundError, match=r"no site with id 'Sinori' \(did you mean 'sino-ri'"
        ):
            get_site(session, "Sinori")
        with pytest.raises(NotFoundError, match=r"^no site with id 'nowhere'$"):
            get_site(session, "nowhere")


def test_edit_changes_only_given_fields_and_keeps_bbox_in_step(
    workspace: Workspace, records: list[SiteRecord]
) -> None:
    with workspace.session() as session:
        import_sites(session, records)
    with workspace.session() as session:
        edit_site(session, "sino-ri", geometry=Point(125.4, 39.7), status="inactive")
    with workspace.session() as session:
        site = get_site(session, "sino-ri")
        assert (site.status, site.min_lon, site.max_lat) == ("inactive", 125.4, 39.7)
        assert site.aliases == ["Sinori", "신오리"] and len(site.sources) == 2
        with pytest.raises(InputError, match=r"^status: "):
            edit_site(session, "sino-ri", status="rebuilt")
        with pytest.raises(InputError, match="cannot edit id"):
            edit_site(session, "sino-ri", id="other")


def test_remove_deletes_sources_too(workspace: Workspace, records: list[SiteRecord]) -> None:
    with workspace.session() as session:
        import_sites(session, records)
    with workspace.session() as session:
        assert remove_site(session, "sino-ri").name == "Sino-ri"
    assert _counts(workspace) == (3, 1)
    with pytest.raises(NotFoundError), workspace.session() as session:
        remove_site(session, "sino-ri")


def test_import_conflict_modes(workspace: Workspace, records: list[SiteRecord]) -> None:
    with workspace.session() as session:
        result = import_sites(session, records)
    assert (len(result.added), result.unlocated) == (4, ["yongjo-ri"])
    changed = [SiteRecord(name="Sino-ri renamed", id="sino-ri"), SiteRecord(name="New place")]
    before = _counts(workspace)
    conflict = pytest.raises(ConflictError, match="'sino-ri' already in the catalog; nothing")
    with conflict, workspace.session() as session:
        import_sites(session, changed, source="new.geojson")
    assert _counts(workspace) == before
    with workspace.session() as session:
        skipped = import_sites(session, changed, on_conflict="skip")
    assert (skipped.added, skipped.skipped) == (["new-place"], ["sino-ri"])
    with workspace.session() as session:
        updated = import_sites(session, changed[:1], on_conflict="update")
        assert updated.updated == ["sino-ri"]
    with workspace.session() as session:
        site = get_site(session, "sino-ri")
        assert (site.name, site.sources, site.geometry) == ("Sino-ri renamed", [], None)


def test_import_repeated_id_in_batch_writes_nothing(workspace: Workspace) -> None:
    twice = [SiteRecord(name="A", sources=[SourceRecord("x")]), SiteRecord(name="A")]
    repeated = pytest.raises(ConflictError, match=r"^f\.csv: site id 'a' appears more than once")
    with repeated, workspace.session() as session:
        import_sites(session, twice, source="f.csv")
    assert _counts(workspace) == (0, 0)
    with pytest.raises(InputError, match="on_conflict"), workspace.session() as session:
        import_sites(session, twice[:1], on_conflict="merge")  # type: ignore[arg-type]
