"""Signing in through the real form, in Chromium, and what each role is shown."""

from __future__ import annotations

from tests.web.browser.conftest import DemoServer, SignIn, screenshot


def test_an_analyst_signs_in_and_sees_the_catalog(
    signed_in_page: SignIn, demo_server: DemoServer
) -> None:
    page = signed_in_page("ana")
    assert page.url == f"{demo_server.url}/"
    assert page.locator("header .who").inner_text() == "ana (analyst)"
    assert page.locator("main table tbody tr").count() > 0
    assert page.get_by_text(demo_server.site_id, exact=True).count() == 1
    screenshot(page, "home-analyst")


def test_a_wrong_password_is_refused_on_the_form(browser: object, demo_server: DemoServer) -> None:
    page = browser.new_page()  # type: ignore[attr-defined]
    page.goto(f"{demo_server.url}/login")
    page.fill("input[name=name]", "ana")
    page.fill("input[name=password]", "not the password at all")
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert page.locator("[role=alert]").count() == 1
    assert "/login" in page.url
    page.close()
