"""Each site's latest verdict (what the map shows): the newest verification naming it wins."""

from __future__ import annotations

from pathlib import Path

from sitewatch.verify.service import latest_site_verdicts, verify_declaration
from sitewatch.verify.store import import_declaration
from sitewatch.workspace import Workspace
from tests.verify.rows import add_sites, declaration_file

DISMANTLED = {"category": "missile-operating-base", "name": "Sino-ri", "status": "dismantled"}


def _verify(workspace: Workspace, path: Path) -> None:
    declaration = import_declaration(workspace, path)
    with workspace.session() as session:
        verify_declaration(session, declaration.id)


def test_the_newest_verification_naming_a_site_gives_its_verdict(
    workspace: Workspace, tmp_path: Path
) -> None:
    with workspace.session() as session:
        add_sites(session)
        assert latest_site_verdicts(session, ["sino-ri", "kal-gol"]) == {}
    _verify(workspace, declaration_file(tmp_path, [DISMANTLED], date="2023-01-01"))
    with workspace.session() as session:
        first = latest_site_verdicts(session, ["sino-ri", "kal-gol", "elsewhere"])
    assert first == {"sino-ri": "dismantlement-unverified", "kal-gol": "not-observed"}
    _verify(workspace, declaration_file(tmp_path, [], date="2023-02-01"))
    with workspace.session() as session:
        assert latest_site_verdicts(session, ["sino-ri"]) == {"sino-ri": "not-observed"}
