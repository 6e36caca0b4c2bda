"""The family page in a real browser, on a phone and a tablet: a relative sees only their elders,
rates a visit once, orders a service and sees the provider's answer, complains, and presses the
call button (with its confirmation) and follows the call."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.browser.conftest import Site, Watched, until
from tests.browser.test_console import api

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
TABLET = {"width": 1024, "height": 768}
# Every visible control has an accessible name (as test_console checks for the other screens).
UNNAMED = """() => [...document.querySelectorAll('button, a[href], input, select, textarea')]
     .filter(el => el.offsetParent !== null)
     .filter(el => !(el.getAttribute('aria-label') || el.textContent.trim()
        || (el.labels && el.labels.length) || el.title))
     .map(el => el.outerHTML.slice(0, 80))"""


def _user_id(site: Site, username: str) -> int:
    req = urllib.request.Request(  # noqa: S310
        f"{site.base}/api/v1/auth/login",
        data=json.dumps({"username": username, "password": "demo"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req) as r:  # noqa: S310
        return int(json.load(r)["user"]["id"])


@pytest.fixture(scope="module")
def family(site: Site) -> dict[str, Any]:
    """family1_1 is linked by the demo to one elder (A); the fixture links a second (B): an elder
    nobody else is linked to, with a visit done yesterday that nobody has rated."""
    (a,) = api(site, "GET", "/me/clients", "family1_1")
    others = {c["id"] for c in api(site, "GET", "/me/clients", "family1_2")}
    done = api(site, "GET", f"/visits?date={site.yesterday}&status=completed", "dispatcher1")
    for v in done:
        if v["client_id"] in others | {a["id"]}:
            continue
        if api(site, "GET", f"/clients/{v['client_id']}/family", "dispatcher1") == []:
            break
    else:
        pytest.fail("no completed visit yesterday of an elder without family")
    body = {"user_id": _user_id(site, "family1_1"), "relation": "儿子", "may_see_photos": True}
    link = api(site, "POST", f"/clients/{v['client_id']}/family", "dispatcher1", body)
    assert link.get("id"), link
    b = next(c for c in api(site, "GET", "/me/clients", "family1_1") if c["id"] == v["client_id"])
    return {"a": a, "b": b, "visit": v["id"], "others": others}


@pytest.fixture
def phone(browser: Any, site: Site) -> Iterator[Any]:
    """A second phone of the same relative (the same page open twice)."""
    contexts: list[Any] = []

    def open_one(lang: str = "zh") -> Watched:
        context = browser.new_context(viewport=PHONE, locale="zh-CN", has_touch=True)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(20_000)
        w = Watched(page, site.base)
        w.login("family1_1", lang)
        return w

    yield open_one
    for c in contexts:
        c.close()


def _choose(w: Watched, name: str) -> None:
    w.page.get_by_role("group", name="选择老人").get_by_role("button", name=name).click()
    until(w.page, f"document.querySelector('.fam h2').textContent === {json.dumps(name)}")


def test_a_relative_sees_only_their_elders_and_rates_a_visit_once(
    phone: Any, site: Site, family: dict[str, Any]
) -> None:
    first, second = phone(), phone()
    page = first.page
    picker = page.get_by_role("group", name="选择老人").get_by_role("button")
    names = sorted(n.split("（")[0] for n in picker.all_inner_texts())
    assert names == sorted([family["a"]["name"], family["b"]["name"]])
    # Nothing wider than the phone, the call button on the first screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    call = page.get_by_role("button", name="一键呼叫")
    assert call.bounding_box()["y"] < PHONE["height"] and call.bounding_box()["height"] >= 80
    for w in (first, second):
        _choose(w, family["b"]["name"])
    card = f"article[data-visit='{family['visit']}']"
    page.locator(card).get_by_role("button", name="评价这次服务").click()
    page.get_by_label("5 星").check()
    page.get_by_label("想说的话（可不填）").fill("阿姨很耐心")
    page.get_by_role("dialog").get_by_role("button", name="确认").click()
    until(page, f"document.querySelector(\"{card} .fam-rated\")?.dataset.rated === '5'")
    assert page.locator(card).get_by_role("button", name="评价这次服务").count() == 0
    # The other phone still offers it: the server says it is rated, the page shows that rating.
    other = second.page
    other.locator(card).get_by_role("button", name="评价这次服务").click()
    other.get_by_label("2 星").check()
    other.get_by_role("dialog").get_by_role("button", name="确认").click()
    until(other, f"document.querySelector(\"{card} .fam-rated\")?.dataset.rated === '5'")
    assert "已经评价过了" in other.inner_text("#status")
    shown = api(site, "GET", f"/me/clients/{family['b']['id']}/visits", "family1_1")
    assert next(v for v in shown if v["id"] == family["visit"])["rating"] == {
        "stars": 5,
        "comment": "阿姨很耐心",
    }
    first.clean()
    second.clean(409)


SECTIONS = {"Visits": "visits", "Order": "order", "Complaints": "complain"}
SECTIONS |= {"Messages": "news"}


def _section(w: Watched, name: str, selector: str = "") -> None:
    """Open a section of the page (drawn anew) and wait for ``selector`` in it."""
    w.page.evaluate("document.getElementById('panel').removeAttribute('data-drawn')")
    w.page.get_by_role("navigation", name="Page sections").get_by_role("button", name=name).click()
    w.drawn()
    w.page.wait_for_selector(f".fam-body[data-section='{SECTIONS[name]}'] {selector}".strip())


def test_a_relative_orders_complains_and_calls_on_a_tablet_in_english(
    watched: Watched, site: Site, family: dict[str, Any]
) -> None:
    page = watched.page
    page.set_viewport_size(TABLET)
    watched.login("family1_1", "en")
    page.get_by_role("group", name="Choose a relative").get_by_role(
        "button", name=family["a"]["name"], exact=False
    ).click()
    elder = family["a"]["id"]
    assert page.evaluate(UNNAMED) == []

    # Order: the price before sending, then the provider's answer.
    _section(watched, "Order", "form.fam-form")
    before = len(api(site, "GET", f"/orders?client_id={elder}", "family1_1"))
    page.get_by_label("Service").select_option("CLEAN")
    page.get_by_label("Which day").fill(site.tomorrow)
    page.get_by_label("Which day").dispatch_event("change")
    until(page, "document.querySelector('.fam-quote')?.dataset.copay !== undefined")
    quote = api(
        site,
        "POST",
        "/orders/quote",
        "family1_1",
        {
            "client_id": elder,
            "service_code": "CLEAN",
            "date": site.tomorrow,
            "window_start": "09:00",
            "window_end": "11:00",
        },
    )
    assert page.locator(".fam-quote").get_attribute("data-copay") == quote["copay"]
    assert f"¥{quote['price']}" in page.inner_text(".fam-quote")
    page.get_by_label("A note for the caregiver (optional), e.g. please bring a vacuum").fill(
        "Please clean the kitchen"
    )
    page.get_by_role("button", name="Send the order").click()
    until(page, f"document.querySelectorAll('[data-order]').length === {before + 1}")
    newest = api(site, "GET", f"/orders?client_id={elder}", "family1_1")[0]
    assert newest["status"] == "requested" and newest["note"] == "Please clean the kitchen"
    row = f"[data-order='{newest['id']}']"
    assert "Waiting for the provider" in page.inner_text(row)
    reason = {"reason": "No cleaner is free that morning"}
    assert api(site, "POST", f"/orders/{newest['id']}/decline", "dispatcher1", reason)["status"]
    _section(watched, "Order", f"{row}[data-status='declined']")
    assert "No cleaner is free that morning" in page.inner_text(row)

    # A complaint about a visit (elder B's, done yesterday: A may have none done yet, just after
    # midnight), and the provider's answer.
    group = page.get_by_role("group", name="Choose a relative")
    group.get_by_role("button", name=family["b"]["name"], exact=False).click()
    _section(watched, "Complaints", "form.fam-form")
    page.get_by_label("Which visit is it about").select_option(str(family["visit"]))
    page.get_by_label("What happened").fill("The caregiver came 40 minutes late")
    page.get_by_role("button", name="Send", exact=True).click()
    page.wait_for_selector("[data-complaint][data-status='open'] >> text=40 minutes late")
    mine = api(site, "GET", f"/complaints?client_id={family['b']['id']}", "family1_1")[0]
    assert mine["visit_id"] == family["visit"]
    assert mine["visit_id"] and mine["text"] == "The caregiver came 40 minutes late"
    answer = {"answer": "We apologise; the route was changed."}
    assert api(site, "PATCH", f"/complaints/{mine['id']}", "dispatcher1", answer)["answer"]
    _section(watched, "Complaints", f"[data-complaint='{mine['id']}'][data-status='answered']")
    assert "We apologise" in page.inner_text(f"[data-complaint='{mine['id']}']")

    group.get_by_role("button", name=family["a"]["name"], exact=False).click()
    _section(watched, "Visits")

    # The call: a stray press asks first and sends nothing; a confirmed one is followed.
    calls: list[str] = []
    page.on("request", lambda r: calls.append(r.url) if r.url.endswith("/api/v1/calls") else None)
    # (The site is shared: another test's call for this elder may already be shown.)
    shown = page.locator("[data-call-state]").count()
    page.get_by_role("button", name="Emergency call").click()
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    assert calls == [] and page.locator("[data-call-state]").count() == shown
    page.get_by_role("button", name="Emergency call").click()
    page.get_by_label("They have fallen").check()
    page.get_by_role("dialog").get_by_role("button", name="Yes, call now").click()
    page.wait_for_selector("[data-call-state='open']")
    assert len(calls) == 1
    (call,) = api(site, "GET", f"/calls?client_id={elder}&status=open", "dispatcher1")
    assert call["kind"] == "fall" and call["source"] == "family"
    # The dispatcher sends a caregiver working today; the page shows who is coming and when.
    day = api(site, "GET", f"/days/{site.today}/dispatch", "dispatcher1")
    caregiver = next(c for c in day["caregivers"] if c["shift_start"])
    arrival = (datetime.now().astimezone() + timedelta(minutes=20)).isoformat()
    body = {"caregiver_id": caregiver["id"], "arrival": arrival}
    sent = api(site, "POST", f"/calls/{call['id']}/dispatch", "dispatcher1", body)
    assert sent.get("visit_id"), sent
    _section(watched, "Visits")
    page.wait_for_selector("[data-call-state='dispatched']")
    assert caregiver["name"] in page.inner_text(".fam-call-state")

    # The messages: the declined order and the dispatched call are there, in English.
    _section(watched, "Messages", ".fam-news")
    kinds = page.eval_on_selector_all(".fam-news li", "els => els.map(e => e.dataset.kind)")
    assert "order_declined" in kinds and "call_dispatched" in kinds
    assert "No cleaner is free that morning" in page.inner_text(".fam-news")
    watched.clean()
