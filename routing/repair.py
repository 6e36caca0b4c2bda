"""Repair: insert the visits the search left out where a feasible place still exists."""

from __future__ import annotations

import logging
import time

from routing.context import Context
from routing.extract import to_route
from routing.insertion import (
    best_insertion,
    fixed_visits,
    group_insertion,
    pair_insertion,
    route_items,
)
from routing.instance import PICKUP, VISIT, RawRoute
from routing.model import Route, Unassigned, UnassignedReason, Visit
from routing.modelbuild import Built
from routing.schedule import Item

log = logging.getLogger(__name__)
R = UnassignedReason
# Inserting what the search left out gets its own bound before the explanation.
REPAIR_BUDGET_S = 2.0


def repair(
    ctx: Context,
    built: Built,
    routes: list[Route],
    eligible: dict[int, list[int]],
    out: dict[int, Unassigned],
    until: float,
) -> int:
    """Insert visits the search left out where best_insertion finds a feasible place.

    Greedy: among the highest priority left, the visit (or double-staffed group) with the
    cheapest added travel goes first; each changed route is re-timed by `schedule` (the code
    that times inserted visits and late breaks) and rebuilt by `_route`. A group's visits go to
    different caregivers at one common start. A meal delivery goes in with its kitchen pickup
    before it, within its ride time (`pair_insertion`). An empty route gets its caregiver's
    breaks with what goes in; a caregiver whose route lacks some of their breaks is not
    offered, so no break goes missing. Returns how many visits were
    inserted; `routes` is updated in place.
    """
    served = {s.visit_id for r in routes for s in r.stops if s.kind == "visit"}

    def open_(vid, partner_dropped=False):
        # A placed half of a group dropped for want of its partner may come back with it.
        left = vid not in out or (partner_dropped and out[vid].reason is R.GROUP_PARTNER_UNASSIGNED)
        return eligible.get(vid) and vid not in served and left

    group_of = {vid: g.visit_ids for g in ctx.problem.groups for vid in g.visit_ids}
    units: list[tuple[Visit, ...]] = []
    for vid in eligible:
        g = group_of.get(vid)
        if g is None and open_(vid):
            units.append((ctx.visits[vid],))
        elif g is not None and vid == g[0] and all(open_(x, True) for x in g):
            units.append(tuple(ctx.visits[x] for x in g))
    node_of = {}
    for x, (k, ref) in enumerate(zip(built.inst.kind, built.inst.ref, strict=True)):
        if k == VISIT:
            node_of[ref] = x
        elif k == PICKUP:
            node_of[("pickup", ref)] = x
    pos_of = {r.caregiver_id: n for n, r in enumerate(routes)}
    fixed = fixed_visits(ctx)
    done = 0
    # Best place per single visit and caregiver, with the version of the caregiver's route it
    # was found in: only routes changed since are tried again.
    cache: dict[int, dict[int, tuple[int, tuple | None]]] = {}
    version: dict[int, int] = {}
    views: dict = {}  # each route's items and screen, while the route stays the same
    gcache: dict[tuple, tuple[dict[int, int], tuple | None]] = {}

    def full(i: int, by_id: dict[int, Route]) -> bool:
        """The caregiver's route holds all their breaks (an empty one gets them with what goes
        in: insertion plans them in)."""
        stops = by_id[ctx.cgs[i].id].stops
        return not stops or sum(s.kind == "break" for s in stops) == len(ctx.cgs[i].breaks)

    while units and time.monotonic() < until:
        top = max(max(v.priority for v in u) for u in units)
        by_id = {r.caregiver_id: r for r in routes}

        def cands(v, by_id=by_id):
            return [i for i in eligible[v.id] if full(i, by_id)]

        choice = None
        for u in units:
            if max(v.priority for v in u) != top or time.monotonic() >= until:
                continue
            if len(u) == 1:
                mine = cache.setdefault(u[0].id, {})
                insert = pair_insertion if ctx.is_meal(u[0]) else best_insertion
                for i in cands(u[0]):
                    if mine.get(i, (-1, None))[0] != version.get(i, 0):
                        found = insert(ctx, u[0], by_id, [i], views=views)[0]
                        mine[i] = (version.get(i, 0), found)
                found = [b for _, b in mine.values() if b is not None]
                best = min(found, key=lambda b: b[0]) if found else None
                placed = None if best is None else (best[0], [best])
            else:
                # Routes only fill up: a group that fitted nowhere never will, and its place
                # stands while the routes it uses stay as they were.
                seen = gcache.get(u)
                if seen is None or (
                    seen[1] is not None
                    and any(version.get(b[1], 0) != seen[0].get(b[1], 0) for b in seen[1][1])
                ):
                    found = group_insertion(ctx, u, by_id, cands, until, views)
                    if found is None and time.monotonic() >= until:
                        continue  # cut short: not known to fit nowhere
                    seen = gcache[u] = (dict(version), found)
                placed = seen[1]
            if placed is not None and (choice is None or placed[0] < choice[1][0]):
                choice = (u, placed)
        if choice is None:
            # Nothing of this priority fits; lower priorities may still fit.
            units = [u for u in units if max(v.priority for v in u) != top]
            continue
        u, (_added, inserts) = choice
        for _added, i, pos, timing, item in inserts:
            c = ctx.cgs[i]
            route = by_id[c.id]
            items = route_items(ctx, route, fixed) if route.stops else []
            if not route.stops:  # an empty route: its breaks come with the first visit
                items = [
                    Item(None, b.duration_s, ((b.earliest_start_s, b.latest_start_s),))
                    for b in c.breaks
                ]
            if isinstance(pos, tuple):  # a meal: its pickup and its delivery
                (p, d), (pick, drop) = pos, item
                items = [*items[:p], pick, *items[p:d], drop, *items[d:]]
            else:
                items = [*items[:pos], item, *items[pos:]]
            starts = timing.starts
            rr = RawRoute(
                i,
                [node_of[it.key] for it in items if it.loc is not None],
                [st for it, st in zip(items, starts, strict=True) if it.loc is not None],
                timing.depart,
                timing.ret,
                [(st, it.duration) for it, st in zip(items, starts, strict=True) if it.loc is None],
            )
            routes[pos_of[c.id]] = to_route(ctx, built, rr)
            version[i] = version.get(i, 0) + 1
            log.info("repair: %s inserted for caregiver %s at %s", item, c.id, pos)
        for v in u:
            out.pop(v.id, None)
        units.remove(u)
        done += len(u)
    return done
