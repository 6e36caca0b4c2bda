"""Choosing how to search a day and for how long, then running that search.

`choose` decides, from the day's size and constraints and the time left, whether the day is
decomposed (`routing.decompose`), whether the whole-day OR-Tools model polishes it afterwards,
whether breaks are placed after the search, and the time each phase gets. `run` carries the
choice out and returns the solver's routes as node lists with start times.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass

import numpy as np

from routing import decompose, polish, solver
from routing.context import Context
from routing.explain import DIAGNOSE_BUDGET_S
from routing.extract import timed_routes
from routing.instance import Instance, RawSolution
from routing.model import Settings
from routing.modelbuild import Built, fix_groups
from routing.repair import REPAIR_BUDGET_S

# Large days are decomposed for all the time but LARGE_MARGIN_S (plus the repair's and the
# explanation's budgets on days with double-staffed visits, meals or breaks) and their routes
# timed directly. (Handing them to the whole-day model to polish gave the same travel on the
# generated 400- and 1,000-visit plain days and overran a 30 s limit by 23 s at 1,000.) Days up
# to POLISH_UP_TO visits with constraints a sub-problem may not satisfy are still polished,
# after POLISH_DECOMPOSE_SHARE of the time decomposed.
LARGE_MARGIN_S = 1.0
POLISH_UP_TO = 500
POLISH_DECOMPOSE_SHARE = 0.65
# OR-Tools returns late from a big whole-day model started from given routes (measured on the
# generated full days at 30 s: on time at 150-250 visits, 1 s late at 300, 3.6 s at 400), so it
# is given POLISH_LATE_S less per 100 visits above 200.
POLISH_LATE_S = 1.5
# Guided local search weighs its penalties at 0.3 of the mean arc cost on home-care days
# (OR-Tools' default 0.1 suits the Solomon benchmarks, not these): on the generated 120-visit
# day at 30 s, travel within 0.4 % of PyVRP against 5.3 % at 0.1 (docs/benchmarks.md).
SEARCH_OVERRIDES = {"guided_local_search_lambda_coefficient": 0.3}
# Days that the compiled search takes (polish.compiled: plain days, numba installed) are
# decomposed from more than PLAIN_DECOMPOSE_ABOVE visits, whatever Settings.decompose_above
# says: at 15 s on generated plain days, 60 visits 18,149 s of travel against the whole-day
# model's 18,361 (PyVRP 18,208) and 80 visits 19,600 against 20,408 (PyVRP 19,593); at 120
# visits and 10 s the decomposition with the Python search already gave 25,857 against the
# model's 28,486 (PyVRP 25,995) (load 15-20, docs/benchmarks.md).
PLAIN_DECOMPOSE_ABOVE = 50


@dataclass(frozen=True)
class Strategy:
    """How one day is searched; times are seconds from the moment `run` starts."""

    decompose: bool  # construction, route-group improvement and our own polish first
    late_breaks: bool  # breaks placed into the routes after the search (extract.place_breaks)
    model: bool  # the whole-day OR-Tools model searches (after the decomposition, if any)
    fix_groups: bool  # double-staffed visits get caregivers and start before the search
    heavy: bool  # meal runs or breaks: smaller sub-problems
    decompose_s: float  # time for the decomposition
    model_late_s: float  # taken off the whole-day model's time: it returns late on big days
    # Kept for what follows the decomposition: the decomposition gets less when choosing took
    # time (loading the compiled search from numba's cache: a second, more on a busy machine).
    after_s: float = 0.0


def choose(inst: Instance, visits: int, settings: Settings, budget_s: float) -> Strategy:
    """The strategy for a day of `visits` plannable visits with `budget_s` seconds left."""
    # OR-Tools' break intervals make every collected solution slow to finalise on big days
    # (seconds each at 200 visits), so a time-limited search returns nothing there. Big days
    # are solved without them, with the breaks' time taken off max_work_s, and the breaks are
    # then placed into each route's gaps.
    # Workload balance is a cost of our own search only (routing.recreate), not of the OR-Tools
    # model: a day to balance takes the decomposed path at any size.
    above = visits > settings.decompose_above or bool(inst.balance_cost)
    if not above and visits > PLAIN_DECOMPOSE_ABOVE and settings.solution_limit is None:
        skip = frozenset(x for g in inst.groups for x in g)
        above = polish.compiled(inst, skip, budget_s * decompose.KERNEL_SHARE)
    large = above and not inst.locks and settings.solution_limit is None
    late_breaks = any(inst.breaks) and (visits > settings.break_intervals_up_to or large)
    if not large:
        return Strategy(False, late_breaks, True, False, False, 0.0, 0.0)
    heavy = bool(inst.pairs) or any(inst.breaks)
    # Days with double-staffed visits, meal runs or breaks leave visits a sub-problem cannot
    # place; up to POLISH_UP_TO visits the whole-day model then starts from the routes and
    # places them wherever they fit. (Visits restricted to some caregivers are placed by our own
    # search, routing.localsearch.)
    model = visits <= POLISH_UP_TO and (heavy or bool(inst.groups))
    # Time for what follows the search: timing the routes and, on days whose sub-problems leave
    # visits out, the repair and the explanation of what is left (at most 30 % of a short limit).
    reserve = LARGE_MARGIN_S
    if heavy or inst.groups:
        more = REPAIR_BUDGET_S + DIAGNOSE_BUDGET_S
        reserve = max(reserve, min(reserve + more, 0.3 * budget_s))
    decompose_s = budget_s * POLISH_DECOMPOSE_SHARE if model else budget_s - reserve
    return Strategy(
        decompose=True,
        late_breaks=late_breaks,
        model=model,
        # No whole-day model will place the double-staffed visits afterwards: give each its two
        # caregivers and common start now, and plan around them.
        fix_groups=not model and bool(inst.groups),
        heavy=heavy,
        decompose_s=decompose_s,
        model_late_s=POLISH_LATE_S * max(0, visits - 200) / 100 if model else 0.0,
        after_s=budget_s - decompose_s,
    )


def without_breaks(inst: Instance) -> Instance:
    """The instance with no break intervals, each break's time taken off max_span instead."""
    out = copy.copy(inst)
    out.breaks = [[] for _ in inst.breaks]
    out.max_span = [
        None if m is None else max(0, m - sum(d for _, _, d in bs))
        for m, bs in zip(inst.max_span, inst.breaks, strict=True)
    ]
    if inst.soft_span:
        out.soft_span = [
            None if m is None else max(0, m - sum(d for _, _, d in bs))
            for m, bs in zip(inst.soft_span, inst.breaks, strict=True)
        ]
    return out


