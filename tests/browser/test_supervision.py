"""The bureau's (民政局) console in a real browser: figures within the supervisor's area."""

from __future__ import annotations

from typing import Any

import pytest

from dispatch.demo.data import SUPERVISED_STREET
from tests.browser.conftest import Site, Watched
from tests.browser.test_console import api

pytestmark = pytest.mark.browser


def _month(site: Site) -> tuple[str, str]:
    return f"{site.today[:8]}01", site.today


def _rows(page: Any) -> list[str]:
    return [t.strip() for t in page.locator("table.figures tbody th").all_inner_texts()]


def _totals(page: Any) -> list[str]:
    return [t.strip() for t in page.locator("table.figures tfoot td").all_inner_texts()]


def test_street_supervisor_sees_only_its_street_with_totals(watched: Watched, site: Site) -> None:
    watched.login("supervisor_street")
    page = watched.page
    # The supervisor lands on the figures: no blank page.
    assert page.locator("#panel table.figures").count() == 1
    assert SUPERVISED_STREET in page.locator(".sup-head").inner_text()
    assert _rows(page) == [SUPERVISED_STREET]
    start, end = _month(site)
    mine = api(site, "GET", f"/supervision/figures?from={start}&to={end}", "supervisor_street")
    whole = api(site, "GET", f"/supervision/figures?from={start}&to={end}", "supervisor")
    assert len(whole["rows"]) > 1 and mine["totals"]["visits_planned"] > 0
    # The totals row shows the API's totals (elders served, visits planned and done).
    totals = _totals(page)
    assert totals[:3] == [
        f"{mine['totals'][k]:,}" for k in ("elders_served", "visits_planned", "visits_done")
    ]
    # By provider: only the providers with elders in the street.
    page.evaluate("document.getElementById('panel').removeAttribute('data-drawn')")
    page.get_by_role("button", name="按机构").click()
    watched.drawn()
    names = _rows(page)
    assert names and len(names) == len(mine_by_provider(site, start, end))
    watched.clean()


def mine_by_provider(site: Site, start: str, end: str) -> list[dict[str, Any]]:
    path = f"/supervision/figures?from={start}&to={end}&group_by=provider"
    return api(site, "GET", path, "supervisor_street")["rows"]


def test_district_supervisor_sees_every_street_and_switches_language(
    watched: Watched, site: Site
) -> None:
    watched.login("supervisor")
    page = watched.page
    start, end = _month(site)
    data = api(site, "GET", f"/supervision/figures?from={start}&to={end}", "supervisor")
    streets = [r["key"] if r["key"] != "-" else "未登记街道" for r in data["rows"]]
    assert _rows(page) == streets
    assert page.locator("table.figures tfoot th").inner_text().strip() == "合计"
    # A figure that is not recorded yet reads "—" with its reason, never 0.
    if data["totals"]["calls"] is None:
        dash = page.locator("table.figures tfoot td[data-k=calls] .null")
        assert dash.inner_text() == "—" and "尚未记录" in (dash.get_attribute("title") or "")
    page.evaluate("document.getElementById('panel').removeAttribute('data-drawn')")
    page.locator("#lang").click()
    watched.drawn()
    assert page.get_by_role("link", name="Figures by street").count() == 1
    assert page.locator("table.figures tfoot th").inner_text().strip() == "Total"
    assert page.get_by_role("button", name="Download Excel").count() == 1
    watched.clean()
