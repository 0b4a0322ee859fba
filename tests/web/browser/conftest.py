"""A real browser against a real server: Debian's Chromium driven by Playwright, over
``sitewatch serve`` on a demo workspace.

Pages say when they are drawn by flags on ``<body>`` (``data-map-ready``...), set by
``sitewatch.markReady`` in workbench.js; tests wait on those flags, never on a clock.
Screenshots are kept under ``build/test-artifacts/web/`` (``SITEWATCH_TEST_ARTIFACTS``
moves them) for a person to look at.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sitewatch.auth.users import add_user
from sitewatch.demo.runner import run_demo
from sitewatch.evidence.keys import create_key
from sitewatch.workspace import open_workspace
from tests.support.serving import serving

CHROMIUM = Path("/usr/bin/chromium")
#: Flags for a machine with no network beyond loopback and no GPU (Chromium otherwise
#: keeps trying to reach Google's hosts); the sandbox needs user namespaces CI may lack.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "correct horse battery"
#: name -> role of the users the browser signs in as ("ana" holds a signing key).
USERS = {"ana": "analyst", "vic": "viewer"}
ARTIFACTS = (
    Path(
        os.environ.get(
            "SITEWATCH_TEST_ARTIFACTS", Path(__file__).resolve().parents[3] / "build/test-artifacts"
        )
    )
    / "web"
)


def _browser_or_skip() -> None:
    """Skip without Chromium, except in CI, where .ci/run installs it and a skip would hide
    that the browser test never ran."""
    if CHROMIUM.exists():
        return
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} missing: .ci/run installs Debian's chromium")
    pytest.skip(f"{CHROMIUM} missing (apt-get install chromium)")


@dataclass(frozen=True)
class DemoServer:
    """``sitewatch serve`` over a fresh demo workspace, with the users of :data:`USERS`."""

    url: str
    root: Path
    site_id: str
    scan_id: str
    declaration_id: str


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    _browser_or_skip()
    root = tmp_path_factory.mktemp("browser") / "demo"
    result = run_demo(root)
    with open_workspace(root) as workspace:
        with workspace.session() as session:
            for name, role in USERS.items():
                add_user(session, name, role, PASSWORD)
        create_key(workspace, "ana")
    with serving(root) as served:
        yield DemoServer(
            served.url.rstrip("/"), root, result.site_id, result.scan_id, result.declaration_id
        )


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    _browser_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


SignIn = Callable[[str], object]


@pytest.fixture
def signed_in_page(browser: object, demo_server: DemoServer) -> Iterator[SignIn]:
    """``signed_in_page(name)``: a new browser page signed in as ``name`` through the form.
    Every console error, script error or answer >= 400 of the page fails the test."""
    contexts = []
    problems: list[str] = []

    def open_as(name: str) -> object:
        context = browser.new_context(viewport={"width": 1280, "height": 860})  # type: ignore[attr-defined]
        contexts.append(context)
        page = context.new_page()
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on(
            "response",
            lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
        )
        page.goto(f"{demo_server.url}/login")
        page.fill("input[name=name]", name)
        page.fill("input[name=password]", PASSWORD)
        with page.expect_navigation():
            page.click("button[type=submit]")
        return page

    yield open_as
    for context in contexts:
        context.close()
    assert not problems, problems


#: True once every Leaflet tile image is decoded and fully opaque (its fade-in is over).
TILES_SHOWN = """() => [...document.querySelectorAll("img.leaflet-tile")].every(
    (tile) => tile.complete && getComputedStyle(tile).opacity === "1"
)"""


def screenshot(page: object, name: str) -> Path:
    """Keep a full-page screenshot of ``page`` as ``ARTIFACTS/name.png``, once the network
    has settled and every map tile has finished fading in: a picture taken while tiles
    still arrive or fade shows half a washed-out map on a loaded machine, which is not what
    a person would look at. Both are waited for as states, not for a time."""
    page.wait_for_load_state("networkidle")  # type: ignore[attr-defined]
    page.wait_for_function(TILES_SHOWN)  # type: ignore[attr-defined]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    return path
