"""The triage queue in Chromium, driven by the keyboard as an analyst works it: imagery of
both dates, next/previous, dismiss with a reason, promote; each decision is a signed
ledger entry and the chain still verifies."""

from __future__ import annotations

import re
import subprocess
import sys

from playwright.sync_api import expect

from tests.web.browser.conftest import DemoServer, SignIn, screenshot

READY = "body[data-triage-ready='1']"


def test_the_keyboard_works_the_queue_and_decisions_are_signed(
    signed_in_page: SignIn, demo_server: DemoServer
) -> None:
    page = signed_in_page("ana")
    tiles: list[tuple[int, str]] = []
    page.on(
        "response",
        lambda r: (
            tiles.append((r.status, r.headers.get("content-type", "")))
            if "/api/tiles/scenes/" in r.url
            else None
        ),
    )
    # The demo's candidates all lie within 1 km of its known sites: shown on request.
    page.goto(f"{demo_server.url}/scans/{demo_server.scan_id}/triage?known=1")
    page.wait_for_selector(READY, state="attached")
    position = page.locator("#queue-position")
    expect(position).to_have_text("place 1 of 20")
    page.wait_for_load_state("networkidle")
    assert tiles and all(status == 200 and kind == "image/png" for status, kind in tiles)
    assert page.locator("#label-before").inner_text() != page.locator("#label-after").inner_text()
    screenshot(page, "triage-first")

    page.keyboard.press("j")
    expect(position).to_have_text("place 2 of 20")
    second = page.url.split("candidate=")[1]
    page.keyboard.press("k")
    expect(position).to_have_text("place 1 of 20")
    page.keyboard.press("j")
    expect(position).to_have_text("place 2 of 20")

    page.keyboard.press("d")
    page.locator("#dismiss-reason").fill("a farm track, not an earthwork")
    page.keyboard.press("Enter")
    expect(page.locator("#triage-message")).to_contain_text(re.compile("dismissed", re.I))
    assert second not in page.url  # the queue moved on
    page.keyboard.press("p")
    expect(page.locator("#triage-message")).to_contain_text(re.compile("promoted", re.I))
    screenshot(page, "triage-after-decisions")

    verified = _sitewatch(demo_server, "ledger", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    listed = _sitewatch(demo_server, "ledger", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert '"candidate.dismiss"' in listed.stdout and '"author": "ana"' in listed.stdout


def test_a_viewer_sees_the_queue_without_decisions(
    signed_in_page: SignIn, demo_server: DemoServer
) -> None:
    page = signed_in_page("vic")
    page.goto(f"{demo_server.url}/scans/{demo_server.scan_id}/triage?known=1")
    page.wait_for_selector(READY, state="attached")
    assert page.locator("#btn-promote").count() == 0 and page.locator("#btn-dismiss").count() == 0
    page.keyboard.press("p")  # nothing to do for a viewer: no request, no error
    expect(page.locator("#queue-position")).to_contain_text("place 1 of")
    # A place of two touching candidates: one row of the queue, its parts counted.
    queue = page.request.get(
        f"{demo_server.url}/api/scans/{demo_server.scan_id}/candidates?include_known=true"
    ).json()
    pair = next(item for item in queue["items"] if item["member_count"] == 2)
    page.goto(
        f"{demo_server.url}/scans/{demo_server.scan_id}/triage?known=1&candidate={pair['id']}"
    )
    page.wait_for_selector(READY, state="attached")
    expect(page.locator("#facts")).to_contain_text("2 parts")
    expect(page.locator("#facts .probability")).to_have_text(f"{round(pair['probability'] * 100)}%")
    screenshot(page, "triage-place-of-two-parts")


def _sitewatch(server: DemoServer, *args: str) -> subprocess.CompletedProcess[str]:
    """The command line on the served workspace, in its own process (the server runs on)."""
    command = [sys.executable, "-m", "sitewatch", "--workspace", str(server.root), *args]
    return subprocess.run(command, capture_output=True, text=True)
