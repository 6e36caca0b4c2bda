"""Judging one caregiver's route as a person edited it: the optimiser's own route check.

A dispatcher who moves a visit by hand asks "does this caregiver's day still keep the rules?".
`check_route` answers with `routing.schedule.check`, the one check every stage of the optimiser
calls, on the stops in the given order: windows, the shift (home again by its end) and the
maximum working time (leaving home to coming back, overtime allowed included). Stops that must
not move are given a window of one instant.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from routing.model import Caregiver, Location, TimeWindow
from routing.schedule import SHIFT, SPAN, WINDOW, Item, Rules, check
from routing.travel import TravelModel

# What check_route reports as broken (the names routing.schedule uses).
BROKEN_WINDOW, BROKEN_SHIFT, BROKEN_WORKING_TIME = WINDOW, SHIFT, SPAN


@dataclass(frozen=True)
class RouteStop:
    """A stop in a caregiver's route: location None is a break, taken where the caregiver is."""

    location: Location | None
    windows: tuple[TimeWindow, ...]
    duration_s: int


@dataclass(frozen=True)
class RouteVerdict:
    """``broken`` is None when the route keeps every rule, else the first rule it breaks
    (``"window"``, ``"shift"`` or ``"span"``, the maximum working time). The times are those of
    the route timed as early as its windows allow, whatever the verdict on the working time:
    ``work_s`` is its return minus its departure, the figure the limit is judged on. They are
    None when a window or the shift is broken. ``arrivals_s`` and ``starts_s`` are each stop's
    arrival and start in that timing (empty when a window or the shift is broken)."""

    broken: str | None
    depart_s: int | None = None
    return_s: int | None = None
    work_s: int | None = None
    limit_s: int | None = None
    arrivals_s: tuple[int, ...] = ()
    starts_s: tuple[int, ...] = ()


def check_route(
    caregiver: Caregiver,
    stops: Sequence[RouteStop],
    travel: TravelModel,
    overtime_cap_s: int = 0,
) -> RouteVerdict:
    """Does ``caregiver``'s route through ``stops`` (in this order) keep the router's rules?"""
    places = [caregiver.start, caregiver.end, *[s.location for s in stops if s.location]]
    index: dict[Location, int] = {}
    for p in places:
        index.setdefault(p, len(index))
    locs = list(index)
    seconds = travel.matrix(locs, locs, caregiver.travel_mode).seconds
    items = [
        Item(
            loc=None if s.location is None else index[s.location],
            duration=s.duration_s,
            windows=tuple((w.start_s, w.end_s) for w in s.windows),
        )
        for s in stops
    ]
    limit = None if caregiver.max_work_s is None else caregiver.max_work_s + overtime_cap_s
    rules = Rules(
        start_loc=index[caregiver.start],
        end_loc=index[caregiver.end],
        shift=(caregiver.shift_start_s, caregiver.shift_end_s),
        tt=lambda a, b: int(seconds[a, b]),
    )
    free = check(items, rules)
    if isinstance(free, str):
        return RouteVerdict(free, limit_s=limit)
    work = free.ret - free.depart
    broken = None
    if limit is not None:
        bounded = check(items, replace(rules, max_span=limit))
        broken = bounded if isinstance(bounded, str) else None
    return RouteVerdict(
        broken, free.depart, free.ret, work, limit, tuple(free.arrivals), tuple(free.starts)
    )
