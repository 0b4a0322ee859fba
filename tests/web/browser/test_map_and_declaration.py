"""The map and the declaration view in Chromium: layers drawn over the offline outlines,
the view kept in the URL and restored from it; verdicts beside a map coloured by them."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.web.browser.conftest import DemoServer, SignIn, screenshot


def test_the_map_draws_the_demo_and_keeps_its_view_in_the_url(
    signed_in_page: SignIn, demo_server: DemoServer
) -> None:
    page = signed_in_page("vic")
    view = "z=12&lat=-25.47&lon=136.62&layers=sites,uncertainty,candidates,scenes,imagery"
    with page.expect_response(lambda r: "/api/map/sites?" in r.url) as sites_answer:
        page.goto(f"{demo_server.url}/map?{view}&scan={demo_server.scan_id}")
    page.wait_for_selector("body[data-map-ready='1']", state="attached")
    drawn = {site["id"] for site in sites_answer.value.json()["items"]}
    assert demo_server.site_id in drawn  # the markers the canvas drew (screenshot below)
    status = page.locator("#map-status")
    expect(status).to_contain_text("21 candidates")
    expect(status).to_contain_text("imagery 2024-04-24")  # the newest scene, with its date
    page.wait_for_load_state("networkidle")
    assert page.locator(".leaflet-tile-pane img.leaflet-tile-loaded").count() > 0
    assert "z=12" in page.url and "lat=-25.47" in page.url  # the shared view was restored
    assert page.locator("#map-choices select[name=scan]").input_value() == demo_server.scan_id
    assert page.locator(".leaflet-overlay-pane canvas, .leaflet-overlay-pane svg").count() > 0
    screenshot(page, "map-demo")


def test_the_declaration_view_colours_its_verdicts(
    signed_in_page: SignIn, demo_server: DemoServer
) -> None:
    page = signed_in_page("vic")
    page.goto(f"{demo_server.url}/declarations/{demo_server.declaration_id}")
    page.wait_for_selector("body[data-declaration-ready='1']", state="attached")
    verdicts = page.locator(".verdict")
    expect(verdicts.first).to_be_visible()
    shown = {verdicts.nth(i).inner_text() for i in range(verdicts.count())}
    assert {"contradicted", "consistent", "unknown-site"} <= shown
    evidence = page.locator("a[href^='/sites/']")
    assert evidence.count() > 0  # each verdict with a site links to its evidence
    screenshot(page, "declaration-demo")
