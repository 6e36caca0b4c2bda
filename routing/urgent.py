"""Urgent insertion: the best caregiver and arrival time for one new visit in a running day."""

from __future__ import annotations

from dataclasses import replace

from routing.context import Context
from routing.insertion import best_insertion
from routing.model import Insertion, Problem, Solution, UnassignedReason, Visit
from routing.modelbuild import qualified
from routing.travel import TravelModel


def insert_urgent(
    problem: Problem,
    solution: Solution,
    visit: Visit,
    travel: TravelModel | None = None,
    now_s: int | None = None,
) -> Insertion:
    """Cheapest feasible place (least added travel) for `visit` in the solution's routes.

    Nothing already started moves: positions before the locked prefix, and before any stop that
    starts before ``now_s``, are not tried; pinned, locked and double-staffed visits keep their
    start times; every other stop may shift inside its windows. ``position`` is the index the new
    stop would take in ``Route.stops``. When no place exists the Insertion has no caregiver and a
    reason.
    """
    if visit.meal_boxes:
        return Insertion(
            None,
            None,
            None,
            None,
            None,
            UnassignedReason.INVALID_INPUT,
            "meal deliveries need a kitchen pickup; plan them with solve()",
        )
    visits = (*tuple(v for v in problem.visits if v.id != visit.id), visit)
    ctx = Context(replace(problem, visits=visits), travel, lazy=True)
    cands, fail = qualified(ctx, visit)
    if fail is not None:
        return Insertion(None, None, None, None, None, fail.reason, fail.detail)
    routes = {r.caregiver_id: r for r in solution.routes}
    best, blocked = best_insertion(ctx, visit, routes, cands, not_before_s=now_s)
    if best is None:
        reason = UnassignedReason.NO_TIME
        for r in (UnassignedReason.CAPACITY, UnassignedReason.MAX_WORKING_TIME):
            if blocked[r]:
                reason = r
        return Insertion(
            None,
            None,
            None,
            None,
            None,
            reason,
            f"no place in {len(cands)} qualified caregivers' routes",
        )
    added, i, pos, timing, _ = best
    # An empty route is planned with the caregiver's breaks around the visit; in the route's
    # stops (none yet) the visit comes first.
    first = pos == 0 or not routes.get(ctx.cgs[i].id) or not routes[ctx.cgs[i].id].stops
    return Insertion(
        caregiver_id=ctx.cgs[i].id,
        position=0 if first else pos,
        # First stop of the day: the caregiver leaves home in time instead of waiting outside.
        arrival_s=timing.starts[pos] if first else timing.arrivals[pos],
        start_s=timing.starts[pos],
        added_travel_s=added,
    )
