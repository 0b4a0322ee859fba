"""``sitewatch claims list|show|check|review``: claims about a site against its imagery."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from sqlalchemy import update

from sitewatch.db.models import Claim, Source
from sitewatch.evidence.keys import create_key
from sitewatch.workspace import open_workspace
from tests.cli.conftest import RunCli
from tests.verify.rows import SINO_RI, add_run, add_scene, add_sites

DATA = Path(__file__).resolve().parents[1] / "sources" / "data"


def _workspace(cli: RunCli) -> Path:
    root = cli.root  # type: ignore[attr-defined]
    with open_workspace(root) as workspace, workspace.session() as session:
        add_sites(session)
        add_scene(session, "s-2018-03", date(2018, 3, 29), SINO_RI)
        add_scene(session, "s-2018-12", date(2018, 12, 27), SINO_RI)
        add_scene(session, "s-2019-06", date(2019, 6, 1), SINO_RI)
        add_run(session, "run-sino", "sino-ri", "s-2018-03", "s-2018-12", 12_000)
    with open_workspace(root) as workspace:
        create_key(workspace, "alice")
    return root


def test_acceptance_claims_about_a_named_site_line_up_with_its_observations(cli: RunCli) -> None:
    _workspace(cli)
    added = cli("sources", "add", str(DATA / "sino-ri_en.txt"), "--date", "2019-01-21")
    assert added.exit_code == 0, added.output
    assessed = cli("assess", "sino-ri", "--date", "2018-12-27", "--status", "active",
                   "--confidence", "medium", "--analyst", "alice")  # fmt: skip
    assert assessed.exit_code == 0, assessed.output
    claims = json.loads(cli("claims", "list", "--site", "sino-ri", "--json").output)
    assert claims and all("sino-ri" in c["site_ids"] for c in claims)
    checked = json.loads(cli("claims", "check", "sino-ri", "--json").output)
    active = [c for c in checked if c["stance"] == "asserts_activity"]
    assert active
    first = active[0]
    assert first["newest_image_before"]["scene_id"] == "s-2018-12"
    assert first["newest_image_before"]["age_days"] >= 0
    relations = {(o["kind"], o["relation"]) for o in first["observations"]}
    assert ("assessment", "supports") in relations and ("run", "supports") in relations
    text = cli("claims", "check", "sino-ri")
    assert text.exit_code == 0 and "newest image before it: 2018-12-27" in text.output
    assert "images of the site: 2 before, 1 after" in text.output


def test_show_review_and_errors(cli: RunCli) -> None:
    _workspace(cli)
    assert cli("sources", "add", str(DATA / "sino-ri_en.txt")).exit_code == 0
    claim = json.loads(cli("claims", "list", "--json").output)[0]
    shown = cli("claims", "show", claim["id"])
    assert shown.exit_code == 0 and "speaker:" in shown.output
    reviewed = cli("claims", "review", claim["id"], "--verdict", "corrected", "--stance",
                   "disputes", "--analyst", "alice", "--note", "checked", "--json")  # fmt: skip
    assert reviewed.exit_code == 0, reviewed.output
    assert json.loads(reviewed.output)["effective"]["stance"] == "disputes"
    assert cli("ledger", "verify").exit_code == 0
    assert (
        cli("claims", "review", claim["id"], "--verdict", "maybe", "--analyst", "alice").exit_code
        == 2
    )
    assert (
        cli("claims", "review", claim["id"], "--verdict", "confirmed", "--analyst", "zed").exit_code
        == 3
    )
    assert cli("claims", "show", "nope").exit_code == 3
    assert cli("claims", "check", "no-such-site").exit_code == 3
    assert cli("claims", "list", "--site", "no-such-site").exit_code == 3


def test_ledger_verify_finds_an_edited_claim_or_source_text(cli: RunCli) -> None:
    root = _workspace(cli)
    assert cli("sources", "add", str(DATA / "sino-ri_en.txt")).exit_code == 0
    assert cli("ledger", "verify").exit_code == 0
    with open_workspace(root) as workspace, workspace.session() as session:
        session.execute(update(Claim).values(stance="denies"))
    result = cli("ledger", "verify")
    assert result.exit_code == 6 and "claims_sha256" in result.output
    with open_workspace(root) as workspace, workspace.session() as session:
        session.execute(update(Claim).values(stance="asserts_activity"))
        session.execute(update(Source).values(text="nothing to see here"))
    result = cli("ledger", "verify")
    assert result.exit_code == 6 and "text_sha256" in result.output
