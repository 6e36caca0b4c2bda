"""The one check of a route's rules, with its timing: every stage that changes routes calls it.

`check(items, rules)` times the items in order (each service as early as its windows allow,
the caregiver leaving as late as the first stop allows, later still if waiting inside the
route would otherwise break the maximum working time) and refuses the route, with the rule it
breaks, on: an item's allowed caregivers, a window, the load (meal boxes or demand), the shift
end, the maximum working time, a meal delivered before its pickup or later than its ride
allows. The local search (`routing.localsearch`), the repair and the insertion
(`routing.insertion`), the break placement and the timing of decomposed routes
(`routing.extract`) all call it; only the OR-Tools model (`routing.solver`) states the same
rules declaratively.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# What check() refuses a route for.
ALLOWED, WINDOW, LOAD, SHIFT, SPAN, ORDER, RIDE = (
    "allowed",
    "window",
    "load",
    "shift",
    "span",
    "order",
    "ride",
)


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
    load: int = 0  # change of the load here (+ boxes at a pickup, - at the delivery)
    allowed: frozenset | None = None  # caregivers (Rules.vehicle) allowed; None: anyone
    after: object = None  # key of an item that must come earlier in the route (its pickup)


@dataclass(frozen=True)
class Rules:
    """What one caregiver's route must keep."""

    start_loc: int
    end_loc: int
    shift: tuple[int, int]
    tt: Callable[[int, int], int]
    max_span: int | None = None
    capacity: int | None = None  # None: loads are not checked
    vehicle: object = None  # matched against Item.allowed
    earliest_depart: int | None = None


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


def check(items: list[Item], rules: Rules) -> Timing | str:
    """The route's timing if it keeps every rule, else the rule it breaks (ALLOWED, ...)."""
    shift, tt = rules.shift, rules.tt
    t = shift[0] if rules.earliest_depart is None else max(shift[0], rules.earliest_depart)
    here = rules.start_loc
    arrivals, starts = [], []
    travel_total = 0
    first_leg = None
    load, cap, vehicle = 0, rules.capacity, rules.vehicle
    for item in items:
        if item.allowed is not None and vehicle not in item.allowed:
            return ALLOWED
        leg = 0 if item.loc is None else tt(here, item.loc)
        arrival = t + leg
        s = first_start(arrival, item.windows)
        if s is None:
            return WINDOW
        if cap is not None and item.load:
            load += item.load
            if load > cap or load < 0:
                return LOAD
        if first_leg is None and item.loc is not None:
            first_leg = leg
        arrivals.append(arrival)
        starts.append(s)
        travel_total += leg
        t = s + item.duration
        if item.loc is not None:
            here = item.loc
    leg = tt(here, rules.end_loc)
    ret = t + leg
    travel_total += leg
    if ret > shift[1]:
        return SHIFT
    # Leave as late as the first stop allows: the caregiver need not wait at a client's door.
    depart = shift[0] if rules.earliest_depart is None else max(shift[0], rules.earliest_depart)
    if items and first_leg is not None and items[0].loc is not None:
        depart = max(depart, starts[0] - first_leg)
    max_span = rules.max_span
    if max_span is not None and ret - depart > max_span:
        # Starting the route later absorbs waiting inside it: delay the first start just
        # enough, if the waiting and every stop's window (the one it starts in) allow.
        shifts = later_by(items, arrivals, starts, ret - depart - max_span)
        if shifts is None:
            return SPAN
        prev = 0
        for i in range(len(items)):
            if i > 0:
                arrivals[i] += prev  # the previous stop ends later by its own shift
            starts[i] += shifts[i]
            prev = shifts[i]
        depart += shifts[0]
        if first_leg is not None and items[0].loc is not None:
            arrivals[0] = max(arrivals[0], depart + first_leg)
    # Meal pickups before their deliveries, within the ride time.
    pos = None
    for i, item in enumerate(items):
        if item.delivers is None and item.after is None:
            continue
        if pos is None:
            pos = {it.key: k for k, it in enumerate(items) if it.key is not None}
        if item.after is not None and pos.get(item.after, len(items)) > i:
            return ORDER
        if item.delivers is not None:
            j = pos.get(item.delivers)
            if j is None or j < i:
                return ORDER
            ride = starts[j] - (starts[i] + item.duration)
            if item.max_ride is not None and ride > item.max_ride:
                # Load later: the waiting up to the delivery absorbs the ride's excess, if
                # every stop in between keeps its window; the delivery keeps its start.
                shifts = later_by(
                    items[i : j + 1], arrivals[i : j + 1], starts[i : j + 1], ride - item.max_ride
                )
                if shifts is None:
                    return RIDE
                for k, d in enumerate(shifts):
                    if k:
                        arrivals[i + k] += shifts[k - 1]
                    starts[i + k] += d
                if i == 0 and first_leg is not None and items[0].loc is not None:
                    depart += shifts[0]  # the caregiver leaves later instead of waiting there
                    arrivals[0] = max(arrivals[0], depart + first_leg)
    if pos is not None:
        # A later load may lengthen another meal's ride: every ride once more, as they are.
        for i, item in enumerate(items):
            if item.delivers is not None and item.max_ride is not None:
                j = pos[item.delivers]
                if starts[j] - (starts[i] + item.duration) > item.max_ride:
                    return RIDE
    return Timing(arrivals, starts, depart, ret, travel_total)


