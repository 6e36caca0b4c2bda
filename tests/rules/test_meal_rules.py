"""The meal rules on plain data, in flagged / not-flagged pairs (the arithmetic in comments)."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from dispatch.rules import RULES
from dispatch.rules.meals import MealContext, MealData, SlotHours

SH = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 11, 23)
LUNCH = {"lunch": SlotHours(time(10, 30), time(13, 0))}


def meal(ident: int, hh: int, mm: int, *, canteen: int = 1, slot: str = "lunch") -> MealData:
    return MealData(ident, 7, canteen, datetime(2026, 11, 23, hh, mm, tzinfo=SH), DAY, slot)


def run(code: str, m: MealData, ctx: MealContext, threshold: float | None = None) -> list:
    r = RULES[code]
    return list(r.func(m, ctx, r.default if threshold is None else threshold))


def test_duplicate_meal_flagged():
    # the same elder, lunch at canteen 1 at 11:30 and at canteen 2 at 12:10: 40 min apart
    a, b = meal(1, 11, 30), meal(2, 12, 10, canteen=2)
    ctx = MealContext(hours={}, same_slot={1: [a, b], 2: [a, b]})
    (f,) = run("DUPLICATE_MEAL", b, ctx)
    assert f.other_id == 1 and f.evidence["other_canteen_id"] == 1
    assert f.evidence["minutes_apart"] == 40 and f.evidence["slot"] == "lunch"


def test_duplicate_meal_not_flagged():
    # one lunch alone in its slot (the dinner is another slot, so not in same_slot)
    a = meal(1, 11, 30)
    assert run("DUPLICATE_MEAL", a, MealContext(hours={}, same_slot={1: [a]})) == []


def test_meal_outside_hours_flagged():
    # lunch closes 13:00; served 13:40 is 40 min outside, over the 15 min grace
    m = meal(1, 13, 40)
    (f,) = run("MEAL_OUTSIDE_HOURS", m, MealContext(hours={1: LUNCH}, same_slot={}))
    assert f.evidence["minutes_outside"] == 40 and f.evidence["closes"] == "13:00"
    # before opening: 10:00 is 30 min before 10:30
    (f,) = run("MEAL_OUTSIDE_HOURS", meal(1, 10, 0), MealContext(hours={1: LUNCH}, same_slot={}))
    assert f.evidence["minutes_outside"] == 30


def test_meal_outside_hours_not_flagged():
    ctx = MealContext(hours={1: LUNCH}, same_slot={})
    # 12:00 is inside 10:30..13:00; 13:10 is 10 min outside, within the 15 min grace
    assert run("MEAL_OUTSIDE_HOURS", meal(1, 12, 0), ctx) == []
    assert run("MEAL_OUTSIDE_HOURS", meal(1, 13, 10), ctx) == []
    # with the grace set to 5 min, 13:10 is flagged: 10 > 5
    assert len(run("MEAL_OUTSIDE_HOURS", meal(1, 13, 10), ctx, threshold=5)) == 1
