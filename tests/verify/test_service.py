"""Declarations, assessments and verification in a real workspace, ledger included."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from sitewatch.db.models import Assessment, Declaration, LedgerEntry, Verification
from sitewatch.errors import ConflictError, InputError, NotFoundError
from sitewatch.evidence.keys import create_key
from sitewatch.evidence.ledger import verify_ledger
from sitewatch.verify.assessments import add_assessment, list_assessments
from sitewatch.verify.service import verify_declaration
from sitewatch.verify.store import get_declaration, import_declaration, list_declarations
from sitewatch.workspace import Workspace
from tests.verify.rows import KAL_GOL, SINO_RI, add_run, add_scene, add_sites, declaration_file

BASE = {"category": "missile-operating-base"}


@pytest.fixture
def catalog(workspace: Workspace) -> Workspace:
    with workspace.session() as session:
        add_sites(session)
    return workspace


def _count(workspace: Workspace, model: type) -> int:
    with workspace.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_import_stores_copies_and_records_then_refuses_the_same_file(
    catalog: Workspace, tmp_path: Path
) -> None:
    path = declaration_file(tmp_path, [{**BASE, "name": "Sino-ri", "status": "operational"}])
    declaration = import_declaration(catalog, path)
    assert declaration.id == "dprk-2023-01-01-1"
    copy = catalog.products / "declarations" / "dprk-2023-01-01-1.json"
    assert copy.read_bytes() == path.read_bytes()
    with catalog.session() as session:
        [entry] = session.scalars(
            select(LedgerEntry).where(LedgerEntry.kind == "declaration.import")
        )
        assert entry.subject_id == declaration.id
        assert entry.files[0]["path"] == "products/declarations/dprk-2023-01-01-1.json"
        assert [d.id for d in list_declarations(session)] == [declaration.id]
        assert get_declaration(session, declaration.id).items[0].name == "Sino-ri"
    assert verify_ledger(catalog).problems == []
    with pytest.raises(ConflictError, match="already imported as declaration 'dprk-2023-01-01-1'"):
        import_declaration(catalog, path)
    second = declaration_file(tmp_path, [{**BASE, "name": "Kal-gol", "status": "closed"}])
    assert import_declaration(catalog, second).id == "dprk-2023-01-01-2"
    assert sorted(p.name for p in copy.parent.iterdir()) == [
        "dprk-2023-01-01-1.json",
        "dprk-2023-01-01-2.json",
    ]


def test_bad_declaration_writes_nothing(catalog: Workspace, tmp_path: Path) -> None:
    path = declaration_file(tmp_path, [{**BASE, "name": "Sino-ri", "status": "gone"}])
    with pytest.raises(InputError, match=r"\[items\[0\]\.status\]"):
        import_declaration(catalog, path)
    assert _count(catalog, Declaration) == 0
    with catalog.session() as session:
        kinds = set(session.scalars(select(LedgerEntry.kind)))
    assert "declaration.import" not in kinds
    assert not (catalog.products / "declarations").exists()


def test_assessment_needs_a_registered_analyst_and_real_evidence(catalog: Workspace) -> None:
    with catalog.session() as session:
        add_scene(session, "s-far", date(2023, 2, 1), (0.0, 0.0))
        add_scene(session, "s-near", date(2023, 2, 1), SINO_RI)
    common = {"site_id": "sino-ri", "observed_on": date(2023, 2, 1), "confidence": "high"}
    with pytest.raises(NotFoundError, match="keys create --name bob"), catalog.session() as s:
        add_assessment(s, **common, status="active", analyst="bob")
    with pytest.raises(InputError, match=r"--analyst"), catalog.session() as s:
        add_assessment(s, **common, status="active")
    create_key(catalog, "alice")
    with pytest.raises(InputError, match=r"--status"), catalog.session() as s:
        add_assessment(s, **common, status="busy", analyst="alice")
    with pytest.raises(InputError, match=r"does not cover"), catalog.session() as s:
        add_assessment(s, **common, status="active", analyst="alice", evidence=["s-far"])
    with pytest.raises(InputError, match=r"neither a detection run"), catalog.session() as s:
        add_assessment(s, **common, status="active", analyst="alice", evidence=["nope"])
    assert _count(catalog, Assessment) == 0
    with catalog.session() as s:
        later = add_assessment(s, **common, status="active", analyst="alice", evidence=["s-near"])
        earlier = add_assessment(
            s, **{**common, "observed_on": date(2022, 5, 1)}, status="inactive", analyst="alice"
        )
    with catalog.session() as s:
        assert [a.id for a in list_assessments(s, "sino-ri")] == [earlier.id, later.id]
        entry = s.scalar(select(LedgerEntry).where(LedgerEntry.subject_id == later.id))
        assert entry is not None and entry.author == "alice" and entry.site_id == "sino-ri"


def test_acceptance_undeclared_and_contradicted_with_evidence(
    catalog: Workspace, tmp_path: Path
) -> None:
    """Kal-gol is active but omitted; Sino-ri is declared dismantled but a later run shows
    construction; Yongnim is declared operational and seen."""
    with catalog.session() as session:
        for scene_id, day, place in (
            ("s-sino-1", date(2022, 8, 1), SINO_RI),
            ("s-sino-2", date(2023, 3, 1), SINO_RI),
            ("s-kal-1", date(2022, 4, 1), KAL_GOL),
            ("s-kal-2", date(2022, 10, 1), KAL_GOL),
        ):
            add_scene(session, scene_id, day, place)
        add_run(session, "run-sino", "sino-ri", "s-sino-1", "s-sino-2", 12_000)
        add_run(session, "run-kal", "kal-gol", "s-kal-1", "s-kal-2", 8_000)
        add_scene(session, "s-yong", date(2023, 2, 1), (127.2, 40.6))
    path = declaration_file(
        tmp_path,
        [
            {**BASE, "name": "신오리", "status": "dismantled", "status_date": "2022-07-01"},
            {**BASE, "name": "Yongrim", "status": "operational"},
        ],
    )
    declaration = import_declaration(catalog, path)
    with catalog.session() as session:
        result = verify_declaration(session, declaration.id)
    rows = {(v.verdict, v.site_id, v.item_index): v for v in result.verdicts}
    assert set(rows) == {
        ("contradicted", "sino-ri", 0),
        ("consistent", "yongnim", 1),
        ("undeclared", "kal-gol", None),
    }  # "elsewhere" is outside the declaration's country
    assert rows["contradicted", "sino-ri", 0].evidence == ("run-sino",)
    assert rows["undeclared", "kal-gol", None].evidence == ("run-kal",)
    assert result.has_findings and result.summary == {
        "contradicted": 1,
        "consistent": 1,
        "undeclared": 1,
    }
    with catalog.session() as session:
        stored = session.get_one(Verification, result.verification_id)
        assert stored.verdicts[0]["verdict"] == "contradicted"
        entry = session.scalar(
            select(LedgerEntry).where(LedgerEntry.subject_id == result.verification_id)
        )
        assert entry is not None and entry.kind == "verification"


def test_an_assessment_citing_a_run_judges_it(catalog: Workspace, tmp_path: Path) -> None:
    """Change after a declared dismantlement that an analyst judged as removal (rubble
    cleared) is not renewed activity; two dates of removal verify the dismantlement."""
    create_key(catalog, "alice")
    with catalog.session() as session:
        add_scene(session, "s-1", date(2022, 8, 1), SINO_RI)
        add_scene(session, "s-2", date(2022, 12, 1), SINO_RI)
        add_run(session, "run-clearing", "sino-ri", "s-1", "s-2", 9_000)
        for day, evidence in ((date(2022, 8, 1), ["s-1"]), (date(2022, 12, 1), ["run-clearing"])):
            add_assessment(
                session,
                site_id="sino-ri",
                observed_on=day,
                status="dismantled",
                confidence="medium",
                analyst="alice",
                evidence=evidence,
            )
    path = declaration_file(
        tmp_path,
        [{**BASE, "name": "Sinori", "status": "dismantled", "status_date": "2022-07-01"}],
        date="2022-07-15",
    )
    declaration = import_declaration(catalog, path)
    with catalog.session() as session:
        result = verify_declaration(session, declaration.id)
    [item] = [v for v in result.verdicts if v.item_index == 0]
    assert item.verdict == "dismantlement-verified" and len(item.evidence) == 2
    assert not result.has_findings
