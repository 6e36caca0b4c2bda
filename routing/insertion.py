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
from routing.schedule import (
    LOAD,
    RIDE,
    SPAN,
    Item,
    Rules,
    Timing,
    bounds,
    check,
    first_start,
    latest_start,
    may_fit,
)

R = UnassignedReason
# Common starts tried for a double-staffed visit besides each caregiver's earliest one.
GROUP_START_STEP_S = 300
GROUP_STARTS = 48
# The reason a place is refused for, by the rule the route check names (else NO_TIME).
BLOCKED_BY = {SPAN: R.MAX_WORKING_TIME, LOAD: R.CAPACITY, RIDE: R.RIDE_TIME}


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
    views: dict | None = None,
):
    """Cheapest feasible insertion of one plain visit: (added travel, cg index, pos, timing, item).

    Also returns how the other attempts failed, to name the reason when none fits. `views`
    (a dict the caller keeps while routes do not change) caches each route's items and screen
    across calls.
    """
    meal = bool(visit.meal_boxes) and ctx.is_meal(visit)
    item = Item(ctx.loc(visit.location), visit.duration_s, tuple(ctx.windows(visit)), key=visit.id)
    if not_before_s is not None:
        ws = [(max(a, not_before_s), b) for a, b in item.windows if b >= not_before_s]
        item = replace(item, windows=tuple(ws))
    best = None
    blocked = Counter()
    for i in cands:
        c = ctx.cgs[i]
        route = routes.get(c.id)
        key = (i, not_before_s)
        view = views.get(key) if views is not None else None
        if view is None or view[0] is not route:
            view = _view(ctx, i, route, item.loc, not_before_s)
            if views is not None and not ctx.lazy:
                views[key] = view
        _, items, first, tt, base, screen = view
        el = base.end_loc
        # A meal delivery tried without its pickup leg (to explain it) needs room for its boxes
        # all along the route: the route's own loads must fit in what is left.
        rules = replace(base, capacity=c.box_capacity - visit.meal_boxes) if meal else base
        where = screen[2]
        for pos in range(first, len(items) + 1):
            prev = where[pos]
            nxt = next((it.loc for it in items[pos:] if it.loc is not None), el)
            added = tt(prev, item.loc) + tt(item.loc, nxt) - tt(prev, nxt)
            if best is not None and added >= best[0]:
                continue
            if not meal and not may_fit(items, screen, pos, item, rules):
                blocked[R.NO_TIME] += 1
                continue
            trial = [*items[:pos], item, *items[pos:]]
            timing = check(trial, rules)
            if not isinstance(timing, Timing):
                blocked[BLOCKED_BY.get(timing, R.NO_TIME)] += 1
                continue
            best = (added, i, pos, timing, item)
    return best, blocked


def _view(ctx: Context, i: int, route: Route | None, extra_loc: int, not_before_s: int | None):
    """A caregiver's route as insertion sees it: (route, items, first free position, travel
    function, rules, screen)."""
    c = ctx.cgs[i]
    stops = route.stops if route else ()
    if stops:
        items = route_items(ctx, route, fixed_visits(ctx))
    else:
        # An empty route: the caregiver's breaks are its only stops, placed around what goes in.
        items = [
            Item(None, b.duration_s, ((b.earliest_start_s, b.latest_start_s),)) for b in c.breaks
        ]
        stops = [None] * len(items)
    # Positions after the locked prefix and after anything already started.
    n_locked = next((len(lp.visit_ids) for lp in ctx.problem.locked if lp.caregiver_id == c.id), 0)
    first = 0
    seen_visits = 0
    for k, s in enumerate(stops):
        if s is None:
            continue
        if s.kind == "visit":
            seen_visits += 1
        if seen_visits <= n_locked and n_locked and s.kind == "visit":
            first = k + 1
        if not_before_s is not None and s.start_s < not_before_s:
            first = max(first, k + 1)
    if not_before_s is not None:
        # Stops already started keep their times; the caregiver cannot act before now.
        items = [
            replace(it, windows=((s.start_s, s.start_s),))
            if s is not None and s.start_s < not_before_s
            else it
            for it, s in zip(items, stops, strict=True)
        ]
    sl, el = ctx.loc(c.start), ctx.loc(c.end)
    if first or (route and route.stops and route.stops[0].start_s < (not_before_s or 0)):
        earliest = route.depart_s
    else:
        earliest = not_before_s
    if ctx.lazy:
        need = list(
            dict.fromkeys([sl, el, extra_loc, *(it.loc for it in items if it.loc is not None)])
        )
        sub, row = ctx.submatrix(c.travel_mode, need)

        def tt(a, b, sub=sub, row=row):
            return int(sub[row[a], row[b]])
    else:
        tt = ctx.T[c.travel_mode].item  # T.item(a, b): a Python int, without a numpy scalar

    rules = Rules(
        sl, el, (c.shift_start_s, c.shift_end_s), tt, ctx.work_limit(c), None, None, earliest
    )
    # Earliest ends, latest starts and the place before each item (breaks keep the previous
    # place): most places are refused by these alone, without a full check.
    return route, items, first, tt, rules, bounds(items, rules)


