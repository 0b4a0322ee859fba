"""Every route for every role: no session, viewer, analyst (with and without a key), admin."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from sitewatch.db.models import Assessment, LedgerEntry, User
from sitewatch.evidence.audit import verify_workspace
from sitewatch.workspace import open_workspace
from tests.web.conftest import PASSWORD, Workbench

READS = [
    "/api/me",
    "/api/sites",
    "/api/sites/sino-ri",
    "/api/scenes",
    "/api/scenes?site=sino-ri",
    "/api/declarations",
    "/api/declarations/dprk-2023-01-01-1",
    "/api/declarations/dprk-2023-01-01-1/verdicts",
    "/api/ledger",
    "/api/ledger?site=sino-ri",
    "/api/openapi.json",
]
PAGES = ["/", "/api/docs"]
ASSESSMENT = {"date": "2023-05-01", "status": "active", "confidence": "high", "note": "seen"}


def _assessments(bench: Workbench) -> list[Assessment]:
    with open_workspace(bench.root) as workspace, workspace.session() as session:
        return list(session.scalars(select(Assessment)))


def _assert_ledger_checks_out(bench: Workbench) -> None:
    """What the web wrote passes the auditor's check (chain, signatures, tables)."""
    with open_workspace(bench.root, read_only=True) as workspace:
        report = verify_workspace(workspace)
    assert report.ok, report.problems


@pytest.mark.parametrize("path", READS)
def test_no_session_is_401_for_every_api_read(bench: Workbench, path: str) -> None:
    answer = bench.client().get(path)
    assert answer.status_code == 401
    assert answer.json() == {"error": "sign in first (POST /api/login)"}


@pytest.mark.parametrize("path", PAGES)
def test_no_session_redirects_pages_to_the_sign_in_form(bench: Workbench, path: str) -> None:
    answer = bench.client().get(path)
    assert answer.status_code == 303 and answer.headers["location"] == "/login"


def test_no_session_cannot_write(bench: Workbench) -> None:
    before = bench.ledger_count()
    client = bench.client()
    assert client.post("/api/sites/sino-ri/assessments", json=ASSESSMENT).status_code == 401
    new_user = {"name": "mallory", "role": "admin", "password": PASSWORD}
    assert client.post("/api/users", json=new_user).status_code == 401
    assert client.delete("/api/users/ada").status_code == 401
    assert client.post("/api/logout").status_code == 401
    assert bench.ledger_count() == before


def test_only_health_login_and_static_answer_without_a_session(bench: Workbench) -> None:
    client = bench.client()
    assert client.get("/api/health").json() == {"status": "ok"}
    assert client.get("/login").status_code == 200
    static = client.get("/static/sitewatch.css")
    assert static.status_code == 200 and "text/css" in static.headers["content-type"]


@pytest.mark.parametrize("name", ["vera", "alice", "bob", "ada"])
def test_every_role_reads_everything(bench: Workbench, name: str) -> None:
    client, _ = bench.signed_in(name)
    for path in READS + PAGES:
        assert client.get(path).status_code == 200, path
    site = client.get("/api/sites/sino-ri").json()
    assert site["site"]["aliases"] == ["Sinori", "신오리"]
    assert site["site"]["uncertainty_m"] == 2000.0
    assert [scene["id"] for scene in site["scenes"]] == ["scene-2023-03-01"]
    assert all(len(entry["entry_hash"]) == 64 for entry in site["ledger"])
    verdicts = client.get("/api/declarations/dprk-2023-01-01-1/verdicts").json()
    assert verdicts["verifications"][0]["summary"] == {"consistent": 1, "not-observed": 2}


def test_viewer_is_refused_every_write(bench: Workbench) -> None:
    before = bench.ledger_count()
    client, csrf = bench.signed_in("vera")
    header = {"x-csrf-token": csrf}
    answer = client.post("/api/sites/sino-ri/assessments", json=ASSESSMENT, headers=header)
    assert answer.status_code == 403
    assert "needs the role analyst" in answer.json()["error"]
    new_user = {"name": "mallory", "role": "admin", "password": PASSWORD}
    assert client.post("/api/users", json=new_user, headers=header).status_code == 403
    assert client.delete("/api/users/ada", headers=header).status_code == 403
    assert client.get("/api/users").status_code == 403
    assert bench.ledger_count() == before and _assessments(bench) == []


