"""``sitewatch sources add|list|show`` end to end: evidence kept, hostile files refused."""

from __future__ import annotations

import functools
import json
import threading
import zipfile
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import func, select

from sitewatch import limits
from sitewatch.db.models import LedgerEntry, Source
from sitewatch.workspace import open_workspace
from tests.cli.conftest import RunCli

SEED = Path(__file__).resolve().parents[2] / ".." / "shared" / "seeds" / "000_99d986accdf5ae39.txt"
DATA = Path(__file__).resolve().parents[1] / "sources" / "data"


def _counts(root: Path) -> tuple[int, int, list[str]]:
    with open_workspace(root) as workspace, workspace.session() as session:
        sources = session.scalar(select(func.count()).select_from(Source)) or 0
        entries = session.scalar(select(func.count()).select_from(LedgerEntry)) or 0
        folder = workspace.products / "sources"
        files = sorted(p.name for p in folder.iterdir()) if folder.exists() else []
    return sources, entries, files


def test_acceptance_founding_article(cli: RunCli) -> None:
    if not SEED.exists():
        pytest.skip("the founding article is in ../shared/seeds, absent here")
    assert cli("sites", "import", "--reference", "dprk").exit_code == 0
    added = cli(
        "sources", "add", str(SEED), "--url", "https://americanmilitarynews.com/x", "--json"
    )
    assert added.exit_code == 0, added.output
    record = json.loads(added.output)[0]
    assert record["sites"] == []  # the article names no catalog site
    assert record["published_on"] == "2018-11-13"
    assert record["report_publisher"] == "CSIS Beyond Parallel"
    shown = json.loads(cli("sources", "show", record["id"][:12], "--json").output)
    values = {(m["kind"], m["value"]) for m in shown["mentions"]}
    assert {("quantity", "16 bases"), ("missile", "SRBM"), ("missile", "ICBM")} <= values
    speakers = {c["speaker"] for c in shown["claims"]}
    assert {"Joseph Bermudez Jr", "State Department", "spokesman Kim Eui-kyeom",
            "North Korean Foreign Ministry"} <= speakers  # fmt: skip
    text = cli("sources", "show", record["id"]).output
    assert "quantities: 16 bases" in text and "missiles: SRBM; ICBM" in text
    assert "report_publisher: CSIS Beyond Parallel" in text and "sites: none" in text
    root = cli.root  # type: ignore[attr-defined]
    stored = root / shown["stored_path"]
    assert stored.read_bytes() == SEED.read_bytes()
    assert cli("ledger", "verify").exit_code == 0
    again = cli("sources", "add", str(SEED))
    assert again.exit_code == 4 and "already added" in again.output


def test_list_and_show_in_text(cli: RunCli) -> None:
    assert cli("sites", "import", "--reference", "dprk").exit_code == 0
    assert (
        cli("sources", "add", str(DATA / "sino-ri_en.txt"), str(DATA / "sino-ri_ko.txt")).exit_code
        == 0
    )
    listed = cli("sources", "list")
    assert listed.exit_code == 0 and "2 source(s)" in listed.output
    record = json.loads(cli("sources", "list", "--json").output)[0]
    shown = cli("sources", "show", record["id"])
    assert shown.exit_code == 0 and "sino-ri" in shown.output
    assert cli("sources", "show", "nope").exit_code == 3


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("junk.bin", bytes(range(256)) * 64, "binary data"),
        ("empty.txt", b"", "empty file"),
        ("bomb.html", b"<html><body>" + b"<div>" * 50_000 + b"</body></html>", "nesting bomb"),
        (
            "entities.html",
            b'<!DOCTYPE x [<!ENTITY a "aaaa">]><html><body>&a;</body></html>',
            "entity",
        ),
        ("latin1.txt", "Sino-ri café".encode("latin-1"), "unknown encoding"),
    ],
)
def test_hostile_file_is_one_line_exit_2_nothing_written(
    cli: RunCli, tmp_path: Path, name: str, data: bytes, message: str
) -> None:
    root = cli.root  # type: ignore[attr-defined]
    before = _counts(root)
    path = tmp_path / name
    path.write_bytes(data)
    good = DATA / "sino-ri_en.txt"
    result = cli("sources", "add", str(good), str(path))  # the good file is not kept either
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and name in lines[0] and message in lines[0]
    assert _counts(root) == before


