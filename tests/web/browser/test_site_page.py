"""The site page in Chromium: the before/after compare loads real imagery tiles of both
dates, an analyst records an assessment through the form and sees it listed, a viewer
sees no form. Every answer >= 400 or script error fails the test (conftest)."""

from __future__ import annotations

from tests.web.browser.conftest import DemoServer, SignIn, screenshot

READY = "body[data-{}-ready='1']"


def _tile_answers(page: object) -> list[tuple[int, str, str]]:
    """(status, content type, URL) of every scene tile the page receives from now on."""
    answers: list[tuple[int, str, str]] = []

    def keep(response: object) -> None:
        if "/api/tiles/scenes/" in response.url:  # type: ignore[attr-defined]
            answers.append(
                (response.status, response.headers.get("content-type", ""), response.url)  # type: ignore[attr-defined]
            )

    page.on("response", keep)  # type: ignore[attr-defined]
    return answers


def test_compare_shows_both_dates_from_real_tiles(
    signed_in_page: SignIn, demo_server: DemoServer
) -> None:
    page = signed_in_page("ana")
    tiles = _tile_answers(page)
    page.goto(f"{demo_server.url}/sites/{demo_server.site_id}")
    page.wait_for_selector(READY.format("compare"), state="attached")
    before = page.locator("#before-scene").input_value()
    after = page.locator("#after-scene").input_value()
    assert before != after
    page.wait_for_load_state("networkidle")
    assert tiles and all(status == 200 and kind == "image/png" for status, kind, _ in tiles)
    assert any(before in url for *_, url in tiles) and any(after in url for *_, url in tiles)
    labels = (
        page.locator("#swipe-before-label").inner_text(),
        page.locator("#swipe-after-label").inner_text(),
    )
    assert labels[0].startswith("before: 20") and labels[1].startswith("after: 20"), labels
    screenshot(page, "site-compare-swipe")
    page.check("input[name=mode][value=side]")  # the change clears the flag until redrawn
    page.wait_for_selector(READY.format("compare"), state="attached")
    assert page.locator("#side-view").is_visible() and not page.locator("#swipe-view").is_visible()
    assert "mode=side" in page.url  # the view is in the URL, to share
    screenshot(page, "site-compare-side")
    # (networkidle was reached once already: waiting on it again would not wait)
    with page.expect_response(lambda r: "/api/tiles/scenes/" in r.url and "bands=nir" in r.url):
        page.select_option("#composite", label="false colour (near infrared)")
    page.wait_for_selector(READY.format("compare"), state="attached")
    assert "bands=false+colour" in page.url, page.url  # the band choice is shared too
    assert page.locator("#composite").input_value() == "false colour (near infrared)"
    screenshot(page, "site-compare-false-colour")
    score = page.locator("#change-product option").nth(1).get_attribute("value")
    assert score and score.endswith("|score")
    with page.expect_response(lambda r: "/api/tiles/runs/" in r.url and "/score/" in r.url) as run:
        page.select_option("#change-product", value=score)
    assert run.value.status == 200 and run.value.headers["content-type"] == "image/png"
    page.wait_for_selector(READY.format("compare"), state="attached")
    assert "change=" in page.url
    screenshot(page, "site-compare-change-score")


def test_an_analyst_records_an_assessment_and_sees_it_listed(
    signed_in_page: SignIn, demo_server: DemoServer
) -> None:
    page = signed_in_page("ana")
    page.goto(f"{demo_server.url}/sites/{demo_server.site_id}")
    page.wait_for_selector(READY.format("site"), state="attached")
    rows = page.locator("#assessment-table tbody tr")
    before = rows.count()
    form = page.locator("#assessment-form")
    form.locator("input[name=date]").fill("2023-04-01")
    form.locator("textarea[name=note]").fill("new revetments <b>north</b> of the road")
    form.locator("button[type=submit]").click()
    page.wait_for_selector(READY.format("assessment"), state="attached")  # the answer is in
    assert rows.count() == before + 1
    added = page.locator("#assessment-table tbody tr.new").inner_text()
    assert "ana" in added and "new revetments <b>north</b> of the road" in added
    assert page.locator("#assessment-status").inner_text().startswith("Recorded and signed as ana")
    screenshot(page, "site-assessment-recorded")


def test_a_viewer_sees_the_page_without_the_form(
    signed_in_page: SignIn, demo_server: DemoServer
) -> None:
    page = signed_in_page("vic")
    page.goto(f"{demo_server.url}/sites/{demo_server.site_id}")
    page.wait_for_selector(READY.format("site"), state="attached")
    assert page.locator("#assessment-form").count() == 0
    assert page.locator("#compare").is_visible()
