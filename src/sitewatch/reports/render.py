"""Turning a report's facts into files: self-contained HTML, PDF, and their ledger record.

- HTML from the package's Jinja templates with autoescape on (every site name, alias and
  note is user text), images embedded as ``data:`` URIs and the stylesheet inline, so the
  file opens anywhere, offline, and fetches nothing.
- PDF by WeasyPrint from the same HTML, with a URL fetcher that refuses everything but
  ``data:`` URIs (no file or network read can slip in through a template), fonts embedded
  by WeasyPrint, the creation and modification dates set to the report's own date, a
  fixed document identifier, and the ledger slice attached
  (:data:`sitewatch.evidence.report_record.SLICE_NAME`): the same inputs and date give
  the same bytes.
- Then the ``report`` ledger entry and the receipt beside the PDF
  (:mod:`sitewatch.evidence.report_record`).
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from sitewatch import __version__
from sitewatch.evidence.canonical import iso_utc
from sitewatch.evidence.report_record import (
    SLICE_NAME,
    receipt_document,
    record_report,
    write_receipt,
)
from sitewatch.files import atomic_output, check_output_folder
from sitewatch.workspace import Workspace

REPORTS_DIR = Path("products") / "reports"


@dataclass
class ReportFiles:
    """What a report command wrote and recorded."""

    html: Path
    pdf: Path | None = None
    receipt: Path | None = None
    entry_seq: int = 0
    entry_hash: str = ""
    sha256: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "html": str(self.html),
            "pdf": str(self.pdf) if self.pdf else None,
            "receipt": str(self.receipt) if self.receipt else None,
            "ledger_entry": self.entry_seq,
            "ledger_entry_hash": self.entry_hash,
            "sha256": self.sha256,
        }


@cache
def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("sitewatch.reports", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["data_uri"] = data_uri
    environment.filters["latlon"] = latlon
    environment.filters["ha"] = lambda m2: "-" if m2 is None else f"{m2 / 10_000:.2f}"
    return environment


def data_uri(png: bytes | None) -> str:
    """A PNG as a ``data:`` URI (an empty string for no image)."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii") if png else ""


def latlon(point: dict[str, float]) -> str:
    """``25.47883° S, 136.62022° E``: a position as a reader writes it (5 decimals: 1 m)."""
    lat, lon = point["lat"], point["lon"]
    return f"{abs(lat):.5f}° {'N' if lat >= 0 else 'S'}, {abs(lon):.5f}° {'E' if lon >= 0 else 'W'}"


def render_html(template: str, context: dict[str, Any]) -> str:
    """The report ``template`` filled with ``context`` (escaped)."""
    return _environment().get_template(template).render(version=__version__, **context)


def render_pdf(html: str, *, slice_document: dict[str, Any], created: datetime) -> bytes:
    """The PDF of ``html`` with the ledger slice attached, dated ``created``."""
    from weasyprint import HTML, Attachment
    from weasyprint.urls import URLFetcher

    # data: URIs only: no file or host can be read through a template
    fetcher = URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)

    attachment = Attachment(
        string=json.dumps(slice_document, indent=1, sort_keys=True),
        name=SLICE_NAME,
        description="the sitewatch ledger slice this report was built from",
        created=created,
        modified=created,
        relationship="Source",
    )
    identifier = hashlib.sha256(html.encode("utf-8")).hexdigest()[:32].encode("ascii")
    document = HTML(string=html, url_fetcher=fetcher).render()
    document.metadata.created = iso_utc(created)
    document.metadata.modified = iso_utc(created)
    return document.write_pdf(attachments=[attachment], pdf_identifier=identifier)


def default_out(workspace: Workspace, subject: str) -> Path:
    """Where a report about ``subject`` goes when no ``--out`` is given."""
    return workspace.root / REPORTS_DIR / subject


def publish(
    workspace: Workspace,
    *,
    report: str,
    subject_id: str,
    site_id: str | None,
    stem: str,
    html: str,
    slice_document: dict[str, Any],
    created: datetime,
    out: Path,
    pdf: bool,
    author: str | None,
) -> ReportFiles:
    """Write ``stem``.html (and .pdf) into ``out``, then record them in the ledger and
    write the receipt beside the PDF (or the HTML) once that entry is committed."""
    out = check_output_folder(out.expanduser(), "--out")
    out.mkdir(parents=True, exist_ok=True)
    files = ReportFiles(html=out / f"{stem}.html")
    with atomic_output(files.html) as temporary:
        temporary.write_text(html, encoding="utf-8")
    written = [files.html]
    if pdf:
        data = render_pdf(html, slice_document=slice_document, created=created)
        files.pdf = out / f"{stem}.pdf"
        with atomic_output(files.pdf) as temporary:
            temporary.write_bytes(data)
        written.append(files.pdf)
    with workspace.session() as session:
        entry = record_report(
            session,
            report=report,
            subject_id=subject_id,
            site_id=site_id,
            files=written,
            slice_head_seq=slice_document["head"]["seq"],
            author=author,
        )
        receipt = receipt_document(session, entry)
        files.entry_seq, files.entry_hash = entry.seq, entry.entry_hash
        files.sha256 = {item["name"]: item["sha256"] for item in json.loads(entry.payload)["files"]}
    files.receipt = write_receipt(receipt, files.pdf or files.html)
    return files
