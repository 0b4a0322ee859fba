"""Hostile input through HTTP: forged CSRF, oversized bodies, traversal, markup, SQL.

Each request is refused or rendered harmless, and the ledger holds as many entries after
it as before (nothing was written).
"""

from __future__ import annotations

import json

import pytest

from sitewatch.limits import MAX_REQUEST_BYTES
from tests.web.conftest import HOSTILE_NAME, PASSWORD, Workbench
from tests.web.test_roles import ASSESSMENT, _assessments

WRITE = "/api/sites/sino-ri/assessments"


@pytest.mark.parametrize(
    "headers",
    [{}, {"x-csrf-token": "forged"}, {"x-csrf-token": ""}],
    ids=["missing", "forged", "empty"],
)
def test_a_write_without_the_sessions_csrf_token_is_403(bench: Workbench, headers: dict) -> None:
    before = bench.ledger_count()
    client, _ = bench.signed_in("alice")
    answer = client.post(WRITE, json=ASSESSMENT, headers=headers)
    assert answer.status_code == 403 and "CSRF" in answer.json()["error"]
    admin, _ = bench.signed_in("ada")
    body = {"name": "mallory", "role": "admin", "password": PASSWORD}
    assert admin.post("/api/users", json=body, headers=headers).status_code == 403
    assert admin.delete("/api/users/vera", headers=headers).status_code == 403
    assert bench.ledger_count() == before and _assessments(bench) == []


def test_another_sessions_csrf_token_is_refused(bench: Workbench) -> None:
    before = bench.ledger_count()
    alice, _ = bench.signed_in("alice")
    _, other_token = bench.signed_in("alice")
    answer = alice.post(WRITE, json=ASSESSMENT, headers={"x-csrf-token": other_token})
    assert answer.status_code == 403
    assert bench.ledger_count() == before


def test_a_form_post_to_the_json_api_is_refused(bench: Workbench) -> None:
    """What a cross-site form could send: form-encoded, even with a right token."""
    before = bench.ledger_count()
    client, csrf = bench.signed_in("alice")
    answer = client.post(WRITE, data={**ASSESSMENT, "csrf_token": csrf})
    assert answer.status_code == 400 and "application/json" in answer.json()["error"]
    plain = client.post(
        WRITE,
        content=json.dumps(ASSESSMENT),
        headers={"x-csrf-token": csrf, "content-type": "text/plain"},
    )
    assert plain.status_code == 400
    assert bench.ledger_count() == before


def test_an_oversized_body_is_413(bench: Workbench) -> None:
    before = bench.ledger_count()
    client, csrf = bench.signed_in("alice")
    huge = {**ASSESSMENT, "note": "x" * (MAX_REQUEST_BYTES + 1)}
    answer = client.post(WRITE, json=huge, headers={"x-csrf-token": csrf})
    assert answer.status_code == 413
    assert bench.ledger_count() == before and _assessments(bench) == []