def group_insertion(
    ctx: Context,
    group: tuple[Visit, ...],
    routes: dict[int, Route],
    cands,
    until: float | None = None,
    views: dict | None = None,
    first_found: bool = False,
):
    """Cheapest insertion of a double-staffed group: (total added travel, [insertion per visit]).

    With `until`, stops trying starts at that time and returns the best found by then; with
    `first_found`, returns the first that fits (to know whether any does).

    Candidate common starts are the earliest start each visit could get with each of its
    caregivers inside the shared windows, plus starts every GROUP_START_STEP_S (or wider:
    about GROUP_STARTS in all) through those windows; at each, every visit is inserted with
    that start fixed, on different caregivers (each visit order is tried, groups are tiny).
    """
    common = intersect([ctx.windows(v) for v in group])
    if not common:
        return None
    views = {} if views is None else views
    shared = tuple(TimeWindow(a, b) for a, b in common)
    starts = set()

    def insert(v, cands_v, windows):
        """The member's best place with these windows; a meal goes in with its pickup."""
        if ctx.is_meal(v):
            return pair_insertion(ctx, replace(v, windows=windows), routes, cands_v, views)[0]
        return best_insertion(ctx, replace(v, windows=windows), routes, cands_v, views=views)[0]

    if len(group) == 2:
        return _pair_of_caregivers(ctx, group, routes, cands, common, views, insert, until)

    for v in group:
        for i in cands(v):
            best = insert(v, [i], shared)
            if best is not None:
                at = best[2][1] + 1 if isinstance(best[2], tuple) else best[2]
                starts.add(best[3].starts[at])
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
                best = insert(v, [i for i in cands(v) if i not in used], (TimeWindow(s, s),))
                if best is None:
                    break
                used.add(best[1])
                inserts.append(best)
            else:
                total = sum(b[0] for b in inserts)
                if found is None or total < found[0]:
                    found = (total, inserts)
                    if first_found:
                        return found
    return found


def _start_ranges(ctx: Context, v: Visit, i: int, routes, common, views):
    """Where visit v could go in caregiver i's route: (estimated added travel, earliest start,
    latest start) per gap, by the route's earliest ends and latest starts alone (necessary,
    not sufficient: each choice is then checked in full)."""
    c = ctx.cgs[i]
    route = routes.get(c.id)
    vl = ctx.loc(v.location)
    view = views.get((i, None))
    if view is None or view[0] is not route:
        view = views[(i, None)] = _view(ctx, i, route, vl, None)
    _, items, first, tt, rules, (ends, latest, where) = view
    meal = ctx.kitchens.get(v.kitchen_id) if ctx.is_meal(v) else None
    n = len(items)
    depart0 = rules.shift[0] if rules.earliest_depart is None else rules.earliest_depart
    out = []
    for g in range(first, n + 1):
        t = ends[g - 1] if g else max(rules.shift[0], depart0)
        arrivals = [t + tt(where[g], vl)]
        extra = 0
        if meal is not None:
            # Loading just before (the kitchen on the way) or earlier in the route (then this
            # gap's earliest arrival is a bound only): both starts are candidates.
            kl = ctx.loc(meal.location)
            arrivals.append(max(t + tt(where[g], kl), meal.ready_s) + meal.pickup_s + tt(kl, vl))
            extra = tt(where[g], kl) + tt(kl, vl) - tt(where[g], vl)
        los = [x for x in (first_start(a, common) for a in arrivals) if x is not None]
        if not los:
            continue
        if g == n:
            nxt, bound = rules.end_loc, rules.shift[1]
        elif items[g].loc is not None:
            nxt, bound = items[g].loc, latest[g]
        else:  # a break next: the legs after it change; no latest test
            nxt, bound = (
                next((it.loc for it in items[g:] if it.loc is not None), rules.end_loc),
                None,
            )
        hi = latest_start((10**15 if bound is None else bound - tt(vl, nxt)) - v.duration_s, common)
        added = tt(where[g], vl) + tt(vl, nxt) - tt(where[g], nxt) + extra
        out += [(added, lo, hi) for lo in los if lo <= hi]
    return out


# Places per visit of a double-staffed pair tried first (cheapest estimates); all of them only
# if none of these pairs fits.
PAIR_PLACES = 60


