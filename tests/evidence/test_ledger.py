"""Appending to and verifying the ledger in one workspace."""

from __future__ import annotations

import stat

import pytest

from sitewatch.db.models import LedgerEntry, Site
from sitewatch.errors import ConflictError, InputError, NotFoundError
from sitewatch.evidence import keys, ledger
from sitewatch.evidence.chain import GENESIS_HASH
from sitewatch.workspace import Workspace


def test_record_chains_signs_and_verifies(workspace: Workspace) -> None:
    product = workspace.products / "map.tif"
    product.write_bytes(b"change map bytes")
    with workspace.session() as session:
        first = ledger.record(session, kind="site.add", payload={"id": "s1"}, site_id="s1")
        second = ledger.record(
            session, kind="detection.run", payload={"b": 2, "a": 1}, files=[product], site_id="s1"
        )
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.entry_hash
    assert second.payload == '{"a":1,"b":2}'
    assert second.files == [
        {"path": "products/map.tif", "sha256": second.files[0]["sha256"], "size": 16}
    ]
    assert first.author == "workspace"
    key_file = workspace.root / "keys" / "workspace.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    report = ledger.verify_ledger(workspace)
    assert report.ok, report.problems
    assert (report.entries, report.files_checked) == (2, 1)
    assert report.head_hash == second.entry_hash


def test_entry_is_rolled_back_with_the_change(workspace: Workspace) -> None:
    with pytest.raises(RuntimeError), workspace.session() as session:
        ledger.record(session, kind="site.add", payload={"id": "s1"})
        raise RuntimeError("the change failed")
    with workspace.session() as session:
        assert session.query(LedgerEntry).count() == 0
        ledger.record(session, kind="site.add", payload={"id": "s1"})
    assert ledger.verify_ledger(workspace).ok


def test_named_analyst_signs_and_unknown_analyst_is_refused(workspace: Workspace) -> None:
    analyst = keys.create_key(workspace, "alice")
    assert len(analyst.fingerprint) == 64
    with pytest.raises(ConflictError):
        keys.create_key(workspace, "alice")
    with workspace.session() as session:
        entry = ledger.record(session, kind="assessment", payload={}, author="alice")
        assert entry.author == "alice"
        assert keys.get_analyst(session, "alice").fingerprint == analyst.fingerprint
        with pytest.raises(NotFoundError, match="bob"):
            ledger.record(session, kind="assessment", payload={}, author="bob")
    assert ledger.verify_ledger(workspace).ok


def test_analyst_from_environment(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    keys.create_key(workspace, "carol")
    monkeypatch.setenv(keys.ENV_ANALYST, "carol")
    with workspace.session() as session:
        assert ledger.record(session, kind="scan", payload={}).author == "carol"


def test_analyst_without_private_key_is_named(workspace: Workspace) -> None:
    keys.create_key(workspace, "dave")
    (workspace.root / "keys" / "dave.pem").unlink()
    with pytest.raises(NotFoundError, match="'dave'"), workspace.session() as session:
        ledger.record(session, kind="scan", payload={}, author="dave")


def test_record_in_the_same_transaction_as_a_site(workspace: Workspace) -> None:
    with workspace.session() as session:
        session.add(Site(id="s9", name="Nine", category="missile_base"))
        session.flush()
        ledger.record(session, kind="site.add", payload={"id": "s9"}, site_id="s9")
    with workspace.session() as session:
        assert [e.site_id for e in ledger.list_entries(session, site_id="s9")] == ["s9"]


def test_bad_names_are_refused(workspace: Workspace) -> None:
    for name in ("../evil", "", "a b", "x" * 101):
        with pytest.raises(InputError, match="analyst names"):
            keys.create_key(workspace, name)
