"""``sitewatch report`` and ``sitewatch ledger verify-report`` as a user runs them: files
written and recorded, a report checked offline and against the workspace, tampering
found (exit 6), unknown subjects refused (exit 3)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from sitewatch.cli.main import app
from sitewatch.evidence.report_record import SLICE_NAME
from sitewatch.reports.render import render_pdf
from tests.reports.conftest import DemoIds, demo_ids

runner = CliRunner()


@pytest.fixture
def root(demo_workspace_root: Path, tmp_path: Path) -> Path:
    """A copy of the session's demo workspace."""
    copy = tmp_path / "ws"
    shutil.copytree(demo_workspace_root, copy)
    return copy


@pytest.fixture
def demo(root: Path) -> DemoIds:
    return demo_ids(root)


def sitewatch(root: Path | None, *args: str) -> Result:
    prefix = ["--workspace", str(root)] if root is not None else []
    return runner.invoke(app, [*prefix, *args])


def _dossier(root: Path, site_id: str, out: Path) -> dict[str, object]:
    done = sitewatch(root, "report", "site", site_id, "--pdf", "--out", str(out), "--json")
    assert done.exit_code == 0, done.output
    return json.loads(done.stdout)


def test_a_dossier_is_written_recorded_and_verified(
    demo: DemoIds, root: Path, tmp_path: Path
) -> None:
    files = _dossier(root, demo.site_id, tmp_path / "out")
    pdf = Path(str(files["pdf"]))
    assert pdf.is_file() and Path(str(files["html"])).is_file()
    listed = sitewatch(root, "ledger", "list", "--json")
    last = json.loads(listed.stdout)[-1]
    assert last["kind"] == "report" and last["seq"] == files["ledger_entry"]
    assert last["payload"]["files"][1]["sha256"] == files["sha256"][pdf.name]

    offline = sitewatch(None, "ledger", "verify-report", str(pdf))
    assert offline.exit_code == 0, offline.output
    assert f"recorded in ledger entry {files['ledger_entry']}" in offline.stdout
    against = sitewatch(root, "ledger", "verify-report", str(pdf), "--in-workspace", "--json")
    assert against.exit_code == 0, against.output
    assert json.loads(against.stdout)["checked_against_workspace"] is True
    assert sitewatch(root, "ledger", "verify").exit_code == 0  # the report entry is sound


