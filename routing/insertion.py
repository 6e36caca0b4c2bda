"""Insertion of visits into finished routes: the cheapest feasible place for one visit, or
for a double-staffed group at one common start on different caregivers.

Used by the repair (visits the search left out), the explanation of what stays unassigned and
the urgent insertion. Every route tried is checked by `routing.schedule` (the one check of a
route's rules, which the local search calls too).
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from dataclasses import replace

from routing.context import Context, intersect
from routing.model import Route, TimeWindow, UnassignedReason, Visit
from routing.schedule import LOAD, SPAN, Item, Rules, Timing, check

R = UnassignedReason
# Common starts tried for a double-staffed visit besides each caregiver's earliest one.
GROUP_START_STEP_S = 300
GROUP_STARTS = 48
# The reason a place is refused for, by the rule the route check names (else NO_TIME).
BLOCKED_BY = {SPAN: R.MAX_WORKING_TIME, LOAD: R.CAPACITY}


def route_items(ctx: Context, route: Route, fixed: set[int]) -> list[Item]:
    """A solved route as schedulable items; visits in `fixed` keep their start time."""
    items = []
    for s in route.stops:
        if s.kind == "break":
            c = ctx.cgs[ctx.cg_index[route.caregiver_id]]
            b = next(
                (b for b in c.breaks if b.earliest_start_s <= s.start_s <= b.latest_start_s), None
            )
            ws = ((b.earliest_start_s, b.latest_start_s),) if b else ((s.start_s, s.start_s),)
            items.append(Item(None, s.end_s - s.start_s, ws))
        elif s.kind == "pickup":
            v = ctx.visits[s.visit_id]
            k = ctx.kitchens[v.kitchen_id]
            items.append(
                Item(
                    ctx.loc(k.location),
                    s.end_s - s.start_s,
                    ((k.ready_s, 10**12),),
                    key=("pickup", v.id),
                    delivers=v.id,
                    max_ride=v.max_ride_s,
                    load=v.meal_boxes,
                )
            )
        else:
            v = ctx.visits[s.visit_id]
            ws = ((s.start_s, s.start_s),) if v.id in fixed else tuple(ctx.windows(v))
            meal = ctx.is_meal(v)
            items.append(
                Item(
                    ctx.loc(v.location),
                    v.duration_s,
                    ws,
                    key=v.id,
                    load=-v.meal_boxes if meal else 0,
                    after=("pickup", v.id) if meal else None,
                )
            )
    return items


def fixed_visits(ctx: Context) -> set[int]:
    """Visits whose start may not move when something is inserted: pinned times, groups, locks."""
    out = {p.visit_id for p in ctx.problem.pins if p.start_s is not None}
    out |= {vid for g in ctx.problem.groups for vid in g.visit_ids}
    out |= set(ctx.locked_owner)
    return out


def best_insertion(
    ctx: Context,
    visit: Visit,
    routes: dict[int, Route],
    cands: list[int],
    not_before_s: int | None = None,
):
    """Cheapest feasible insertion of one plain visit: (added travel, cg index, pos, timing, item).

    Also returns how the other attempts failed, to name the reason when none fits.
    """
    fixed = fixed_visits(ctx)
    meal = bool(visit.meal_boxes) and ctx.is_meal(visit)
    item = Item(ctx.loc(visit.location), visit.duration_s, tuple(ctx.windows(visit)), key=visit.id)
    if not_before_s is not None:
        ws = [(max(a, not_before_s), b) for a, b in item.windows if b >= not_before_s]
        item = replace(item, windows=tuple(ws))
    best = None
    blocked = Counter()
    locked_len = {ctx.cg_index[lp.caregiver_id]: len(lp.visit_ids) for lp in ctx.problem.locked}
    for i in cands:
        c = ctx.cgs[i]
        route = routes.get(c.id)
        stops = route.stops if route else ()
        items = route_items(ctx, route, fixed) if route else []
        # Positions after the locked prefix and after anything already started.
        first = 0
        n_locked = locked_len.get(i, 0)
        seen_visits = 0
        for k, s in enumerate(stops):
            if s.kind == "visit":
                seen_visits += 1
            if seen_visits <= n_locked and n_locked and s.kind == "visit":
                first = k + 1
            if not_before_s is not None and s.start_s < not_before_s:
                first = max(first, k + 1)
        if not_before_s is not None:
            # Stops already started keep their times; the caregiver cannot act before now.
            items = [
                replace(it, windows=((s.start_s, s.start_s),)) if s.start_s < not_before_s else it
                for it, s in zip(items, stops, strict=True)
            ]
        sl, el = ctx.loc(c.start), ctx.loc(c.end)
        if first or (route and stops and stops[0].start_s < (not_before_s or 0)):
            earliest = route.depart_s
        else:
            earliest = not_before_s
        # Location of the caregiver before each item (breaks keep the previous place).
        where = []
        cur = sl
        for it in items:
            where.append(cur)
            if it.loc is not None:
                cur = it.loc
        where.append(cur)
        need = list(
            dict.fromkeys([sl, el, item.loc, *(it.loc for it in items if it.loc is not None)])
        )
        sub, row = ctx.submatrix(c.travel_mode, need)

        def tt(a, b, sub=sub, row=row):
            return int(sub[row[a], row[b]])

        # A meal delivery tried without its pickup leg (to explain it) needs room for its boxes
        # all along the route: the route's own loads must fit in what is left.
        rules = Rules(
            sl,
            el,
            (c.shift_start_s, c.shift_end_s),
            tt,
            c.max_work_s,
            c.box_capacity - visit.meal_boxes if meal else None,
            None,
            earliest,
        )

        for pos in range(first, len(items) + 1):
            prev = where[pos]
            nxt = next((it.loc for it in items[pos:] if it.loc is not None), el)
            added = tt(prev, item.loc) + tt(item.loc, nxt) - tt(prev, nxt)
            if best is not None and added >= best[0]:
                continue
            trial = [*items[:pos], item, *items[pos:]]
            timing = check(trial, rules)
            if not isinstance(timing, Timing):
                blocked[BLOCKED_BY.get(timing, R.NO_TIME)] += 1
                continue
            best = (added, i, pos, timing, item)
    return best, blocked


def group_insertion(
    ctx: Context,
    group: tuple[Visit, ...],
    routes: dict[int, Route],
    cands,
    until: float | None = None,
):
    """Cheapest insertion of a double-staffed group: (total added travel, [insertion per visit]).

    With `until`, stops trying starts at that time and returns the best found by then.

    Candidate common starts are the earliest start each visit could get with each of its
    caregivers inside the shared windows, plus starts every GROUP_START_STEP_S (or wider:
    about GROUP_STARTS in all) through those windows; at each, every visit is inserted with
    that start fixed, on different caregivers (each visit order is tried, groups are tiny).
    """
    common = intersect([ctx.windows(v) for v in group])
    if not common:
        return None
    shared = tuple(TimeWindow(a, b) for a, b in common)
    starts = set()
    for v in group:
        for i in cands(v):
            best, _ = best_insertion(ctx, replace(v, windows=shared), routes, [i])
            if best is not None:
                starts.add(best[3].starts[best[2]])
    step = max(GROUP_START_STEP_S, sum(b - a for a, b in common) // GROUP_STARTS + 1)
    starts.update(t for a, b in common for t in range(a, b + 1, step))
    found = None
    for s in sorted(starts):
        if until is not None and time.monotonic() > until:
            break
        for order in itertools.permutations(group):
            used: set[int] = set()
            inserts = []
            for v in order:
                best, _ = best_insertion(
                    ctx,
                    replace(v, windows=(TimeWindow(s, s),)),
                    routes,
                    [i for i in cands(v) if i not in used],
                )
                if best is None:
                    break
                used.add(best[1])
                inserts.append(best)
            else:
                total = sum(b[0] for b in inserts)
                if found is None or total < found[0]:
                    found = (total, inserts)
    return found
