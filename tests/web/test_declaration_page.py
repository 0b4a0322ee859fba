"""``/declarations`` and ``/declarations/{id}``: the verdicts beside a map coloured by verdict."""

from __future__ import annotations

import pytest

from tests.web.conftest import USERS, DemoBench, Workbench

DECLARATION = "dprk-2023-01-01-1"


@pytest.mark.parametrize("path", ["/declarations", f"/declarations/{DECLARATION}"])
def test_the_pages_without_a_session_go_to_the_sign_in_form(bench: Workbench, path: str) -> None:
    answer = bench.client().get(path)
    assert answer.status_code == 303 and answer.headers["location"] == "/login"


def test_the_map_needs_a_session(bench: Workbench) -> None:
    assert bench.client().get(f"/api/declarations/{DECLARATION}/map").status_code == 401


@pytest.mark.parametrize("name", sorted(USERS))
def test_every_role_sees_the_declaration(bench: Workbench, name: str) -> None:
    client, _ = bench.signed_in(name)
    listing = client.get("/declarations")
    assert listing.status_code == 200 and f'href="/declarations/{DECLARATION}"' in listing.text
    page = client.get(f"/declarations/{DECLARATION}")
    assert page.status_code == 200
    assert 'id="verdict-table"' in page.text and 'id="verdict-map"' in page.text
    assert 'class="verdict verdict-consistent"' in page.text
    assert 'href="/sites/sino-ri"' in page.text  # the verdict links to the site page
    assert client.get(f"/api/declarations/{DECLARATION}/map").status_code == 200


def test_the_map_holds_the_items_and_sites_with_their_verdicts(bench: Workbench) -> None:
    client, _ = bench.signed_in("vera")
    features = client.get(f"/api/declarations/{DECLARATION}/map").json()["features"]
    kinds = {(f["properties"]["kind"], f["properties"]["verdict"]) for f in features}
    assert ("item", "consistent") in kinds and ("site", "consistent") in kinds
    site = next(f for f in features if f["properties"].get("site_id") == "sino-ri")
    assert site["geometry"]["type"] == "Point"


def test_verdict_evidence_links_to_the_site_page(demo_bench: DemoBench) -> None:
    client, _ = demo_bench.signed_in("vera")
    text = client.get(f"/declarations/{demo_bench.demo.declaration_id}").text
    site_id, run_id = demo_bench.demo.site_id, demo_bench.demo.run_id
    assert f'href="/sites/{site_id}#ev-{run_id}"' in text  # the run a verdict cites
    assert f'id="ev-{run_id}"' in client.get(f"/sites/{site_id}").text  # ... is there


@pytest.mark.parametrize(
    "path", ["/declarations/no-such-declaration", "/api/declarations/no-such-declaration/map"]
)
def test_an_unknown_declaration_is_404_in_one_line(bench: Workbench, path: str) -> None:
    client, _ = bench.signed_in("vera")
    answer = client.get(path)
    assert answer.status_code == 404
    message = answer.json()["error"]
    assert "no-such-declaration" in message and "\n" not in message
