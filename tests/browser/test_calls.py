"""The dispatcher's emergency calls in the browser: a pendant's call shows up by itself with its
clock and is dispatched into the day; a phoned-in call is typed, escalated and closed."""

from __future__ import annotations

import json
import re
import urllib.request
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest

from dispatch import config
from tests.browser.conftest import Site, Watched, until
from tests.browser.test_console import api

pytestmark = pytest.mark.browser


def _press(site: Site, key: str, kind: str) -> Any:
    """A pendant's press: its own key, no login."""
    req = urllib.request.Request(  # noqa: S310
        f"{site.base}/api/v1/calls",
        method="POST",
        data=json.dumps(
            {
                "kind": kind,
                "idempotency_key": str(uuid.uuid4()),
                "device_time": datetime.now(config.zone()).isoformat(),
            }
        ).encode(),
        headers={"X-Device-Key": key, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req) as r:  # noqa: S310
        return json.load(r)


def test_a_pendant_call_shows_up_and_is_dispatched_into_the_day(
    watched: Watched, site: Site
) -> None:
    client = api(site, "GET", "/clients?page_size=1", "dispatcher1")[0]
    device = api(
        site,
        "POST",
        "/devices",
        "dispatcher1",
        {"kind": "pendant", "client_id": client["id"], "label": "test pendant"},
    )
    page = watched.page
    page.set_viewport_size({"width": 1024, "height": 1400})
    watched.login("dispatcher1")  # lands on the day, the calls on top
    strip = page.locator(".calls-strip")
    strip.wait_for()
    # The pendant is pressed after the page loaded: the call comes in without a reload.
    call = _press(site, device["key"], "sos")
    card = page.locator(f".call-card[data-call='{call['id']}']")
    card.wait_for(timeout=30_000)
    assert "SOS" in card.inner_text() and client["name"] in card.inner_text()
    assert re.search(r"已等 \d+:\d\d · 剩 \d+:\d\d", card.inner_text()), card.inner_text()
    assert page.locator("#tabs a[href='#/calls'] .tab-badge").inner_text() == "1"
    card.click()
    file = page.locator(f"[data-call-file='{call['id']}']")
    assert client["address"] in file.inner_text()
    proposal = api(site, "GET", f"/calls/{call['id']}", "dispatcher1")["proposal"]
    if proposal:  # caregivers at work now: the proposal, confirmed as it is
        file.get_by_role("button", name="确认派单").click()
    else:  # nobody working now (evening): a caregiver and an arrival chosen by hand
        file.get_by_role("button", name="改派其他护理员").click()
        dialog = page.get_by_role("dialog")
        # (Typed after 23:45 it reads the next morning: the console dates it after the call.)
        at = datetime.now(config.zone()) + timedelta(minutes=15)
        dialog.get_by_label("预计到达").fill(at.strftime("%H:%M"))
        dialog.get_by_role("button", name="确认派单").click()
    page.wait_for_selector("#status.ok")
    after = api(site, "GET", f"/calls/{call['id']}", "dispatcher1")
    assert after["status"] == "dispatched"
    # The urgent visit is in the day's timeline, on the caregiver's row, in red.
    bar = page.locator(f".tl-bar.urgent[data-item='v{after['visit_id']}-{after['caregiver_id']}']")
    bar.wait_for()
    until(page, f"!document.querySelector(\".call-card[data-call='{call['id']}'].c-open\")")
    watched.clean()


def test_a_phoned_in_call_is_typed_escalated_and_closed(watched: Watched, site: Site) -> None:
    client = api(site, "GET", "/clients?page_size=2", "dispatcher1")[1]
    page = watched.page
    page.set_viewport_size({"width": 390, "height": 844})
    watched.login("dispatcher1", lang="en", screen="calls")
    page.get_by_role("button", name="Take a phone call").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Find the elder").fill(client["name"])
    elder = dialog.locator("select[name=client]")  # its name holds the chosen elder too
    until(page, f"!!document.querySelector('dialog option[value=\"{client['id']}\"]')")
    elder.select_option(str(client["id"]))
    dialog.get_by_label("Kind of call").select_option("fall")
    dialog.get_by_label("What the caller said").fill("Fell in the bathroom, cannot get up")
    dialog.get_by_role("button", name="Take a phone call").click()
    file = page.locator(".call-file")
    file.wait_for()
    assert "Fall" in file.inner_text() and client["name"] in file.inner_text()
    assert "Fell in the bathroom" in file.inner_text()
    call_id = int(file.get_attribute("data-call-file"))
    file.get_by_role("button", name="Escalate").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Escalate to").select_option("120")
    dialog.get_by_label("Note").fill("Ambulance called, about 10 minutes away")
    dialog.get_by_role("button", name="Escalate").click()
    page.locator(".call-file", has_text="escalated to 120 (ambulance): Ambulance called").wait_for()
    call = api(site, "GET", f"/calls/{call_id}", "dispatcher1")
    assert call["status"] == "escalated" and call["source"] == "dispatcher"
    assert call["escalations"][-1]["to"] == "120"
    assert call["escalations"][-1]["note"] == "Ambulance called, about 10 minutes away"
    file.get_by_role("button", name="Close").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Outcome").select_option("hospital")
    dialog.get_by_role("button", name="Close").last.click()
    page.locator(f"tr[data-call='{call_id}']").wait_for()
    assert api(site, "GET", f"/calls/{call_id}", "dispatcher1")["outcome"] == "hospital"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    watched.clean()