def test_an_oversized_body_without_a_length_is_413_as_it_streams(bench: Workbench) -> None:
    before = bench.ledger_count()
    client, csrf = bench.signed_in("alice")

    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"date": "2023-05-01", "status": "active", "confidence": "high", "note": "'
        for _ in range(MAX_REQUEST_BYTES // 1024 + 1):
            yield b"x" * 1024
        yield b'"}'

    answer = client.post(
        WRITE, content=chunks(), headers={"x-csrf-token": csrf, "content-type": "application/json"}
    )
    assert answer.status_code == 413
    assert bench.ledger_count() == before and _assessments(bench) == []


def test_a_login_body_too_large_is_413_before_any_hashing(bench: Workbench) -> None:
    answer = bench.client().post(
        "/api/login", json={"name": "vera", "password": "p" * (MAX_REQUEST_BYTES + 1)}
    )
    assert answer.status_code == 413


@pytest.mark.parametrize(
    "path",
    [
        "/api/sites/..%2F..%2Fsitewatch.toml",
        "/api/sites/%2e%2e",
        "/api/sites/..%5C..%5Csitewatch.db",
        "/api/declarations/..%2F..%2Fkeys%2Falice.pem",
        "/api/declarations/..%2Fdprk-2023-01-01-1/verdicts",
        "/api/sites/sino-ri%00",
    ],
)
def test_traversal_in_path_parameters_is_not_found(bench: Workbench, path: str) -> None:
    client, _ = bench.signed_in("vera")
    answer = client.get(path)
    assert answer.status_code in (400, 404), (path, answer.status_code)
    assert "BEGIN PRIVATE KEY" not in answer.text and "[workspace]" not in answer.text


@pytest.mark.parametrize(
    "path",
    [
        "/static/../../sitewatch.toml",
        "/static/..%2F..%2Fsitewatch.toml",
        "/static/%2e%2e/%2e%2e/keys/alice.pem",
        "/static/..%2F__init__.py",
        "/static/..%2Fapp.py",
        "/static//etc/passwd",
        "/static/%2Fetc%2Fpasswd",
    ],
)
def test_traversal_in_the_static_route_is_not_found(bench: Workbench, path: str) -> None:
    answer = bench.client().get(path)
    assert answer.status_code in (400, 404), (path, answer.status_code)
    assert "root:" not in answer.text and "import" not in answer.text
    assert "PRIVATE KEY" not in answer.text


def test_a_site_named_with_a_script_comes_back_escaped(bench: Workbench) -> None:
    client, _ = bench.signed_in("vera")
    answer = client.get("/api/sites/hostile")
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert b"<script>" not in answer.content and b"\\u003cscript\\u003e" in answer.content
    assert answer.json()["site"]["name"] == HOSTILE_NAME  # the same data for a JSON parser
    assert b"<script>" not in client.get("/api/sites").content
    assert b"<script>" not in client.get("/api/ledger?site=hostile").content
    page = client.get("/")
    assert "<script>" not in page.text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Co" in page.text


def test_an_unknown_id_with_markup_is_echoed_escaped(bench: Workbench) -> None:
    client, _ = bench.signed_in("vera")
    answer = client.get("/api/sites/%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E")
    assert answer.status_code == 404
    assert b"<img" not in answer.content and "<img" in answer.json()["error"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/sites/sino-ri'%20OR%20'1'='1",
        "/api/sites/x%22;%20DROP%20TABLE%20sites;--",
        "/api/sites?country=PRK'%20OR%201=1--",
        "/api/sites?category=x';DELETE%20FROM%20ledger_entries;--",
        "/api/scenes?site=sino-ri'--",
        "/api/ledger?site=%25",
        "/api/ledger?site=x'%20UNION%20SELECT%20*%20FROM%20users--",
        "/api/declarations/x';DROP%20TABLE%20declarations;--/verdicts",
        "/api/sites?limit=1;DROP%20TABLE%20sites",
        "/api/sites?limit=99999999999999999999999999",
        "/api/sites?offset=-1",
        "/api/ledger?limit=0",
    ],
)
def test_sql_metacharacters_are_harmless(bench: Workbench, path: str) -> None:
    before = bench.ledger_count()
    client, _ = bench.signed_in("vera")
    answer = client.get(path)
    assert answer.status_code in (200, 400, 404), (path, answer.status_code, answer.text)
    if answer.status_code == 200:
        body = answer.json()
        assert body["items"] == [] or body.get("total") == 0, body
    assert bench.ledger_count() == before
    assert client.get("/api/sites").json()["total"] == 5
    assert len(client.get("/api/declarations").json()) == 1


def test_out_of_range_pages_name_the_field(bench: Workbench) -> None:
    client, _ = bench.signed_in("vera")
    answer = client.get("/api/sites?limit=0")
    assert answer.status_code == 400 and answer.json()["error"].startswith("limit:")
    answer = client.get("/api/sites?offset=-5")
    assert answer.status_code == 400 and answer.json()["error"].startswith("offset:")
    page = client.get("/api/sites?limit=2&offset=1").json()
    assert [s["id"] for s in page["items"]] == ["hostile", "kal-gol"] and page["total"] == 5


def test_hostile_assessment_fields_are_refused_and_nothing_written(bench: Workbench) -> None:
    before = bench.ledger_count()
    client, csrf = bench.signed_in("alice")
    header = {"x-csrf-token": csrf}
    for body, words in (
        ({**ASSESSMENT, "status": "active'; DROP TABLE sites;--"}, "unknown value"),
        ({**ASSESSMENT, "note": "bidi \u202e override"}, "U+202E"),
        ({**ASSESSMENT, "date": "2999-01-01"}, "future"),
        ({**ASSESSMENT, "date": "not a date"}, "date"),
        ({**ASSESSMENT, "evidence": ["../../keys/alice.pem"]}, "neither a detection run"),
    ):
        answer = client.post(WRITE, json=body, headers=header)
        assert answer.status_code == 400 and words in answer.json()["error"], answer.text
    assert (
        client.post("/api/sites/nowhere/assessments", json=ASSESSMENT, headers=header).status_code
        == 404
    )
    assert bench.ledger_count() == before and _assessments(bench) == []


def test_a_bug_is_a_bare_500_with_the_security_headers(bench: Workbench, caplog) -> None:
    """An exception no handler knows (here from a route added for the test) answers 500
    without the traceback, still with the browser's security headers, and is logged."""
    client = bench.client()

    def broken() -> None:
        raise RuntimeError("secret detail of the bug")

    client.app.add_api_route("/api/broken", broken)  # type: ignore[attr-defined]
    answer = client.get("/api/broken")
    assert answer.status_code == 500
    assert answer.json() == {"error": "internal error (see the server log)"}
    assert answer.headers["content-security-policy"].startswith("default-src 'self'")
    assert answer.headers["x-frame-options"] == "DENY"
    assert "secret detail" in caplog.text and "secret detail" not in answer.text
