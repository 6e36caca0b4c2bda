"""The console in a real browser, per role: screens render with data, moves, review, upload."""

from __future__ import annotations

import json
import math
import re
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.browser.conftest import Site, Watched, until

pytestmark = pytest.mark.browser


def api(site: Site, method: str, path: str, user: str, body: Any = None) -> Any:
    """The API as the test's own client (to find cases and to check what the console did)."""
    login = urllib.request.Request(  # noqa: S310
        f"{site.base}/api/v1/auth/login",
        data=json.dumps({"username": user, "password": "demo"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(login) as r:  # noqa: S310
        token = json.load(r)["access_token"]
    req = urllib.request.Request(  # noqa: S310
        f"{site.base}/api/v1{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req) as r:  # noqa: S310
            return json.load(r)
    except urllib.error.HTTPError as err:
        return json.load(err)


# Each role's tabs: its landing screen (where it arrives after logging in) first.
SCREENS = {
    "dispatcher1": ["当日排班", "实时看板", "一键呼叫", "点单与投诉", "服务工单"],
    "finance": ["异常审核", "实时看板", "申诉", "结算批次", "工单漏斗", "校验规则"],
    "provider1": [
        "服务工单",
        "当日排班",
        "实时看板",
        "一键呼叫",
        "点单与投诉",
        "申诉",
        "结算批次",
        "工单漏斗",
        "工时表导入",
    ],
    "admin": ["用户", "当日排班", "实时看板", "一键呼叫", "结算批次", "工单漏斗", "校验规则"],
}
# Two days of history hold no appeal, no billing batch and no call yet: these may be empty.
MAY_BE_EMPTY = {"申诉", "结算批次", "一键呼叫", "点单与投诉"}


@pytest.mark.parametrize("user", list(SCREENS))
def test_every_main_screen_renders_with_data(watched: Watched, user: str) -> None:
    watched.login(user)
    page = watched.page
    tabs = page.get_by_role("navigation").get_by_role("link")
    # A tab's label, without the count a tab may carry (calls waiting).
    assert [re.sub(r"\s*\d+$", "", t.strip()) for t in tabs.all_inner_texts()] == SCREENS[user]
    assert tabs.first.get_attribute("aria-current") == "page"
    for name in SCREENS[user]:
        page.evaluate("document.getElementById('panel').removeAttribute('data-drawn')")
        page.get_by_role("link", name=re.compile(f"^{name}")).click()
        watched.drawn()
        panel = page.locator("#panel")
        # Some data on every screen: rows, bars or cards, never the empty-state line alone.
        if name not in MAY_BE_EMPTY:
            assert panel.locator("tbody tr, .tl-bar, .order-item, canvas, form").count() > 0, name
        assert page.locator("#status.error").count() == 0, page.inner_text("#status")
    # Every control has an accessible name.
    unnamed = page.evaluate(
        """() => [...document.querySelectorAll('button, a[href], input, select, textarea')]
             .filter(el => el.offsetParent !== null)
             .filter(el => !(el.getAttribute('aria-label') || el.textContent.trim()
                || (el.labels && el.labels.length) || el.title))
             .map(el => el.outerHTML.slice(0, 80))"""
    )
    assert unnamed == []
    watched.clean()


def _bar_box(page: Any, visit_id: int, caregiver_id: int | None = None) -> Any:
    seat = "" if caregiver_id is None else str(caregiver_id)
    bar = page.locator(f".tl-bar[data-item^='v{visit_id}-{seat}']").first
    # Right of the sticky column of names, where a finger or a mouse can take it.
    bar.evaluate("b => { b.closest('.tl-scroll').scrollLeft = Math.max(0, b.offsetLeft - 400); }")
    return bar, bar.bounding_box()


def _row_y(page: Any, caregiver_id: int) -> float:
    # The page is tall enough for every row: measuring must not scroll the bar away.
    box = page.locator(f".tl-row[data-row='{caregiver_id}']").bounding_box()
    return float(box["y"] + box["height"] / 2)


def _drag(page: Any, box: Any, y: float, dx: float = 0) -> None:
    x = box["x"] + min(8, box["width"] / 2)
    page.mouse.move(x, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(x + dx / 2, (box["y"] + y) / 2, steps=4)
    page.mouse.move(x + dx, y, steps=4)
    page.mouse.up()


def _snapped(iso: str) -> str:
    """The start a drop at the bar's own place asks for: rounded to 5 minutes, as the console."""
    at = datetime.fromisoformat(iso)
    step = 300
    return datetime.fromtimestamp(round(at.timestamp() / step) * step, at.tzinfo).isoformat()


def _find_moves(site: Site) -> tuple[tuple[int, int], tuple[int, int, str]]:
    """Tomorrow (proposed, nothing started): one move the server allows, one it refuses."""
    day = api(site, "GET", f"/days/{site.tomorrow}/dispatch", "dispatcher1")
    working = [c for c in day["caregivers"] if c["shift_start"]]
    allowed = refused = None
    for v in day["visits"]:
        if not v["caregiver_ids"] or v["caregivers_needed"] > 1 or not v["planned_start"]:
            continue
        for c in working:
            if c["id"] in v["caregiver_ids"]:
                continue
            ask = {"caregiver_id": c["id"], "planned_start": _snapped(v["planned_start"])}
            answer = api(
                site, "POST", f"/visits/{v['id']}/move", "dispatcher1", {**ask, "dry_run": True}
            )
            if answer.get("allowed") and not allowed:
                allowed = (v["id"], c["id"])
            codes = [r["code"] for r in answer.get("refusals", [])]
            if codes == ["MOVE_SKILL_MISSING"] and not refused:
                refused = (v["id"], c["id"], codes[0])
        if allowed and refused:
            return allowed, refused
    pytest.fail("the seeded day offers no allowed and no refused move")


def test_dispatcher_drags_a_visit_and_sees_a_refusal(watched: Watched, site: Site) -> None:
    (vid, to), (bad_vid, bad_to, _code) = _find_moves(site)
    page = watched.page
    page.set_viewport_size({"width": 1366, "height": 2200})
    watched.login("dispatcher1", screen="day")
    page.get_by_role("button", name="后一天").click()
    until(page, f"location.hash.includes('{site.tomorrow}')")
    watched.drawn()
    page.wait_for_selector(f".tl-bar[data-item^='v{vid}-']")
    _, box = _bar_box(page, vid)
    _drag(page, box, _row_y(page, to))
    note = page.locator(".tl-note")
    note.wait_for()
    assert "已调整" in note.inner_text()
    visit = api(site, "GET", f"/visits/{vid}", "dispatcher1")
    assert [a["caregiver_id"] for a in visit["assignments"]] == [to]
    assert visit["pinned"] is True
    # A caregiver without the skill: the server refuses and the reason shows beside the bar.
    _, box = _bar_box(page, bad_vid)
    _drag(page, box, _row_y(page, bad_to))
    refusal = page.locator(".tl-note.bad")
    refusal.wait_for()
    assert "技能不符" in refusal.inner_text()
    after = api(site, "GET", f"/visits/{bad_vid}", "dispatcher1")
    assert bad_to not in [a["caregiver_id"] for a in after["assignments"]]
    watched.clean(409)


def _find_double(site: Site) -> tuple[dict[str, Any], int, str, str]:
    """Tomorrow: a double-staffed visit, who may take its second seat (another caregiver with
    the skill, else the same one), a start on the 5-minute grid to drop it at and the start
    the server answers for both caregivers (travel may make it later)."""
    day = api(site, "GET", f"/days/{site.tomorrow}/dispatch", "dispatcher1")
    for v in day["visits"]:
        if len(v["caregiver_ids"]) != 2 or not v["planned_start"]:
            continue
        second = v["caregiver_ids"][1]
        latest = datetime.fromisoformat(v["window_end"]) - timedelta(minutes=v["duration_min"])
        at = datetime.fromisoformat(v["window_start"])
        starts = []
        while at <= latest:
            starts.append(at.isoformat())
            at += timedelta(minutes=10)
        takers = [
            c["id"]
            for c in day["caregivers"]
            if c["id"] not in v["caregiver_ids"]
            and c["shift_start"]
            and v["required_skill"] in c["skills"]
        ]
        for to in [*takers, second]:
            for start in starts:
                if to == second and start == _snapped(v["planned_start"]):
                    continue  # no move at all
                ask = {"caregiver_id": to, "from_caregiver_id": second, "planned_start": start}
                answer = api(
                    site, "POST", f"/visits/{v['id']}/move", "dispatcher1", {**ask, "dry_run": True}
                )
                if answer.get("allowed"):
                    return v, to, start, answer["start"]
    pytest.fail("the seeded day offers no double-staffed visit whose second seat can move")


def test_dispatcher_drags_the_second_seat_of_a_double_visit(watched: Watched, site: Site) -> None:
    visit, to, start, answered = _find_double(site)
    vid, (first, second) = visit["id"], visit["caregiver_ids"]
    day = api(site, "GET", f"/days/{site.tomorrow}/dispatch", "dispatcher1")
    stop = next(
        s
        for r in day["plan"]["routes"]
        if r["caregiver_id"] == second
        for s in r["stops"]
        if s.get("visit_id") == vid
    )
    page = watched.page
    page.set_viewport_size({"width": 1366, "height": 2200})
    watched.login("dispatcher1", screen=f"day?date={site.tomorrow}")
    bar = page.locator(f".tl-bar[data-item='v{vid}-{second}']")
    bar.wait_for()
    # Onto the partner's row: she already holds the other seat, and the reason shows.
    _, box = _bar_box(page, vid, second)
    _drag(page, box, _row_y(page, first))
    page.locator(".tl-note.bad").wait_for()
    assert "已在本次服务中" in page.locator(".tl-note.bad").inner_text()
    # Sideways to the start found above (the bar's width is its stop's time) and to the row of
    # whoever takes the seat: that seat changes hands, the partner keeps hers, one start.
    begin, end = (datetime.fromisoformat(stop[k]) for k in ("start", "end"))
    _, box = _bar_box(page, vid, second)
    per_s = box["width"] / (end - begin).total_seconds()
    shift = datetime.fromisoformat(start) - datetime.fromisoformat(_snapped(stop["start"]))
    _drag(page, box, _row_y(page, to), dx=shift.total_seconds() * per_s)
    page.locator(".tl-note:not(.bad)").wait_for()
    assert "已调整" in page.locator(".tl-note").inner_text()
    after = api(site, "GET", f"/visits/{vid}", "dispatcher1")
    assert [a["caregiver_id"] for a in after["assignments"]] == [first, to]
    assert {a["planned_start_at"] for a in after["assignments"]} == {answered}
    page.wait_for_selector(f".tl-bar[data-item='v{vid}-{to}']")
    page.wait_for_selector(f".tl-bar[data-item='v{vid}-{first}']")
    watched.clean(409)


def test_finance_overrides_a_flag_after_seeing_photo_and_map(watched: Watched, site: Site) -> None:
    # An order the queue lists (a blocking open flag) checked in from the app with a photo.
    queue = api(site, "GET", "/work-orders?status=flagged&open_flags=true&page_size=100", "finance")
    order = next(
        o
        for o in queue
        if o["source"] == "app"
        and any(f["status"] == "open" and f["severity"] != "info" for f in o["flags"])
        and any(
            e["photo_id"]
            for e in api(site, "GET", f"/visits/{o['visit_id']}/events", "finance")
            if e["caregiver_id"] == o["caregiver_id"]
        )
    )
    watched.login("finance", screen="review")
    page = watched.page
    # Which rule's group holds it depends on the day's data: open the group when it is folded,
    # as a reader would, and take the order from it.
    item = f".order-item[data-id='{order['id']}']"
    group = page.locator("details.group", has=page.locator(item)).first
    code = group.get_attribute("data-code")
    if group.get_attribute("open") is None:
        group.locator("summary").click()
    group.locator(item).click()
    page.wait_for_selector(f"[data-order='{order['id']}']")
    img = page.locator(".photos img").first
    img.wait_for()
    until(
        page,
        "(i => Boolean(i && i.complete && i.naturalWidth > 0))"
        "(document.querySelector('.photos img'))",
    )
    # The map: the home marker, the geofence circle and the lines on its canvas, and the
    # check-in and check-out points labelled with their distances from home.
    assert page.locator(".leaflet-container .map-square.home").count() == 1
    assert page.locator(".leaflet-container canvas").count() >= 1
    assert page.locator(".leaflet-tooltip", has_text="米").count() >= 1
    # Each point's distance from home is the server's figure (the flags' measure), not one
    # recomputed in the browser.
    drawn = page.locator(".leaflet-container").inner_text()
    for e in api(site, "GET", f"/visits/{order['visit_id']}/events", "finance"):
        if e["caregiver_id"] == order["caregiver_id"]:
            assert f"距家 {math.floor(e['distance_home_m'] + 0.5)} 米" in drawn, drawn
    page.get_by_role("button", name="豁免异常并通过").click()
    page.get_by_role("dialog").get_by_label(re.compile("请填写原因")).fill(
        "已电话回访，确认服务完成"
    )
    page.get_by_role("dialog").get_by_role("button", name="确认").click()
    page.wait_for_selector("#status.ok")
    # The queue is drawn again without the order; the group being worked through stays open.
    page.wait_for_selector(item, state="detached")
    still = page.locator(f"details.group[data-code='{code}']")
    assert still.count() == 0 or still.get_attribute("open") is not None
    after = api(site, "GET", f"/work-orders/{order['id']}", "finance")
    assert after["status"] == "approved"
    assert all(f["status"] != "open" or f["severity"] == "info" for f in after["flags"])
    watched.clean()


def test_provider_uploads_a_timesheet_with_a_bad_row(
    watched: Watched, site: Site, tmp_path: Any
) -> None:
    clients = api(site, "GET", "/clients?page_size=1", "provider1")
    csv = tmp_path / "timesheet.csv"
    csv.write_text(
        "external_id,caregiver_code,client_code,service_code,start,end,note\n"
        f"T-1,CG101,{clients[0]['code']},CLEAN,{site.yesterday} 08:00,{site.yesterday} 09:00,\n"
        f"T-2,NOBODY,{clients[0]['code']},CLEAN,{site.yesterday} 09:30,{site.yesterday} 10:30,\n",
        encoding="utf-8",
    )
    watched.login("provider1", screen="timesheets")
    page = watched.page
    page.get_by_label(re.compile("工时表文件")).set_input_files(str(csv))
    page.get_by_role("button", name="上传").click()
    table = page.get_by_role("table")
    table.wait_for()
    rows = table.locator("tbody tr")
    assert rows.count() == 1
    assert rows.first.locator("td").first.inner_text() == "3"  # the file's third line
    assert "caregiver_code" in rows.first.inner_text()
    assert page.locator(".banner.bad").count() == 1
    watched.clean(422)


def test_the_language_switch_changes_the_labels(watched: Watched) -> None:
    watched.login("dispatcher1", screen="day")
    page = watched.page
    assert page.get_by_role("link", name="当日排班").is_visible()
    page.get_by_role("button", name="切换到英文").click()
    watched.drawn()
    assert page.get_by_role("link", name="Day plan").is_visible()
    assert page.get_by_role("button", name="Re-optimise keeping pins").count() == 1
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_role("button", name="Switch to Chinese").click()
    assert page.get_by_role("link", name="当日排班").is_visible()
    watched.clean()
