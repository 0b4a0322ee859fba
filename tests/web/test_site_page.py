"""``/sites/{id}``, its timeline and its evidence package, for every role."""

from __future__ import annotations

import hashlib
import io
import tempfile
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from shapely.geometry import Point

from sitewatch.catalog.records import SiteRecord, SourceRecord
from sitewatch.catalog.sites import add_site
from sitewatch.evidence.keys import create_key
from sitewatch.evidence.package_check import verify_package
from sitewatch.sources.store import add_sources, read_source
from sitewatch.workspace import open_workspace
from tests.web.conftest import HOSTILE_NAME, USERS, DemoBench, Workbench

ASSESSMENT = {"date": "2023-05-01", "status": "active", "confidence": "high", "note": "seen"}


def _snapshot(root: Path) -> dict[str, str]:
    """Every file under ``root`` with the SHA-256 of its content, but SQLite's shared-memory
    index (``-shm``), which every reader of a WAL database updates: the database and its
    write-ahead log are compared, so a write would show."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.name.endswith("-shm")
    }


@pytest.mark.parametrize(
    "path",
    ["/api/sites/sino-ri/timeline", "/api/sites/sino-ri/evidence-package"],
)
def test_the_sites_api_needs_a_session(bench: Workbench, path: str) -> None:
    assert bench.client().get(path).status_code == 401


def test_the_site_page_without_a_session_goes_to_the_sign_in_form(bench: Workbench) -> None:
    answer = bench.client().get("/sites/sino-ri")
    assert answer.status_code == 303 and answer.headers["location"] == "/login"


@pytest.mark.parametrize("name", sorted(USERS))
def test_every_role_sees_the_site(bench: Workbench, name: str) -> None:
    client, _ = bench.signed_in(name)
    page = client.get("/sites/sino-ri")
    assert page.status_code == 200
    text = page.text
    assert "Sino-ri" in text and "Sinori, 신오리" in text and "± 2000 m" in text
    days = (datetime.now(UTC).date() - date(2023, 3, 1)).days
    assert f"Latest image 2023-03-01, {days} days old." in text
    assert 'id="compare"' in text and "/static/js/site.js" in text
    assert "consistent" in text  # the conftest declaration's verdict on Sino-ri
    signs = name in ("alice",)  # the analyst whose key the server holds
    assert ('id="assessment-form"' in text) is signs
    assert ("/api/sites/sino-ri/evidence-package" in text) is signs
    # an analyst or admin without a key is told why, and how to get one
    assert ("sitewatch keys create --name " + name in text) is (name in ("bob", "ada"))


def test_the_site_json_carries_its_verdicts(bench: Workbench) -> None:
    client, _ = bench.signed_in("vera")
    verdicts = client.get("/api/sites/sino-ri").json()["verdicts"]
    assert [v["verdict"] for v in verdicts] == ["consistent"]
    assert verdicts[0]["declaration_id"] == "dprk-2023-01-01-1"


def test_a_site_named_with_a_script_is_escaped_on_its_page(bench: Workbench) -> None:
    client, _ = bench.signed_in("vera")
    text = client.get("/sites/hostile").text
    assert "<script>alert" not in text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Co" in text
    assert HOSTILE_NAME not in text


def test_the_home_page_links_to_the_site_pages(bench: Workbench) -> None:
    client, _ = bench.signed_in("vera")
    text = client.get("/").text
    assert 'href="/sites/sino-ri"' in text and 'href="/declarations"' in text


@pytest.mark.parametrize("path", ["/sites/no-such-site", "/api/sites/no-such-site/timeline"])
def test_an_unknown_site_is_404_in_one_line(bench: Workbench, path: str) -> None:
    client, _ = bench.signed_in("vera")
    answer = client.get(path)
    assert answer.status_code == 404
    assert "no-such-site" in answer.json()["error"] and "\n" not in answer.json()["error"]


def test_an_assessment_recorded_shows_on_the_page(bench: Workbench) -> None:
    client, token = bench.signed_in("alice")
    stored = client.post(
        "/api/sites/sino-ri/assessments", json=ASSESSMENT, headers={"x-csrf-token": token}
    ).json()
    assert f'id="ev-{stored["id"]}"' in client.get("/sites/sino-ri").text


def test_the_timeline_of_the_demo_site(demo_bench: DemoBench) -> None:
    client, _ = demo_bench.signed_in("vera")
    before = _snapshot(demo_bench.root)
    timeline = client.get(f"/api/sites/{demo_bench.demo.site_id}/timeline").json()
    assert [r["scene_id"] for r in timeline["records"]] == demo_bench.demo.scene_ids
    assert timeline["records"][1]["activity"] > 0
    assert _snapshot(demo_bench.root) == before  # computed, not written


def test_the_demo_site_page_lists_its_run_and_a_compare_link(demo_bench: DemoBench) -> None:
    client, _ = demo_bench.signed_in("vera")
    text = client.get(f"/sites/{demo_bench.demo.site_id}").text
    first, last = demo_bench.demo.scene_ids
    assert f'id="ev-{demo_bench.demo.run_id}"' in text
    assert f"?before={first}&amp;after={last}#compare" in text
    assert text.count("<option") >= 4  # both scenes in both pickers


@pytest.mark.parametrize("name", ["alice", "ada"])
def test_an_analyst_downloads_a_valid_evidence_package(
    demo_bench: DemoBench, name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if name == "ada":  # an admin downloads too, once the server holds their key
        with open_workspace(demo_bench.root) as workspace:
            create_key(workspace, "ada")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    client, _ = demo_bench.signed_in(name)
    site_id = demo_bench.demo.site_id
    before = _snapshot(demo_bench.root)
    answer = client.get(f"/api/sites/{site_id}/evidence-package")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/zip"
    assert f'filename="{site_id}-evidence.zip"' in answer.headers["content-disposition"]
    package = tmp_path / "package.zip"
    package.write_bytes(answer.content)
    report = verify_package(package)
    assert report.ok, report.problems
    assert report.site_id == site_id and report.exporter["name"] == name
    assert "ledger.jsonl" in zipfile.ZipFile(io.BytesIO(answer.content)).namelist()
    assert _snapshot(demo_bench.root) == before  # nothing written to the workspace
    assert list(scratch.iterdir()) == []  # the temporary folder is gone


@pytest.mark.parametrize(
    ("name", "status"),
    [("vera", 403), ("bob", 409)],  # a viewer signs nothing; bob has no key on the server
)
def test_who_may_not_download_the_package(
    demo_bench: DemoBench, name: str, status: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    client, _ = demo_bench.signed_in(name)
    answer = client.get(f"/api/sites/{demo_bench.demo.site_id}/evidence-package")
    assert answer.status_code == status
    assert "\n" not in answer.json()["error"]
    assert list(scratch.iterdir()) == []


def test_the_package_of_an_unknown_site_is_404(bench: Workbench) -> None:
    client, _ = bench.signed_in("alice")
    answer = client.get("/api/sites/no-such-site/evidence-package")
    assert answer.status_code == 404 and "no-such-site" in answer.json()["error"]


@pytest.mark.parametrize(("site_id", "status"), [("sino-ri", 400), ("hostile", 404)])
def test_a_timeline_without_usable_imagery_says_why_in_one_line(
    bench: Workbench, site_id: str, status: int
) -> None:
    client, _ = bench.signed_in("vera")
    answer = client.get(f"/api/sites/{site_id}/timeline")  # one scene without files; none
    assert answer.status_code == status and "\n" not in answer.json()["error"]


def test_only_web_addresses_of_sources_become_links(bench: Workbench) -> None:
    sources = [
        SourceRecord(title="CSIS report", url="https://example.org/report", date="2019-01"),
        SourceRecord(title="trap", url="javascript:alert(1)"),
    ]
    record = SiteRecord(id="sourced", name="Sourced", geometry=Point(2, 2), sources=sources)
    with open_workspace(bench.root) as workspace, workspace.session() as session:
        add_site(session, record)
    client, _ = bench.signed_in("vera")
    text = client.get("/sites/sourced").text
    assert '<a href="https://example.org/report" rel="noreferrer noopener">CSIS report</a>' in text
    assert "(2019-01)" in text
    assert 'href="javascript' not in text and "trap javascript:alert(1)" in text


def test_claims_about_the_site_stand_beside_its_imagery(bench: Workbench) -> None:
    """A source naming Sino-ri, added as `sitewatch sources add` adds it: the site page
    lists its claims with speaker, stance and the newest image before each."""
    article = Path(__file__).parents[1] / "sources" / "data" / "sino-ri_en.txt"
    with open_workspace(bench.root) as workspace:
        add_sources(workspace, [read_source(article, published_on=date(2019, 1, 21))])
    client, _ = bench.signed_in("vera")
    page = client.get("/sites/sino-ri").text
    section = page[page.index('<section id="claims">') : page.index('<section id="verdicts">')]
    assert "Victor Cha" in section and "2019-01-21" in section
    assert "2023-03-01" not in section  # the site's only scene is later than the claim
    assert "<td>none</td>" in section  # so no image precedes the claim
    assert "No claim about this site" in client.get("/sites/hostile").text
