"""Explaining unassigned visits: a true reason for each visit no route took.

Each is tried against the final routes (`routing.insertion`): NO_TIME, CAPACITY or
MAX_WORKING_TIME by what blocked every place; a double-staffed visit whose visits fit one by
one but not at one common start on different caregivers is NO_TIME; NOT_PLACED only where a
place exists.
"""

from __future__ import annotations

import time

from routing.context import Context
from routing.insertion import best_insertion, group_insertion, pair_insertion
from routing.model import Route, Unassigned, UnassignedReason, Visit

R = UnassignedReason
# Explaining dropped visits tries every insertion; on a day with hundreds left out this is
# bounded, and the rest are reported as NOT_PLACED without the check.
DIAGNOSE_BUDGET_S = 2.0


def diagnose(
    ctx: Context,
    visit: Visit,
    cands: list[int],
    routes: dict[int, Route],
    views: dict | None = None,
) -> Unassigned:
    """Why did the solver leave this visit out? Try to insert it into the final routes (a meal
    delivery with its kitchen pickup before it)."""
    insert = pair_insertion if ctx.is_meal(visit) else best_insertion
    best, blocked = insert(ctx, visit, routes, cands, views=views)
    if best is not None:
        return Unassigned(
            visit.id,
            R.NOT_PLACED,
            "a feasible place exists; the search ended before it found it or it cost more than "
            "the visit's penalty (raise the time limit or the priority)",
        )
    for reason in (R.CAPACITY, R.MAX_WORKING_TIME, R.RIDE_TIME):
        if blocked[reason]:
            return Unassigned(
                visit.id, reason, f"fits in time in {blocked[reason]} places but {reason.value}"
            )
    return Unassigned(
        visit.id,
        R.NO_TIME,
        f"no qualified caregiver's route ({len(cands)} tried) has room in a window",
    )


def diagnose_group(
    ctx: Context,
    visit: Visit,
    eligible,
    routes,
    until: float | None = None,
    views: dict | None = None,
) -> Unassigned | None:
    """A double-staffed visit only "fits" if all its visits fit at one start on different people.

    None when it fits, or when `until` passes before every start was tried.
    """
    group = next((g.visit_ids for g in ctx.problem.groups if visit.id in g.visit_ids), None)
    if group is None or not all(eligible.get(x) for x in group):
        return None
    members = tuple(ctx.visits[x] for x in group)
    if (
        group_insertion(
            ctx, members, routes, lambda v: eligible[v.id], until, views, first_found=True
        )
        is not None
    ):
        return None
    if until is not None and time.monotonic() > until:
        return None  # not every start was tried: stays NOT_PLACED
    return Unassigned(
        visit.id,
        R.NO_TIME,
        f"double-staffed: no {len(group)} different qualified caregivers have room at one "
        "common start",
    )


def explain(
    ctx: Context,
    eligible: dict[int, list[int]],
    routes: list[Route],
    out: dict[int, Unassigned],
    until: float,
) -> None:
    """Give every visit in no route and not yet in `out` its reason (in place).

    Single visits first, then the double-staffed ones (each tried at many common starts).
    Visits left when `until` passes are NOT_PLACED "not re-checked".
    """
    by_id = {r.caregiver_id: r for r in routes}
    served = {s.visit_id for r in routes for s in r.stops if s.kind == "visit"}
    grouped = {x for g in ctx.problem.groups for x in g.visit_ids}
    views: dict = {}  # each route's items and screen: the routes do not change here
    left = [v for v in ctx.problem.visits if v.id not in served and v.id not in out]
    for v in sorted(left, key=lambda v: v.id in grouped):
        if time.monotonic() < until:
            out[v.id] = diagnose(ctx, v, eligible.get(v.id, []), by_id, views)
            if out[v.id].reason is R.NOT_PLACED:
                out[v.id] = diagnose_group(ctx, v, eligible, by_id, until, views) or out[v.id]
        else:
            out[v.id] = Unassigned(
                v.id, R.NOT_PLACED, "left out by the search; not re-checked (time budget)"
            )