def test_analyst_records_an_assessment_signed_with_their_own_key(bench: Workbench) -> None:
    before = bench.ledger_count()
    client, csrf = bench.signed_in("alice")
    answer = client.post(
        "/api/sites/sino-ri/assessments", json=ASSESSMENT, headers={"x-csrf-token": csrf}
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["analyst"] == "alice"
    with open_workspace(bench.root) as workspace, workspace.session() as session:
        newest = session.scalars(select(LedgerEntry).order_by(LedgerEntry.seq.desc())).first()
        assert newest is not None
        assert (newest.kind, newest.author, newest.seq) == ("assessment", "alice", before + 1)
    listed = client.get("/api/sites/sino-ri").json()["assessments"]
    assert [(a["analyst"], a["note"]) for a in listed] == [("alice", "seen")]
    assert client.get("/api/users").status_code == 403  # an analyst manages no users
    _assert_ledger_checks_out(bench)


def test_analyst_without_a_key_on_the_server_is_refused_and_nothing_is_written(
    bench: Workbench,
) -> None:
    before = bench.ledger_count()
    client, csrf = bench.signed_in("bob")
    answer = client.post(
        "/api/sites/sino-ri/assessments", json=ASSESSMENT, headers={"x-csrf-token": csrf}
    )
    assert answer.status_code == 409
    assert "sitewatch keys create --name bob" in answer.json()["error"]
    assert bench.ledger_count() == before and _assessments(bench) == []


def test_the_analyst_signing_is_the_session_user_never_a_name_in_the_request(
    bench: Workbench,
) -> None:
    """bob cannot sign as alice by naming her: the body has no analyst field at all."""
    before = bench.ledger_count()
    client, csrf = bench.signed_in("bob")
    answer = client.post(
        "/api/sites/sino-ri/assessments",
        json={**ASSESSMENT, "analyst": "alice"},
        headers={"x-csrf-token": csrf},
    )
    assert answer.status_code == 400 and "analyst" in answer.json()["error"]
    assert bench.ledger_count() == before and _assessments(bench) == []


def test_admin_manages_users_and_each_change_is_in_the_ledger(bench: Workbench) -> None:
    before = bench.ledger_count()
    client, csrf = bench.signed_in("ada")
    header = {"x-csrf-token": csrf}
    assert [u["name"] for u in client.get("/api/users").json()] == ["ada", "alice", "bob", "vera"]
    assert all("password_hash" not in u for u in client.get("/api/users").json())
    added = client.post(
        "/api/users", json={"name": "carol", "role": "viewer", "password": PASSWORD}, headers=header
    )
    assert added.status_code == 201 and added.json()["role"] == "viewer"
    carol, _ = bench.signed_in("carol")
    assert carol.get("/api/me").json()["role"] == "viewer"
    assert client.delete("/api/users/carol", headers=header).status_code == 200
    assert carol.get("/api/me").status_code == 401  # removing a user ends their sessions
    with open_workspace(bench.root) as workspace, workspace.session() as session:
        entries = list(session.scalars(select(LedgerEntry).where(LedgerEntry.seq > before)))
        assert session.get(User, "carol") is None
    assert [(e.kind, e.subject_id) for e in entries] == [
        ("user.add", "carol"),
        ("user.remove", "carol"),
    ]
    assert all('"by":"ada"' in e.payload and "argon2" not in e.payload for e in entries)
    _assert_ledger_checks_out(bench)


def test_admin_errors_are_statuses_with_the_reason(bench: Workbench) -> None:
    before = bench.ledger_count()
    client, csrf = bench.signed_in("ada")
    header = {"x-csrf-token": csrf}
    for body, status, words in (
        ({"name": "vera", "role": "viewer", "password": PASSWORD}, 409, "already exists"),
        ({"name": "x", "role": "root", "password": PASSWORD}, 400, "unknown role"),
        ({"name": "x", "role": "viewer", "password": "short"}, 400, "password length"),
        ({"name": "workspace", "role": "analyst", "password": PASSWORD}, 400, "own signer"),
        ({"name": "../etc", "role": "viewer", "password": PASSWORD}, 400, "letters, digits"),
    ):
        answer = client.post("/api/users", json=body, headers=header)
        assert answer.status_code == status and words in answer.json()["error"], answer.text
    assert client.delete("/api/users/nobody", headers=header).status_code == 404
    assert bench.ledger_count() == before


def test_admin_changes_a_role_unlocks_and_resets_a_password(bench: Workbench) -> None:
    before = bench.ledger_count()
    admin, csrf = bench.signed_in("ada")
    header = {"x-csrf-token": csrf}
    vera, _ = bench.signed_in("vera")
    promoted = admin.patch("/api/users/vera", json={"role": "analyst"}, headers=header)
    assert promoted.status_code == 200 and promoted.json()["role"] == "analyst"
    assert vera.get("/api/me").json()["role"] == "analyst"  # at her next request
    for _ in range(5):
        bench.client().post("/api/login", json={"name": "bob", "password": "wrong password!"})
    assert (
        bench.client().post("/api/login", json={"name": "bob", "password": PASSWORD}).status_code
        == 401
    )
    assert admin.patch("/api/users/bob", json={"unlock": True}, headers=header).status_code == 200
    bench.signed_in("bob")  # the right password works again at once
    new_password = "a brand new passphrase"
    reset = admin.patch("/api/users/vera", json={"password": new_password}, headers=header)
    assert reset.status_code == 200
    assert vera.get("/api/me").status_code == 401  # a reset ends her sessions
    signed = bench.client().post("/api/login", json={"name": "vera", "password": new_password})
    assert signed.status_code == 200
    with open_workspace(bench.root) as workspace, workspace.session() as session:
        entries = list(session.scalars(select(LedgerEntry).where(LedgerEntry.seq > before)))
    changes = [e for e in entries if e.kind == "user.change"]
    assert [e.subject_id for e in changes] == ["vera", "bob", "vera"]
    assert all('"by":"ada"' in e.payload and "argon2" not in e.payload for e in changes)
    assert new_password not in " ".join(e.payload for e in entries)
    _assert_ledger_checks_out(bench)


def test_only_admins_change_users_and_bad_changes_write_nothing(bench: Workbench) -> None:
    before = bench.ledger_count()
    analyst, csrf = bench.signed_in("alice")
    refused = analyst.patch(
        "/api/users/vera", json={"role": "admin"}, headers={"x-csrf-token": csrf}
    )
    assert refused.status_code == 403
    admin, csrf = bench.signed_in("ada")
    header = {"x-csrf-token": csrf}
    for name, body, status in (
        ("vera", {"role": "root"}, 400),
        ("vera", {}, 400),
        ("vera", {"password": "short"}, 400),
        ("vera", {"role": "admin", "extra": 1}, 400),
        ("nobody", {"role": "viewer"}, 404),
    ):
        answer = admin.patch(f"/api/users/{name}", json=body, headers=header)
        assert answer.status_code == status, (body, answer.text)
    assert admin.patch("/api/users/vera", json={"role": "admin"}).status_code == 403  # no CSRF
    assert bench.ledger_count() == before