def test_a_50_mb_file_is_refused(cli: RunCli, tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    with path.open("wb") as stream:
        stream.truncate(50 * 1024 * 1024)  # sparse: no 50 MB written to disk
    result = cli("sources", "add", str(path))
    assert result.exit_code == 2 and "larger than" in result.output
    assert limits.SOURCE_BYTES < 50 * 1024 * 1024


def test_fetch_needs_url_and_url_must_be_http(cli: RunCli, tmp_path: Path) -> None:
    assert cli("sources", "add", "--fetch").exit_code == 2
    bad = cli("sources", "add", str(DATA / "sino-ri_en.txt"), "--url", "file:///etc/passwd")
    assert bad.exit_code == 2 and "not an http(s) URL" in bad.output


def test_a_title_with_terminal_controls_is_printed_inert(cli: RunCli, tmp_path: Path) -> None:
    path = tmp_path / "evil.html"
    body = "<p>The Sino-ri base is active, the report said.</p>" * 3
    path.write_text(f"<html><head><title>\x1b[31mRED [bold]x[/bold]</title></head><body>"
                    f"<article>{body}</article></body></html>")  # fmt: skip
    result = cli("sources", "add", str(path))
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output
    assert "[bold]x[/bold]" in result.output


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """No request log on stderr: the command's output is under test."""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """A real HTTP server on localhost serving ``tmp_path`` (for --fetch)."""
    handler = functools.partial(_QuietHandler, directory=str(tmp_path))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_fetch_reads_the_url_and_records_it(cli: RunCli, tmp_path: Path, server: str) -> None:
    body = "<p>The Sino-ri missile operating base is active, the report said.</p>" * 3
    (tmp_path / "a.html").write_text(f"<html><body><article>{body}</article></body></html>")
    assert cli("sites", "import", "--reference", "dprk").exit_code == 0
    result = cli("sources", "add", "--fetch", "--url", f"{server}/a.html", "--json")
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)[0]
    assert record["url"] == f"{server}/a.html" and record["sites"] == ["sino-ri"]
    missing = cli("sources", "add", "--fetch", "--url", f"{server}/none.html")
    assert missing.exit_code == 2 and "cannot fetch" in missing.output


def test_fetch_refuses_a_body_past_the_limit(
    cli: RunCli, tmp_path: Path, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "SOURCE_BYTES", 1000)
    (tmp_path / "big.html").write_text("<html><body>" + "<p>words</p>" * 500 + "</body></html>")
    before = _counts(cli.root)  # type: ignore[attr-defined]
    result = cli("sources", "add", "--fetch", "--url", f"{server}/big.html")
    assert result.exit_code == 2 and "larger than 1,000 bytes" in result.output
    assert _counts(cli.root) == before  # type: ignore[attr-defined]


def test_a_file_already_added_refuses_the_whole_call(cli: RunCli) -> None:
    assert cli("sources", "add", str(DATA / "sino-ri_en.txt")).exit_code == 0
    before = _counts(cli.root)  # type: ignore[attr-defined]
    again = cli("sources", "add", str(DATA / "sino-ri_ko.txt"), str(DATA / "sino-ri_en.txt"))
    assert again.exit_code == 4 and "sino-ri_en.txt: already added" in again.output
    assert _counts(cli.root) == before  # type: ignore[attr-defined]
    twice = cli("sources", "add", str(DATA / "sino-ri_ko.txt"), str(DATA / "sino-ri_ko.txt"))
    assert twice.exit_code == 4 and "given twice" in twice.output


def test_the_evidence_package_of_a_site_carries_the_sources_naming_it(
    cli: RunCli, tmp_path: Path
) -> None:
    assert cli("sites", "import", "--reference", "dprk").exit_code == 0
    added = cli("sources", "add", str(DATA / "sino-ri_en.txt"), "--json")
    stored = json.loads(added.output)[0]["stored_path"]
    assert cli("sources", "add", str(DATA / "sakkanmol_ko.txt")).exit_code == 0
    out = tmp_path / "sino-ri.zip"
    assert cli("ledger", "export", "--site", "sino-ri", "--out", str(out)).exit_code == 0
    kept = [name for name in zipfile.ZipFile(out).namelist() if "products/sources/" in name]
    assert len(kept) == 1 and kept[0].endswith(stored)  # not the Sakkanmol article
    assert cli("ledger", "verify-package", str(out)).exit_code == 0
