"""The console's shell: each role lands on its own screen, a role without one is told what its
login is for, the header and the timelines on a phone, a failed plan in the reader's language."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from dispatch import error_codes
from dispatch.models import DayPlan, PlanStatus, User
from dispatch.services import proposals
from tests.browser.conftest import Site, Watched

pytestmark = pytest.mark.browser


def _same_line(page: Any, *selectors: str) -> bool:
    boxes = [page.locator(s).bounding_box() for s in selectors]
    middles = [b["y"] + b["height"] / 2 for b in boxes]
    return max(middles) - min(middles) < 4


def test_a_login_without_a_screen_is_told_what_it_is_for(watched: Watched) -> None:
    page = watched.page
    page.set_viewport_size({"width": 390, "height": 844})
    watched.login("caregiver1_1", lang="en")
    panel = page.locator("#panel")
    assert "no screen in the console" in panel.inner_text()
    assert "caregiver app on the phone" in panel.inner_text()
    assert page.get_by_role("navigation").get_by_role("link").count() == 0
    page.get_by_role("button", name="Switch to Chinese").click()
    assert "护理员 App" in panel.inner_text()
    # The header holds on one line at phone size, the log-out button beside the language.
    assert _same_line(page, "#who", "#lang", "#logout")
    panel.get_by_role("button", name="退出登录").click()
    page.locator("#login-form").wait_for()
    watched.clean()


def test_phone_header_and_timelines_open_at_working_hours(watched: Watched, site: Site) -> None:
    page = watched.page
    page.set_viewport_size({"width": 390, "height": 844})
    # Tomorrow's plan is proposed (no "now" line): the day opens at the first shift's start.
    watched.login("dispatcher1", screen=f"day?date={site.tomorrow}")
    assert _same_line(page, ".brand", "#who", "#lang", "#logout")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # The earliest shift's band begins right of the names, inside the scroll box.
    scroll = page.locator(".tl-scroll").bounding_box()
    names = page.locator(".tl-corner").bounding_box()
    first = min(b.bounding_box()["x"] for b in page.locator(".tl-shift").all())
    assert names["x"] + names["width"] <= first < scroll["x"] + scroll["width"] - 100, first
    # The board of a past day (no "now" either): at 07:00, not at midnight.
    watched.page.evaluate("document.getElementById('panel').removeAttribute('data-drawn')")
    page.goto(f"{site.base}/#/board?date={site.yesterday}")
    watched.drawn()
    _tick_in_view(page, "07:00")
    watched.clean()


def _tick_in_view(page: Any, label: str) -> None:
    """The hour tick ``label`` is right of the names and inside the scroll box."""
    scroll = page.locator(".tl-scroll").bounding_box()
    names = page.locator(".tl-corner").bounding_box()
    tick = page.locator(".tl-tick", has_text=re.compile(f"^{label}$")).first.bounding_box()
    assert names["x"] + names["width"] <= tick["x"], (label, tick, names)
    assert tick["x"] + tick["width"] <= scroll["x"] + scroll["width"], (label, tick, scroll)


def test_a_failed_plan_says_why_in_the_readers_language(watched: Watched, site: Site) -> None:
    day = date.fromisoformat(site.tomorrow) + timedelta(days=3)
    engine = create_engine(site.facts["database_url"])
    with Session(engine) as session:
        user = session.scalars(select(User).where(User.username == "dispatcher1")).one()
        plan = DayPlan(provider_id=user.provider_id, date=day, status=PlanStatus.optimizing)
        session.add(plan)
        session.flush()
        proposals.mark_failed(session, plan.id, error_codes.PLAN_JOB_LOST("timeout"))
        session.commit()
    engine.dispose()
    watched.login("dispatcher1", lang="en", screen=f"day?date={day.isoformat()}")
    banner = watched.page.locator(".banner.bad[data-code='PLAN_JOB_LOST']")
    assert "did not finish in time" in banner.inner_text()
    watched.page.get_by_role("button", name="Switch to Chinese").click()
    watched.drawn()
    assert "优化未能在时限内完成" in banner.inner_text()
    watched.clean()
