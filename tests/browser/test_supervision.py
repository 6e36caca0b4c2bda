"""The bureau's (民政局) console in a real browser: figures within the supervisor's area."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pytest

from dispatch import config
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


def _redraw(watched: Watched) -> None:
    watched.page.evaluate("document.getElementById('panel').removeAttribute('data-drawn')")


def test_overdue_list_changes_when_a_contact_is_recorded(watched: Watched, site: Site) -> None:
    # Judged tomorrow, a daily elder last seen yesterday is overdue; a contact today clears it.
    day = site.tomorrow
    overdue = api(site, "GET", f"/supervision/contacts?as_of={day}&page_size=100", "supervisor")
    assert overdue, "the seeded district has nobody overdue tomorrow"
    first = next(r for r in overdue if r["frequency"] == "daily")
    client = first["client"]
    watched.login("supervisor", screen=f"contacts?date={day}")
    page = watched.page
    row = page.locator(f"table.overdue tr[data-client='{client['id']}']")
    assert row.count() == 1
    assert "红 · 每日" in row.inner_text()
    assert f"{first['overdue_days']} 天" in row.inner_text()
    before = page.locator("table.overdue tbody tr").count()
    # The provider records a phone call through the API (a supervisor only reads).
    now = datetime.now(config.zone()).isoformat(timespec="seconds")
    contact = {"kind": "phone", "at": now, "note": "电话问候，身体安好"}
    refused = api(site, "POST", f"/clients/{client['id']}/contacts", "supervisor", contact)
    assert refused.get("code") == "FORBIDDEN", refused
    made = api(
        site,
        "POST",
        f"/clients/{client['id']}/contacts",
        "admin",
        contact,
    )
    assert made["kind"] == "phone", made
    _redraw(watched)
    page.get_by_role("button", name="今天").click()
    watched.drawn()
    page.locator("#next-day").click()
    watched.drawn()
    assert page.locator(f"table.overdue tr[data-client='{client['id']}']").count() == 0
    assert page.locator("table.overdue tbody tr").count() in (before - 1, 0)
    watched.clean()


def test_supervisor_answers_a_call_back_that_blocks_the_order(watched: Watched, site: Site) -> None:
    watched.login("supervisor", lang="en", screen="callbacks")
    page = watched.page
    _redraw(watched)
    page.get_by_role("button", name="Draw a call-back sample").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Share (%) or orders").fill("10")
    dialog.get_by_role("button", name="Draw a call-back sample").click()
    watched.drawn()
    assert "new call-backs drawn" in page.locator("#status").inner_text()
    first = page.locator("#panel tbody tr").first
    callback = first.get_attribute("data-callback")
    order = first.locator("td").first.inner_text().strip().lstrip("#")
    _redraw(watched)
    first.get_by_role("button", name=re.compile("Record the answer")).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Did the service take place?").select_option("no")
    assert dialog.locator(".banner.bad").is_visible()  # says it blocks the payment
    dialog.get_by_label("Satisfaction").select_option("1")
    dialog.get_by_label("Note (what the elder said)").fill("Nobody came that day")
    dialog.get_by_role("button", name="Save").click()
    watched.drawn()
    assert page.locator(f"#panel tr[data-callback='{callback}']").count() == 0
    wo = api(site, "GET", f"/work-orders/{order}", "finance")
    assert any(f["code"] == "CALLBACK_DENIED" and f["status"] == "open" for f in wo["flags"])
    _redraw(watched)
    page.get_by_role("button", name="Did not take place").click()
    watched.drawn()
    row = page.locator(f"#panel tr[data-callback='{callback}']")
    assert "Payment blocked" in row.inner_text() and "Nobody came that day" in row.inner_text()
    watched.clean()


def test_scorecard_of_a_provider_beside_the_median(watched: Watched, site: Site) -> None:
    watched.login("supervisor", screen="figures")
    page = watched.page
    _redraw(watched)
    page.get_by_role("button", name="按机构").click()
    watched.drawn()
    link = page.locator("table.figures tbody th a").first
    name = link.inner_text().strip()
    _redraw(watched)
    link.click()
    watched.drawn()
    assert name in page.locator(".sup-head h2").inner_text()
    provider = page.locator("#provider").input_value()
    start, end = _month(site)
    path = f"/supervision/providers/{provider}/scorecard?from={start}&to={end}"
    card = api(site, "GET", path, "supervisor")
    row = page.locator("table.scorecard tr", has=page.locator("th", has_text="计划上门"))
    cells = [c.strip() for c in row.locator("td").all_inner_texts()]
    assert cells[:2] == [
        f"{card['figures']['visits_planned']:,}",
        f"{card['area_median']['visits_planned']:,}",
    ]
    watched.clean()
