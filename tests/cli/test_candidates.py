"""``sitewatch candidates``: list, show, promote, dismiss through the CLI.

Assumes the wiring ``app.add_typer(candidates_app, name="candidates")`` in cli/main.py.
"""

from __future__ import annotations

import json

import pytest

from sitewatch.workspace import open_workspace
from tests.cli.conftest import RunCli
from tests.scan.candidate_rows import add_candidate, add_scan


@pytest.fixture
def triage(cli: RunCli) -> RunCli:
    with open_workspace(cli.root) as workspace, workspace.session() as session:  # type: ignore[attr-defined]
        add_scan(session)
        session.flush()
        add_candidate(session, "c-high", score=9.0)
        add_candidate(session, "c-low", score=2.0, lon=125.15)
        add_candidate(session, "c-known", score=5.0, known=True)
    return cli


def test_list_and_show(triage: RunCli) -> None:
    listed = triage("candidates", "list", "--json")
    assert listed.exit_code == 0, listed.output
    places = json.loads(listed.output)
    assert [row["id"] for row in places] == ["c-high", "c-low"]
    assert places[0]["probability"] > places[1]["probability"]
    # c-known lies on c-high: with it listed, the two are one place named by the stronger.
    known = json.loads(triage("candidates", "list", "--include-known", "--json").output)
    assert [row["id"] for row in known] == ["c-high", "c-low"]
    assert [member["id"] for member in known[0]["members"]] == ["c-high", "c-known"]
    table = triage("candidates", "list", "--include-known")
    assert (
        "old-base" in table.output
        and "c-known" not in table.output
        and "2 place(s) of 3 candidate(s)" in table.output
    )
    assert "  c-known" in triage("candidates", "list", "--include-known", "--members").output
    # A limited list says how many places the whole listing holds.
    first = triage("candidates", "list", "--include-known", "--limit", "1")
    assert "1 of 2 place(s) of 3 candidate(s)" in first.output
    shown = triage("candidates", "show", "c-high")
    assert (
        shown.exit_code == 0 and "score: 9.0" in shown.output and "tile_key: 12_34" in shown.output
    )
    # The outline in one line (a traced object's WKT runs to pages); --json keeps it whole.
    assert "geometry: Polygon, " in shown.output and "POLYGON" not in shown.output
    # These rows were written without a real scan grid: the chips cannot be drawn, and show says
    # why instead of failing (the engine-made case is in tests/scan/test_runner.py).
    assert "chips: not drawn: " in shown.output and "no bands or resolution" in shown.output
    drawn = json.loads(triage("candidates", "chips", "--limit", "1", "--json").output)
    assert [(row["id"], row["problem"]) for row in drawn] == [
        ("c-high", "chips: scan scan-1 records no bands or resolution")
    ]
    data = json.loads(triage("candidates", "show", "c-high", "--json").output)
    assert data["chips"] == {} and "no bands or resolution" in data["chips_problem"]
    assert data["geometry"].startswith("POLYGON")


def test_the_table_shows_engine_made_ids_whole_in_80_columns(cli: RunCli) -> None:
    """An id the analyst cannot copy from the list is no use to 'show' or 'promote'."""
    long_id = "scan-d43f9af84d8f:36N_143_733:117"  # as the scan engine names them
    with open_workspace(cli.root) as workspace, workspace.session() as session:  # type: ignore[attr-defined]
        add_scan(session, "scan-d43f9af84d8f")
        session.flush()
        add_candidate(session, long_id, score=8.0, scan_id="scan-d43f9af84d8f", known=True)
    on_80_column_terminal = {"TTY_COMPATIBLE": "1", "COLUMNS": "80"}  # as rich reads them
    table = cli("candidates", "list", "--include-known", env=on_80_column_terminal)
    assert table.exit_code == 0, table.output
    assert long_id in table.output and "old-base (300" in table.output  # may wrap at a space
    assert max(len(line) for line in table.output.splitlines()) <= 80


def test_promote_then_dismiss_is_a_conflict(triage: RunCli) -> None:
    promoted = triage("candidates", "promote", "c-high", "--id", "new-base", "--json")
    assert promoted.exit_code == 0, promoted.output
    site = json.loads(promoted.output)
    assert site["id"] == "new-base" and site["uncertainty_m"] == 100.0
    assert "new-base" in triage("sites", "list").output
    again = triage("candidates", "dismiss", "c-high", "--reason", "cloud")
    assert again.exit_code == 4
    assert again.output.strip().splitlines() == [
        "error: candidate 'c-high' is already promoted as site 'new-base'; "
        "edit or remove that site instead"
    ]


def test_dismiss_needs_a_reason_and_names_unknown_candidates(triage: RunCli) -> None:
    missing = triage("candidates", "dismiss", "c-low")
    assert missing.exit_code != 0 and "--reason" in missing.output
    dismissed = triage("candidates", "dismiss", "c-low", "--reason", "crop rotation")
    assert dismissed.exit_code == 0 and "dismissed c-low: crop rotation" in dismissed.output
    status = json.loads(triage("candidates", "list", "--status", "dismissed", "--json").output)
    assert [(row["id"], row["members"][0]["status_reason"]) for row in status] == [
        ("c-low", "crop rotation")
    ]
    unknown = triage("candidates", "show", "nope")
    assert unknown.exit_code == 3 and "no candidate with id 'nope'" in unknown.output


def test_dismiss_takes_the_place_as_list_groups_it(triage: RunCli) -> None:
    # Listed without known candidates, c-high is a place alone: only it is dismissed.
    alone = triage("candidates", "dismiss", "c-high", "--reason", "a cloud", "--json")
    assert alone.exit_code == 0, alone.output
    assert json.loads(alone.output)["dismissed"] == ["c-high"]
    kept = json.loads(triage("candidates", "list", "--include-known", "--json").output)
    assert "c-known" in {member["id"] for row in kept for member in row["members"]}


def test_dismiss_with_known_takes_every_part_of_the_place(triage: RunCli) -> None:
    # Listed with known candidates, c-known lies on c-high: one place, dismissed whole.
    done = triage("candidates", "dismiss", "c-high", "--reason", "a cloud", "--include-known")
    assert done.exit_code == 0, done.output
    assert "dismissed c-high: a cloud" in done.output
    assert "and the 1 other part(s) of its place: c-known" in done.output
    left = json.loads(triage("candidates", "list", "--include-known", "--json").output)
    assert [row["id"] for row in left] == ["c-low"]