def test_one_changed_byte_of_the_pdf_is_found(demo: DemoIds, root: Path, tmp_path: Path) -> None:
    files = _dossier(root, demo.site_id, tmp_path / "out")
    pdf = Path(str(files["pdf"]))
    data = bytearray(pdf.read_bytes())
    data[len(data) // 2] ^= 0x01
    pdf.write_bytes(bytes(data))
    offline = sitewatch(None, "ledger", "verify-report", str(pdf))
    assert offline.exit_code == 6
    assert "error:" in offline.output
    receipt = pdf.with_name(pdf.name + ".receipt.json")
    receipt.unlink()  # without the receipt, the workspace still knows the file's hash
    against = sitewatch(root, "ledger", "verify-report", str(pdf), "--in-workspace")
    assert against.exit_code == 6
    assert "no report entry of the ledger records" in against.output


def test_a_slice_that_no_longer_matches_the_chain_is_found(
    demo: DemoIds, root: Path, tmp_path: Path
) -> None:
    from pypdf import PdfReader

    files = _dossier(root, demo.site_id, tmp_path / "out")
    pdf = Path(str(files["pdf"]))
    slice_document = json.loads(PdfReader(pdf).attachments[SLICE_NAME][0])
    full = next(entry for entry in slice_document["entries"] if "payload" in entry)
    full["payload"] = full["payload"].replace("{", '{"edited": true, ', 1)
    forged = tmp_path / "forged.pdf"
    html = Path(str(files["html"])).read_text(encoding="utf-8")
    forged.write_bytes(
        render_pdf(html, slice_document=slice_document, created=_created(slice_document))
    )
    done = sitewatch(None, "ledger", "verify-report", str(forged))
    assert done.exit_code == 6
    assert "do not match its hash" in done.output

    # the workspace's ledger rewritten after the report: the slice no longer matches it
    with sqlite3.connect(root / "sitewatch.db") as connection:
        connection.execute(
            "UPDATE ledger_entries SET entry_hash = ? WHERE seq = ?", ("0" * 64, full["seq"])
        )
    done = sitewatch(root, "ledger", "verify-report", str(pdf), "--in-workspace")
    assert done.exit_code == 6
    assert "differs from the workspace ledger's entry" in done.output


def _created(slice_document: dict[str, object]):  # type: ignore[no-untyped-def]
    from datetime import datetime

    return datetime.fromisoformat(str(slice_document["head"]["signed_at"]))  # type: ignore[index]


def test_a_pdf_without_a_slice_fails_the_check(tmp_path: Path) -> None:
    from weasyprint import HTML

    plain = tmp_path / "plain.pdf"
    plain.write_bytes(HTML(string="<p>not a report</p>").write_pdf())
    done = sitewatch(None, "ledger", "verify-report", str(plain))
    assert done.exit_code == 6
    assert SLICE_NAME in done.output


def test_a_declaration_report_is_written(demo: DemoIds, root: Path, tmp_path: Path) -> None:
    done = sitewatch(
        root,
        "report",
        "declaration",
        demo.declaration_id,
        "--pdf",
        "--out",
        str(tmp_path),
        "--json",
    )
    assert done.exit_code == 0, done.output
    html = Path(json.loads(done.stdout)["html"]).read_text(encoding="utf-8")
    for section in ("cover", "counts", "map", "reconciliation", "problems", "evidence"):
        assert f'id="{section}"' in html, section
    assert "contradicted" in html and "unknown-site" in html


def test_a_scan_report_shows_the_best_candidates_with_their_chips(
    root: Path, tmp_path: Path
) -> None:
    scans = json.loads(sitewatch(root, "scans", "--json").stdout)
    done = sitewatch(
        root, "report", "scan", scans[0]["id"], "--top", "3", "--out", str(tmp_path), "--json"
    )
    assert done.exit_code == 0, done.output
    html = Path(json.loads(done.stdout)["html"]).read_text(encoding="utf-8")
    for section in ("cover", "candidates", "chips", "evidence"):
        assert f'id="{section}"' in html, section
    assert html.count('<figure class="plate">') == 6  # before and after of 3 candidates
    assert "ridgeview-synthetic" in html  # their nearest known site


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("report", "site", "no-such-site"), "no-such-site"),
        (("report", "declaration", "no-such-declaration"), "no-such-declaration"),
        (("report", "scan", "scan-nothing"), "scan-nothing"),
    ],
)
def test_an_unknown_subject_is_refused_and_nothing_is_written(
    root: Path, tmp_path: Path, args: tuple[str, ...], named: str
) -> None:
    out = tmp_path / "out"
    before = sitewatch(root, "ledger", "list", "--json").stdout
    done = sitewatch(root, *args, "--pdf", "--out", str(out))
    assert done.exit_code == 3, done.output
    assert named in done.output and "Traceback" not in done.output
    assert not out.exists()
    assert sitewatch(root, "ledger", "list", "--json").stdout == before


def test_verify_report_of_a_missing_file_is_an_input_error(tmp_path: Path) -> None:
    done = sitewatch(None, "ledger", "verify-report", str(tmp_path / "absent.pdf"))
    assert done.exit_code == 2
    assert "absent.pdf" in done.output


def test_the_demo_ends_with_a_dossier_and_a_declaration_report(tmp_path: Path) -> None:
    done = runner.invoke(app, ["demo", str(tmp_path / "demo")])
    assert done.exit_code == 0, done.output
    reports = tmp_path / "demo" / "products" / "reports"
    pdfs = sorted(path.name for path in reports.glob("*/*.pdf"))
    assert pdfs == [
        "republic-of-ridgeview-fictional-2023-02-01-1-report.pdf",
        "ridgeview-synthetic-dossier.pdf",
    ]
    assert len(list(reports.glob("*/*.html"))) == 2
    assert "The workbench: sitewatch users add NAME --role analyst" in done.output
    for pdf in reports.glob("*/*.pdf"):
        assert sitewatch(None, "ledger", "verify-report", str(pdf)).exit_code == 0


def test_an_out_that_is_a_file_is_refused_before_any_work(root: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    before = sitewatch(root, "ledger", "list", "--json").stdout
    done = sitewatch(root, "report", "site", "ridgeview-synthetic", "--out", str(blocker))
    assert done.exit_code == 2
    assert "--out" in done.output and "Traceback" not in done.output
    assert sitewatch(root, "ledger", "list", "--json").stdout == before
