"""Plan a day, stage by stage; every visit ends up in a route or unassigned with a reason.

1. Model building (`routing.modelbuild`): eligibility of each visit, the numbered instance.
2. Strategy (`routing.strategy`): how to search and for how long; then the search.
3. Extraction (`routing.extract`): timed routes, breaks placed, half double-staffed visits out.
4. Repair (`routing.repair`): what the search left out, inserted where it still fits.
5. Explanation (`routing.explain`): a true reason for every visit still unassigned.
"""

from __future__ import annotations

import time

from routing import strategy
from routing.context import Context
from routing.explain import DIAGNOSE_BUDGET_S, explain
from routing.extract import drop_half_groups, place_breaks, to_route
from routing.instance import RawRoute
from routing.kpis import kpis
from routing.model import Problem, Route, Solution, Unassigned, UnassignedReason
from routing.modelbuild import build, precheck
from routing.repair import REPAIR_BUDGET_S, repair
from routing.travel import TravelModel

R = UnassignedReason


def solve(problem: Problem, travel: TravelModel | None = None) -> Solution:
    """Plan routes; every visit ends up in a route or in `unassigned` with a reason."""
    t0 = time.monotonic()
    ctx = Context(problem, travel)
    eligible, out = precheck(ctx)
    t_matrix = time.monotonic() - t0
    raw_routes: dict[int, RawRoute] = {}
    status = "NO_VISITS"
    objective = 0
    built = None
    if eligible and ctx.cgs:
        built = build(ctx, eligible)
        s = problem.settings
        deadline = t0 + s.time_limit_s
        chosen = strategy.choose(built.inst, len(eligible), s, deadline - time.monotonic())
        raw, _, info = strategy.run(ctx, built, chosen, s, deadline)
        if raw is None:
            status = info.get("status", "NO_SOLUTION")
            _no_plan(ctx, eligible, out, status)
            eligible = {}
        else:
            status, objective = raw.status, raw.objective
            raw_routes = {r.vehicle: r for r in raw.routes}
            if chosen.late_breaks:
                place_breaks(ctx, built, raw_routes, out)
            drop_half_groups(ctx, built, raw_routes, out)
    routes = []
    for i, c in enumerate(ctx.cgs):
        rr = raw_routes.get(i)
        if rr is not None and rr.nodes:
            routes.append(to_route(ctx, built, rr))
        else:
            routes.append(Route(c.id, (), c.shift_start_s, c.shift_start_s))
    # The repair and the explanation get their budgets, or what is left of the time limit if
    # that is more (the search may return early).
    limit = t0 + problem.settings.time_limit_s
    repaired = 0
    if built is not None:
        until = max(time.monotonic() + REPAIR_BUDGET_S, limit - DIAGNOSE_BUDGET_S)
        repaired = repair(ctx, built, routes, eligible, out, until)
    explain(ctx, eligible, routes, out, max(time.monotonic() + DIAGNOSE_BUDGET_S, limit))
    unassigned = [out[v.id] for v in problem.visits if v.id in out]
    return Solution(
        routes=tuple(routes),
        unassigned=tuple(unassigned),
        kpis=kpis(ctx, routes, unassigned),
        stats={
            "status": status,
            "objective": objective,
            "wall_s": round(time.monotonic() - t0, 3),
            "matrix_s": round(t_matrix, 3),
            "nodes": built.inst.n if built else 0,
            "repaired": repaired,
        },
    )


def _no_plan(ctx: Context, eligible, out: dict[int, Unassigned], status: str) -> None:
    """The search found no plan at all: every plannable visit is unassigned, with why."""
    timeout = status in ("ROUTING_FAIL_TIMEOUT", "ROUTING_NOT_SOLVED")
    for vid in eligible:
        if timeout:
            out[vid] = Unassigned(
                vid, R.NOT_PLACED, "no first plan within the time limit; raise it"
            )
        else:
            out[vid] = Unassigned(
                vid,
                R.PIN_CONFLICT if vid in ctx.locked_owner or vid in ctx.pins else R.NOT_PLACED,
                "the solver found no plan that keeps every lock and pin",
            )
