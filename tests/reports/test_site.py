"""The site dossier: every section, the PDF's pages and text, the plates as a reader sees
them, determinism, a site with no imagery, hostile names, a real OSCD site."""

from __future__ import annotations

import re
import shutil
import sqlite3
from datetime import date
from pathlib import Path

import numpy as np
from PIL import Image
from shapely.geometry import Point

from sitewatch.catalog.records import SiteRecord
from sitewatch.catalog.sites import add_site
from sitewatch.demo.runner import run_demo
from sitewatch.imagery.scenes import list_scenes
from sitewatch.reports.render import render_pdf
from sitewatch.reports.site import build_site_dossier, report_site
from sitewatch.sources.store import add_sources, read_source
from sitewatch.workspace import open_workspace
from tests.conftest import shared_data
from tests.reports.conftest import ARTIFACTS, REPORT_DATE, Dossier, pdf_pages_as_png, pdf_text

SECTIONS = (
    "cover", "findings", "site-card", "locator", "plates", "chronology", "timeline",
    "assessments", "verification", "scenes", "evidence",
)  # fmt: skip


def _check_sections(html: str) -> None:
    for section in SECTIONS:
        assert f'id="{section}"' in html, section
    sources = re.findall(r'<img src="([^"]*)"', html)
    assert sources and all(source.startswith("data:image/png;base64,") for source in sources)
    assert "http://" not in re.sub(r"<td>.*?</td>", "", html, flags=re.S)  # nothing fetched
    assert "<link" not in html and "<script" not in html


def _acquisition_dates(root: Path, site_id: str) -> list[str]:
    with open_workspace(root) as workspace, workspace.session() as session:
        return [f"{scene.datetime:%Y-%m-%d}" for scene in list_scenes(session, site_id=site_id)]


def test_the_html_dossier_has_every_section_and_embeds_its_images(dossier: Dossier) -> None:
    html = dossier.files.html.read_text(encoding="utf-8")
    _check_sections(html)
    assert "Ridgeview test range (synthetic)" in html
    assert "Newest image:" in html and "days old" in html
    assert html.count("detection run") >= 1


def test_the_pdf_opens_and_its_text_holds_name_coordinates_and_every_date(
    dossier: Dossier,
) -> None:
    from pypdf import PdfReader

    assert dossier.files.pdf is not None
    reader = PdfReader(dossier.files.pdf)
    assert 4 <= len(reader.pages) <= 12
    text = pdf_text(dossier.files.pdf)
    assert "Ridgeview test range (synthetic)" in text
    assert re.search(r"25\.\d{5}° S, 136\.\d{5}° E", text)
    for day in _acquisition_dates(dossier.root, dossier.demo.site_id):
        assert day in text, day
    assert "2026-01-15 12:00 UTC" in text  # the report's own date, on the cover


def test_the_plates_page_shows_imagery_with_yellow_callouts(dossier: Dossier) -> None:
    """Looked at as a reader would: the plates page is imagery (not a blank box) and the
    change objects' yellow outlines and numbers are on it; one page is kept to look at."""
    assert dossier.files.pdf is not None
    pages = pdf_pages_as_png(dossier.files.pdf, ARTIFACTS / "site")
    page = _plates_page(dossier.files.pdf, pages)
    plates = np.asarray(Image.open(page).convert("RGB")).astype(int)
    red, green, blue = plates[..., 0], plates[..., 1], plates[..., 2]
    yellow = (red > 200) & (green > 180) & (blue < 90)
    assert yellow.sum() > 50  # outlines and number boxes of the 11 objects
    assert plates.std() > 30  # imagery, not an empty page
    shutil.copy(page, ARTIFACTS / "site-dossier-plates.png")


def _plates_page(pdf: Path, pages: list[Path]) -> Path:
    """The page image whose text starts the plates section."""
    for number, page in enumerate(pages, start=1):
        if "Dated imagery plates" in pdf_text(pdf, page=number):
            return page
    raise AssertionError("no page holds the plates")