def run(
    ctx: Context, built: Built, strategy: Strategy, settings: Settings, deadline: float
) -> tuple[RawSolution | None, Instance, dict]:
    """Search as chosen; returns the solution (None: none found), the instance searched and
    the solver's info (its status)."""
    model_inst = without_breaks(built.inst) if strategy.late_breaks else built.inst
    info: dict = {}
    initial = None
    if strategy.decompose:
        # The sub-problems leave out double-staffed visits; the whole-day model (when it
        # polishes) or the repair places them, whole or not at all.
        coords = np.array([(ctx.locs[i].lon, ctx.locs[i].lat) for i in built.loc_of])
        skip = frozenset(x for g in built.inst.groups for x in g)
        if strategy.fix_groups:
            model_inst, fixed_nodes = fix_groups(model_inst)
            skip = skip - fixed_nodes
        routes_by_v = decompose.solve_large(
            model_inst,
            coords,
            min(strategy.decompose_s, deadline - time.monotonic() - strategy.after_s),
            seed=settings.seed,
            skip=skip,
            # Meal pairs and breaks make sub-problems slow to start: cut them smaller.
            target=60 if strategy.heavy else 150,
            sub_visits=80 if strategy.heavy else 150,
        )
        initial = [routes_by_v.get(v, []) for v in range(built.inst.num_vehicles)]
    raw = None
    if strategy.model:
        raw = solver.solve_instance(
            model_inst,
            max(0.05, deadline - time.monotonic() - strategy.model_late_s),
            settings.first_solution,
            settings.metaheuristic,
            settings.solution_limit,
            initial_routes=initial,
            log_search=settings.log_search,
            overrides=SEARCH_OVERRIDES,
            info=info,
        )
    if initial is not None:
        planned = sum(len(r) for r in initial)
        if raw is None or sum(len(r.nodes) for r in raw.routes) < planned:
            # Not polished, or the whole-day model lost routes (out of time before it timed
            # them): the decomposition's routes, timed here.
            raw = timed_routes(ctx, built, model_inst, initial)
    return raw, model_inst, info
