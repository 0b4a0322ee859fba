"""Signing in and out: cookie flags, the sign-in form's CSRF token, lockout."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sitewatch.auth.users import LOCKOUT, MAX_FAILED_LOGINS
from sitewatch.db.models import User, WebSession
from sitewatch.workspace import open_workspace
from tests.web.conftest import PASSWORD, Workbench


def _login(client, name: str, password: str):  # type: ignore[no-untyped-def]
    return client.post("/api/login", json={"name": name, "password": password})


def test_session_cookie_is_httponly_strict_and_only_its_hash_is_stored(bench: Workbench) -> None:
    answer = _login(bench.client(), "vera", PASSWORD)
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    token = re.match(r"sitewatch_session=([^;]+)", cookie).group(1)  # type: ignore[union-attr]
    with open_workspace(bench.root) as workspace, workspace.session() as session:
        stored = [row.token_sha256 for row in session.query(WebSession)]
    assert len(stored) == 1 and token not in stored[0]


def test_wrong_name_and_wrong_password_read_the_same(bench: Workbench) -> None:
    client = bench.client()
    for name, password in (("vera", "not the password"), ("nobody", PASSWORD)):
        answer = _login(client, name, password)
        assert answer.status_code == 401
        assert answer.json() == {"error": "wrong name or password"}
        assert "set-cookie" not in answer.headers


def test_logout_ends_the_session(bench: Workbench) -> None:
    client, csrf = bench.signed_in("vera")
    assert client.post("/api/logout", headers={"x-csrf-token": csrf}).status_code == 200
    client.cookies.clear()
    assert client.get("/api/me").status_code == 401


def test_a_stolen_token_stops_working_at_logout(bench: Workbench) -> None:
    client, csrf = bench.signed_in("vera")
    thief = bench.client()
    thief.cookies.update(client.cookies)
    assert thief.get("/api/me").status_code == 200
    client.post("/api/logout", headers={"x-csrf-token": csrf})
    assert thief.get("/api/me").status_code == 401


def test_expired_session_is_refused(bench: Workbench) -> None:
    client, _ = bench.signed_in("vera")
    with open_workspace(bench.root) as workspace, workspace.session() as session:
        for row in session.query(WebSession):
            row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    assert client.get("/api/me").status_code == 401


def test_lockout_refuses_even_the_right_password_until_it_ends(bench: Workbench) -> None:
    before = bench.ledger_count()
    client = bench.client()
    for _ in range(MAX_FAILED_LOGINS):
        assert _login(client, "alice", "a wrong guess!").status_code == 401
    refused = _login(client, "alice", PASSWORD)
    assert refused.status_code == 401 and "locked" in refused.json()["error"]
    assert "set-cookie" not in refused.headers
    with open_workspace(bench.root) as workspace, workspace.session() as session:
        user = session.get(User, "alice")
        assert user is not None and user.locked_until is not None
        left = user.locked_until - datetime.now(UTC)
        assert LOCKOUT - timedelta(minutes=1) < left <= LOCKOUT
        assert session.query(WebSession).count() == 0
        user.locked_until = datetime.now(UTC) - timedelta(seconds=1)  # the lock has ended
    assert _login(client, "alice", PASSWORD).status_code == 200
    assert bench.ledger_count() == before


def test_a_success_resets_the_failure_count(bench: Workbench) -> None:
    client = bench.client()
    for _ in range(MAX_FAILED_LOGINS - 1):
        _login(client, "vera", "a wrong guess!")
    assert _login(client, "vera", PASSWORD).status_code == 200
    for _ in range(MAX_FAILED_LOGINS - 1):
        _login(client, "vera", "a wrong guess!")
    assert _login(client, "vera", PASSWORD).status_code == 200


def _form_token(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def test_sign_in_form_then_home_page_then_sign_out(bench: Workbench) -> None:
    client = bench.client()
    form = client.get("/login")
    assert form.status_code == 200 and "<form" in form.text
    fields = {"name": "vera", "password": PASSWORD, "csrf_token": _form_token(form.text)}
    signed = client.post("/login", data=fields)
    assert signed.status_code == 303 and signed.headers["location"] == "/"
    home = client.get("/")
    assert home.status_code == 200 and "vera (viewer)" in home.text
    out = client.post("/logout", data={"csrf_token": _form_token(home.text)})
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert client.get("/").status_code == 303


def test_sign_in_form_refuses_a_post_without_its_own_token(bench: Workbench) -> None:
    """Login CSRF: another site's form cannot sign the victim in (no double-submit cookie)."""
    client = bench.client()
    fields = {"name": "vera", "password": PASSWORD, "csrf_token": "forged"}
    answer = client.post("/login", data=fields)
    assert answer.status_code == 403
    assert "sitewatch_session" not in answer.headers.get("set-cookie", "")
    assert client.get("/api/me").status_code == 401


def test_sign_in_form_shows_a_wrong_password_escaped(bench: Workbench) -> None:
    client = bench.client()
    token = _form_token(client.get("/login").text)
    fields = {"name": "<b>vera</b>", "password": PASSWORD, "csrf_token": token}
    answer = client.post("/login", data=fields)
    assert answer.status_code == 401 and "wrong name or password" in answer.text
    assert "<b>vera</b>" not in answer.text
