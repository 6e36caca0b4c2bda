"""Forward scheduling of a route's stops, used to insert a visit and to explain a dropped one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Item:
    """One stop of a route to schedule: loc None means "where the caregiver is" (a break)."""

    loc: int | None
    duration: int
    windows: tuple[tuple[int, int], ...]
    key: object = None
    # For a pickup: the key of its delivery and the maximum ride from leaving here to delivery.
    delivers: object = None
    max_ride: int | None = None


@dataclass(frozen=True)
class Timing:
    arrivals: list[int]
    starts: list[int]
    depart: int
    ret: int
    travel: int


def first_start(arrival: int, windows) -> int | None:
    for a, b in windows:
        if arrival <= b:
            return max(a, arrival)
    return None


def schedule(
    items: list[Item],
    start_loc: int,
    end_loc: int,
    shift: tuple[int, int],
    tt: Callable[[int, int], int],
    max_span: int | None = None,
    earliest_depart: int | None = None,
) -> Timing | None:
    """Earliest feasible start times for items in this order; None if a window or limit fails."""
    t = shift[0] if earliest_depart is None else max(shift[0], earliest_depart)
    here = start_loc
    arrivals, starts = [], []
    travel_total = 0
    first_travel = None
    for item in items:
        leg = 0 if item.loc is None else tt(here, item.loc)
        arrival = t + leg
        s = first_start(arrival, item.windows)
        if s is None:
            return None
        if first_travel is None and item.loc is not None:
            first_travel = (arrival, leg)
        arrivals.append(arrival)
        starts.append(s)
        travel_total += leg
        t = s + item.duration
        if item.loc is not None:
            here = item.loc
    leg = tt(here, end_loc)
    ret = t + leg
    travel_total += leg
    if ret > shift[1]:
        return None
    # Leave as late as the first stop allows: the caregiver need not wait at a client's door.
    depart = shift[0] if earliest_depart is None else max(shift[0], earliest_depart)
    if items and first_travel is not None:
        depart = max(depart, starts[0] - first_travel[1]) if items[0].loc is not None else depart
    if max_span is not None and ret - depart > max_span:
        # Starting the route later absorbs waiting inside it: delay the first start just
        # enough, if the waiting and every stop's window (the one it starts in) allow.
        shifts = later_by(items, arrivals, starts, ret - depart - max_span)
        if shifts is None:
            return None
        prev = 0
        for i in range(len(items)):
            if i > 0:
                arrivals[i] += prev  # the previous stop ends later by its own shift
            starts[i] += shifts[i]
            prev = shifts[i]
        depart += shifts[0]
        if first_travel is not None and items[0].loc is not None:
            arrivals[0] = max(arrivals[0], depart + first_travel[1])
    # Ride times of meal deliveries picked up on this route.
    pos = {item.key: i for i, item in enumerate(items) if item.key is not None}
    for i, item in enumerate(items):
        if item.delivers is not None and item.max_ride is not None:
            j = pos.get(item.delivers)
            if j is not None and starts[j] - (starts[i] + item.duration) > item.max_ride:
                return None
    return Timing(arrivals, starts, depart, ret, travel_total)


def later_by(items, arrivals, starts, need: int) -> list[int] | None:
    """Shift of each start when the first one moves `need` later; None if a window forbids it.

    A stop's start moves by what is left of `need` after the waiting before it (from the
    second stop on) has absorbed it; the return home does not move once all is absorbed.
    """
    waited = 0
    shifts = []
    for i, item in enumerate(items):
        if i > 0:
            waited += starts[i] - arrivals[i]
        shift = max(0, need - waited)
        end = next(b for a, b in item.windows if a <= starts[i] <= b)
        if starts[i] + shift > end:
            return None
        shifts.append(shift)
    if need > waited:
        return None  # the return home would move as much as the start: no span saved
    return shifts