def latest_start(bound: int, windows) -> int:
    """The latest start at or before bound inside one of the windows (very small if none)."""
    best = -(10**15)
    for a, b in windows:
        if a <= bound and min(b, bound) > best:
            best = min(b, bound)
    return best


def bounds(items: list[Item], rules: Rules) -> tuple[list[int], list[int], list[int]]:
    """For a quick screen of insertions (Savelsbergh): per item its earliest end and latest
    start, and the caregiver's place before it (one more entry: before the way home).

    An item inserted at position p, arriving after the earliest end of item p-1 and then
    unable to start item p (a located one) by its latest start, cannot fit: check() would
    refuse it too. The maximum working time and loads are left to check().
    """
    shift, tt = rules.shift, rules.tt
    t = shift[0] if rules.earliest_depart is None else max(shift[0], rules.earliest_depart)
    here = rules.start_loc
    where, ends = [], []
    for item in items:
        where.append(here)
        arrival = t + (0 if item.loc is None else tt(here, item.loc))
        s = first_start(arrival, item.windows)
        t = (arrival if s is None else s) + item.duration
        ends.append(t)
        if item.loc is not None:
            here = item.loc
    where.append(here)
    latest = [0] * len(items)
    bound = shift[1] - tt(here, rules.end_loc)
    for k in range(len(items) - 1, -1, -1):
        item = items[k]
        latest[k] = latest_start(bound - item.duration, item.windows)
        # The way into item k, from the place before it.
        bound = latest[k] - (0 if item.loc is None else tt(where[k], item.loc))
    return ends, latest, where


def may_fit(items: list[Item], screen, pos: int, item: Item, rules: Rules) -> bool:
    """False if `item` inserted at `pos` cannot fit in time, by `bounds(items, rules)` alone."""
    ends, latest, where = screen
    if pos:
        t = ends[pos - 1]
    else:
        t = (
            rules.shift[0]
            if rules.earliest_depart is None
            else max(rules.shift[0], rules.earliest_depart)
        )
    tt = rules.tt
    start = first_start(t + tt(where[pos], item.loc), item.windows)
    if start is None:
        return False
    done = start + item.duration
    if pos == len(items):
        return done + tt(item.loc, rules.end_loc) <= rules.shift[1]
    nxt = items[pos]
    # Before a break the legs after it change (the break is taken here): no latest test.
    return nxt.loc is None or done + tt(item.loc, nxt.loc) <= latest[pos]


def schedule(
    items: list[Item],
    start_loc: int,
    end_loc: int,
    shift: tuple[int, int],
    tt: Callable[[int, int], int],
    max_span: int | None = None,
    earliest_depart: int | None = None,
) -> Timing | None:
    """`check` without loads or allowed caregivers: the timing, or None if a rule fails."""
    out = check(items, Rules(start_loc, end_loc, shift, tt, max_span, None, None, earliest_depart))
    return out if isinstance(out, Timing) else None


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