def test_the_same_inputs_and_date_give_the_same_bytes(dossier: Dossier) -> None:
    with open_workspace(dossier.root) as workspace:
        first = build_site_dossier(workspace, dossier.demo.site_id, analyst=None, now=REPORT_DATE)
        second = build_site_dossier(workspace, dossier.demo.site_id, analyst=None, now=REPORT_DATE)
    assert first.html == second.html
    one = render_pdf(first.html, slice_document=first.slice_document, created=REPORT_DATE)
    two = render_pdf(second.html, slice_document=second.slice_document, created=REPORT_DATE)
    assert one == two


def test_a_site_without_imagery_gets_a_dossier_that_says_so(demo_copy: Path) -> None:
    record = SiteRecord(
        id="bare-site", name="Bare <b>site</b> & \"quotes\"", geometry=Point(20.5, 44.8),
        aliases=["<script>alert(1)</script>", "Голый объект", "空地"],
        category="test-site", uncertainty_m=250,
    )  # fmt: skip
    with open_workspace(demo_copy) as workspace:
        with workspace.session() as session:
            add_site(session, record)
        files = report_site(workspace, "bare-site", pdf=True, now=REPORT_DATE)
    html = files.html.read_text(encoding="utf-8")
    _check_sections(html)
    assert "No imagery" in html
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Bare &lt;b&gt;site&lt;/b&gt; &amp; &#34;quotes&#34;" in html
    assert files.pdf is not None
    text = pdf_text(files.pdf)
    assert "No imagery" in text and "44.80000° N, 20.50000° E" in text and "± 250 m" in text
    assert "Голый объект" in text


def test_a_real_oscd_site_gets_a_full_dossier(tmp_path: Path) -> None:
    beirut = shared_data("oscd", "images", "beirut")
    demo = run_demo(tmp_path / "ws", real=beirut)
    with open_workspace(demo.workspace) as workspace:
        files = report_site(workspace, demo.site_id, pdf=True, now=REPORT_DATE)
    _check_sections(files.html.read_text(encoding="utf-8"))
    assert files.pdf is not None
    text = pdf_text(files.pdf)
    for day in _acquisition_dates(demo.workspace, demo.site_id):
        assert day in text, day
    assert "Contains modified Copernicus Sentinel data" in text
    pages = pdf_pages_as_png(files.pdf, ARTIFACTS / "oscd")
    shutil.copy(_plates_page(files.pdf, pages), ARTIFACTS / "oscd-dossier-plates.png")


def test_control_characters_stored_in_a_name_are_shown_escaped(demo_copy: Path) -> None:
    """A name an older version stored with a terminal escape and a bidi override."""
    with sqlite3.connect(demo_copy / "sitewatch.db") as connection:
        connection.execute(
            "UPDATE sites SET name = ? WHERE id = 'ridgeview-synthetic'",
            ("Evil\x1b[31m \u202egnp.exe",),
        )
    with open_workspace(demo_copy) as workspace:
        files = report_site(workspace, "ridgeview-synthetic", now=REPORT_DATE)
    html = files.html.read_text(encoding="utf-8")
    assert "\x1b" not in html and "\u202e" not in html
    assert "Evil\\x1b[31m \\u202egnp.exe" in html


def test_claims_of_open_sources_join_the_chronology(demo_copy: Path) -> None:
    article = Path(__file__).parents[1] / "sources" / "data" / "sino-ri_en.txt"
    with open_workspace(demo_copy) as workspace:
        add_sources(workspace, [read_source(article, published_on=date(2019, 1, 21))])
        files = report_site(workspace, "sino-ri", pdf=False, now=REPORT_DATE)
    html = files.html.read_text(encoding="utf-8")
    chronology = html[html.index('<section id="chronology"') : html.index('<section id="timeline"')]
    assert "<td>2019-01-21</td><td>claim</td>" in chronology
    assert "Victor Cha" in chronology and "[no image before]" in chronology
