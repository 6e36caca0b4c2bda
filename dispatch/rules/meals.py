"""Rules about canteen meals (subject ``meal``), run by ``dispatch.services.meals`` when a meal
is recorded; they see plain data, never a session. ``Finding.work_order_id`` holds the meal's id
and ``other_id`` the other meal of a pair."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time

from dispatch.config import zone
from dispatch.rules.registry import Finding, rule

MEAL = "meal"


@dataclass(frozen=True, slots=True)
class MealData:
    id: int
    client_id: int
    canteen_id: int
    served_at: datetime
    day: date
    slot: str

    @property
    def local_time(self) -> time:
        return self.served_at.astimezone(zone()).time()


@dataclass(frozen=True, slots=True)
class SlotHours:
    start: time
    end: time


@dataclass
class MealContext:
    """What the meal rules read: each canteen's hours per slot, and the elder's other meals in
    the same slot of the same day (at any canteen)."""

    hours: Mapping[int, Mapping[str, SlotHours]]
    same_slot: Mapping[int, Sequence[MealData]]
    thresholds: dict[str, float | None] = field(default_factory=dict)


@rule("DUPLICATE_MEAL", severity="block", pairwise=True, zh="同一餐次重复就餐", subject=MEAL)
def duplicate_meal(m: MealData, ctx: MealContext, _t: None) -> Iterator[Finding]:
    """The same elder was served twice in one slot of one day, at any canteen."""
    for other in ctx.same_slot.get(m.id, ()):
        if other.id == m.id:
            continue
        yield Finding(
            m.id,
            "DUPLICATE_MEAL",
            {
                "client_id": m.client_id,
                "day": m.day.isoformat(),
                "slot": m.slot,
                "canteen_id": m.canteen_id,
                "served_at": m.served_at.astimezone(zone()).isoformat(),
                "other_meal_id": other.id,
                "other_canteen_id": other.canteen_id,
                "other_served_at": other.served_at.astimezone(zone()).isoformat(),
                "minutes_apart": round(abs((m.served_at - other.served_at).total_seconds()) / 60),
            },
            other.id,
        )


def _minutes(t: time) -> float:
    return t.hour * 60 + t.minute + t.second / 60


@rule(
    "MEAL_OUTSIDE_HOURS",
    severity="review",
    default=15,
    unit="min",
    low=0,
    high=180,
    zh="不在助餐点供餐时间内",
    subject=MEAL,
)
def meal_outside_hours(m: MealData, ctx: MealContext, grace_min: float) -> Iterator[Finding]:
    """The meal was served outside its canteen's hours for the slot, by more than the grace."""
    hours = ctx.hours.get(m.canteen_id, {}).get(m.slot)
    if hours is None:
        return
    at, opens, closes = _minutes(m.local_time), _minutes(hours.start), _minutes(hours.end)
    outside = max(opens - at, at - closes, 0.0)
    if outside > grace_min:
        yield Finding(
            m.id,
            "MEAL_OUTSIDE_HOURS",
            {
                "slot": m.slot,
                "served_at": m.served_at.astimezone(zone()).isoformat(),
                "opens": hours.start.strftime("%H:%M"),
                "closes": hours.end.strftime("%H:%M"),
                "minutes_outside": round(outside, 1),
                "grace_min": grace_min,
            },
        )