def _pair_of_caregivers(ctx, group, routes, cands, common, views, insert, until):
    """Cheapest insertion of a two-visit group: pairs of places on two caregivers whose start
    ranges meet, cheapest estimate first, each checked in full at the earliest common start;
    the PAIR_PLACES cheapest places of each visit first, then all of them."""
    v1, v2 = group
    places = []
    for v in group:
        mine = []
        for i in cands(v):
            mine += [
                (a, lo, hi, i) for a, lo, hi in _start_ranges(ctx, v, i, routes, common, views)
            ]
        mine.sort()
        places.append(mine)
    tried = set()
    for k in (PAIR_PLACES, None):
        options = []
        for n, (a1, lo1, hi1, i1) in enumerate(places[0][:k]):
            if n % 256 == 0 and until is not None and time.monotonic() > until:
                return None
            for a2, lo2, hi2, i2 in places[1][:k]:
                s = lo1 if lo1 > lo2 else lo2
                if i1 != i2 and s <= hi1 and s <= hi2:
                    options.append((a1 + a2, s, i1, i2))
        options.sort()
        for _, s, i1, i2 in options:
            if (s, i1, i2) in tried:
                continue
            tried.add((s, i1, i2))
            if until is not None and time.monotonic() > until:
                return None
            b1 = insert(v1, [i1], (TimeWindow(s, s),))
            b2 = None if b1 is None else insert(v2, [i2], (TimeWindow(s, s),))
            if b1 is not None and b2 is not None:
                return (b1[0] + b2[0], [b1, b2])
        if k is None or all(len(p) <= k for p in places):
            break
    return None


def pair_insertion(
    ctx: Context,
    visit: Visit,
    routes: dict[int, Route],
    cands: list[int],
    views: dict | None = None,
):
    """Cheapest insertion of a meal delivery with its kitchen pickup somewhere before it:
    (added travel, cg index, (pickup position, delivery position), timing, (pickup, delivery)),
    and how the other attempts failed. The positions are those in the route before insertion.
    """
    k = ctx.kitchens[visit.kitchen_id]
    kl, vl = ctx.loc(k.location), ctx.loc(visit.location)
    pick = Item(
        kl,
        k.pickup_s,
        ((k.ready_s, 10**12),),
        key=("pickup", visit.id),
        delivers=visit.id,
        max_ride=visit.max_ride_s,
        load=visit.meal_boxes,
    )
    drop = Item(
        vl,
        visit.duration_s,
        tuple(ctx.windows(visit)),
        key=visit.id,
        load=-visit.meal_boxes,
        after=("pickup", visit.id),
    )
    best = None
    blocked = Counter()
    for i in cands:
        c = ctx.cgs[i]
        route = routes.get(c.id)
        view = views.get((i, None)) if views is not None else None
        if view is None or view[0] is not route:
            view = _view(ctx, i, route, kl, None)
            if views is not None and not ctx.lazy:
                views[(i, None)] = view
        _, items, first, tt, base, screen = view
        rules = replace(base, capacity=c.box_capacity)
        where, n = screen[2], len(items)
        nxt = [base.end_loc] * (n + 1)  # the next place after each gap
        located = [0] * (n + 1)  # located items before each gap
        for g in range(n - 1, -1, -1):
            nxt[g] = items[g].loc if items[g].loc is not None else nxt[g + 1]
        for g in range(n):
            located[g + 1] = located[g] + (items[g].loc is not None)
        # The delivery must fit where it goes even without the pickup before it (which only
        # delays it): most gaps fail that.
        fits_d = [may_fit(items, screen, d, drop, rules) for d in range(n + 1)]
        if not any(fits_d[first:]):
            blocked[R.NO_TIME] += 1
            continue
        for p in range(first, n + 1):
            if not may_fit(items, screen, p, pick, rules):
                blocked[R.NO_TIME] += 1
                continue
            into = tt(where[p], kl)
            for d in range(p, n + 1):
                if not fits_d[d]:
                    continue
                if located[d] == located[p]:  # nothing located between: kitchen, then client
                    added = into + tt(kl, vl) + tt(vl, nxt[d]) - tt(where[p], nxt[d])
                else:
                    added = into + tt(kl, nxt[p]) - tt(where[p], nxt[p])
                    added += tt(where[d], vl) + tt(vl, nxt[d]) - tt(where[d], nxt[d])
                if best is not None and added >= best[0]:
                    continue
                trial = [*items[:p], pick, *items[p:d], drop, *items[d:]]
                timing = check(trial, rules)
                if not isinstance(timing, Timing):
                    blocked[BLOCKED_BY.get(timing, R.NO_TIME)] += 1
                    continue
                best = (added, i, (p, d), timing, (pick, drop))
    return best, blocked
