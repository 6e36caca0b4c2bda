"""The provider's side of the families' requests in a real browser: the orders (点单) waiting for
an answer and the open complaints, with the tab's count; accept an order (a visit of its day),
decline one with a reason, answer a complaint — on a tablet in Chinese and a phone in English."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.browser.conftest import Site, Watched, until
from tests.browser.test_console import api
from tests.browser.test_family import PHONE, TABLET, UNNAMED

pytestmark = pytest.mark.browser
BADGE = "document.querySelector('[data-badge=\"requests\"]')?.textContent"


def _pending(site: Site, user: str) -> int:
    orders = api(site, "GET", "/orders?status=requested&page_size=100", user)
    complaints = api(site, "GET", "/complaints?status=open&page_size=100", user)
    return len(orders) + len(complaints)


def _order(site: Site, elder: int, note: str, start: str = "09:00") -> dict[str, Any]:
    body = {
        "client_id": elder,
        "service_code": "CLEAN",
        "date": site.tomorrow,
        "window_start": start,
        "window_end": "11:30" if start == "09:00" else "16:30",
        "note": note,
    }
    row = api(site, "POST", "/orders", "family1_1", body)
    assert row.get("status") == "requested", row
    return row


@pytest.fixture(scope="module")
def asked(site: Site) -> dict[str, Any]:
    """Two orders of tomorrow and a complaint about a visit, filed by family1_1 for its elder."""
    elder = api(site, "GET", "/me/clients", "family1_1")[0]
    tag = uuid.uuid4().hex[:6]
    first = _order(site, elder["id"], f"请擦窗户 {tag}")
    second = _order(site, elder["id"], f"Please mop the floor {tag}", start="14:00")
    visits = api(site, "GET", f"/me/clients/{elder['id']}/visits", "family1_1")
    assert visits, "the demo elder has visits this week"
    body = {"client_id": elder["id"], "visit_id": visits[0]["id"], "text": f"来晚了半小时 {tag}"}
    complaint = api(site, "POST", "/complaints", "family1_1", body)
    assert complaint.get("status") == "open", complaint
    return {"elder": elder, "first": first, "second": second, "complaint": complaint}


def _open(w: Watched, site: Site, user: str, lang: str, tab: str) -> None:
    w.login(user, lang)
    w.page.evaluate("document.getElementById('panel').removeAttribute('data-drawn')")
    w.page.get_by_role("navigation").get_by_role("link", name=tab).click()
    w.drawn()


def test_accept_an_order_on_a_tablet_and_the_count_follows(
    watched: Watched, site: Site, asked: dict[str, Any]
) -> None:
    page = watched.page
    page.set_viewport_size(TABLET)
    _open(watched, site, "dispatcher1", "zh", "点单与投诉")
    waiting = _pending(site, "dispatcher1")
    until(page, f"{BADGE} === '{waiting}'")
    assert page.locator("[data-pending]").get_attribute("data-pending") == str(waiting)
    order, elder = asked["first"], asked["elder"]
    card = page.locator(f"[data-order='{order['id']}']")
    text = card.inner_text()
    assert elder["name"] in text and "请擦窗户" in text and "11:30" in text
    assert f"¥{order['coverage']['copay']}" in text
    assert card.locator("[data-copay]").get_attribute("data-copay") == order["coverage"]["copay"]
    # The complaint with the visit it is about.
    complaint = page.locator(f"[data-complaint='{asked['complaint']['id']}']")
    assert "来晚了半小时" in complaint.inner_text()
    assert f"#{asked['complaint']['visit_id']}" in complaint.inner_text()
    assert page.evaluate(UNNAMED) == []

    card.get_by_role("button", name=f"受理点单 #{order['id']}（{elder['name']}）").click()
    page.get_by_label("给家属的留言（可选）").fill("周六上午阿姨上门")
    page.get_by_role("dialog").get_by_role("button", name="受理").click()
    until(page, f"!document.querySelector(\"[data-order='{order['id']}']\")")
    until(page, f"{BADGE} === '{waiting - 1}'")
    done = api(site, "GET", f"/orders/{order['id']}", "dispatcher1")
    assert done["status"] == "accepted" and done["visit_id"]
    visit = api(site, "GET", f"/visits/{done['visit_id']}", "dispatcher1")
    assert visit["date"] == site.tomorrow and visit["client_id"] == elder["id"]
    assert f"#{done['visit_id']}" in page.inner_text("#status")
    # The family sees it accepted.
    mine = api(site, "GET", f"/orders?client_id={elder['id']}", "family1_1")
    assert next(o for o in mine if o["id"] == order["id"])["status"] == "accepted"
    watched.clean()


def test_decline_and_answer_on_a_phone_in_english(
    browser: Any, site: Site, asked: dict[str, Any]
) -> None:
    context = browser.new_context(viewport=PHONE, locale="en-US", has_touch=True)
    try:
        page = context.new_page()
        page.set_default_timeout(20_000)
        w = Watched(page, site.base)
        _open(w, site, "provider1", "en", "Orders & complaints")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert page.evaluate(UNNAMED) == []
        waiting = _pending(site, "provider1")
        until(page, f"{BADGE} === '{waiting}'")
        order, elder = asked["second"], asked["elder"]
        card = page.locator(f"[data-order='{order['id']}']")
        card.get_by_role("button", name=f"Decline order #{order['id']} ({elder['name']})").click()
        # A reason is required: an empty one sends nothing.
        dialog = page.get_by_role("dialog")
        dialog.get_by_role("button", name="Decline").click()
        assert dialog.is_visible()
        page.get_by_label("Reason (the family sees it", exact=False).fill("No cleaner is free")
        dialog.get_by_role("button", name="Decline").click()
        until(page, f"!document.querySelector(\"[data-order='{order['id']}']\")")
        row = api(site, "GET", f"/orders/{order['id']}", "provider1")
        assert row["status"] == "declined" and row["decline_reason"] == "No cleaner is free"

        cid = asked["complaint"]["id"]
        box = page.locator(f"[data-complaint='{cid}']")
        box.get_by_role("button", name=f"Answer complaint #{cid} ({elder['name']})").click()
        page.get_by_label("Your answer (the family sees it)").fill("We are sorry; it was traffic.")
        page.get_by_label("Close the complaint after answering").check()
        page.get_by_role("dialog").get_by_role("button", name="Answer").click()
        until(page, f"!document.querySelector(\"[data-complaint='{cid}']\")")
        until(page, f"{BADGE} === '{waiting - 2}' || ({waiting - 2} === 0 && !{BADGE})")
        seen = api(site, "GET", f"/complaints/{cid}", "family1_1")
        assert seen["status"] == "closed" and seen["answer"] == "We are sorry; it was traffic."
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        w.clean()
    finally:
        context.close()
