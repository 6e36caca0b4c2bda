"""Plan a day: check each visit, build the instance, solve, explain what stays unassigned."""

from __future__ import annotations

import copy
import itertools
import logging
import time
from collections import Counter
from dataclasses import dataclass, replace

import numpy as np

from routing import decompose, solver
from routing.instance import END, PICKUP, START, VISIT, Instance, RawRoute, RawSolution
from routing.model import (
    Caregiver,
    Kpis,
    Location,
    Problem,
    Route,
    Solution,
    Stop,
    TimeWindow,
    Unassigned,
    UnassignedReason,
    Visit,
)
from routing.schedule import Item, first_start, schedule
from routing.travel import GeodesicTravel, TravelModel

log = logging.getLogger(__name__)
R = UnassignedReason
# Explaining dropped visits tries every insertion; on a day with hundreds left out this is
# bounded, and the rest are reported as NOT_PLACED without the check.
DIAGNOSE_BUDGET_S = 2.0
# Inserting what the search left out (repair) gets its own bound before the diagnosis.
REPAIR_BUDGET_S = 2.0
# Common starts tried for a double-staffed visit besides each caregiver's earliest one.
GROUP_START_STEP_S = 300
GROUP_STARTS = 48
# Large days are decomposed for all the time but LARGE_MARGIN_S (plus the repair's and the
# diagnosis' budgets on days with double-staffed visits, meals or breaks) and their routes timed
# directly. (Handing them to the whole-day model to polish gave the same travel on the
# generated 400- and 1,000-visit plain days and overran a 30 s limit by 23 s at 1,000.) Days up
# to POLISH_UP_TO visits with constraints a sub-problem may not satisfy are still polished,
# after POLISH_DECOMPOSE_SHARE of the time decomposed.
LARGE_MARGIN_S = 1.0
POLISH_UP_TO = 500
POLISH_DECOMPOSE_SHARE = 0.65
POLISH_LATE_S = 1.5
# Guided local search weighs its penalties at 0.3 of the mean arc cost on home-care days
# (OR-Tools' default 0.1 suits the Solomon benchmarks, not these): on the generated 120-visit
# day at 30 s, travel within 0.4 % of PyVRP against 5.3 % at 0.1 (docs/benchmarks.md).
SEARCH_OVERRIDES = {"guided_local_search_lambda_coefficient": 0.3}


class Context:
    """A problem with its locations numbered and travel matrices fetched once per mode."""

    def __init__(
        self, problem: Problem, travel: TravelModel | None, extra: tuple = (), lazy: bool = False
    ) -> None:
        self.problem = problem
        self.travel = travel or GeodesicTravel()
        self.cgs = problem.caregivers
        self.cg_index = {c.id: i for i, c in enumerate(self.cgs)}
        if len(self.cg_index) != len(self.cgs):
            raise ValueError("caregiver ids must be unique")
        self.visits = {v.id: v for v in problem.visits}
        if len(self.visits) != len(problem.visits):
            raise ValueError("visit ids must be unique")
        self.kitchens = {k.id: k for k in problem.kitchens}
        self.locs: list[Location] = []
        self._loc_index: dict[Location, int] = {}
        for c in self.cgs:
            self.loc(c.start)
            self.loc(c.end)
        for v in problem.visits:
            self.loc(v.location)
        for k in problem.kitchens:
            self.loc(k.location)
        for x in extra:
            self.loc(x)
        self.modes = sorted({c.travel_mode for c in self.cgs})
        self.T: dict[str, np.ndarray] = {}
        self.D: dict[str, np.ndarray] = {}
        # lazy: no full matrix; submatrix() asks the travel model for what a caller needs.
        self.lazy = lazy
        for mode in self.modes if not lazy else ():
            m = self.travel.matrix(self.locs, self.locs, mode)
            self.T[mode], self.D[mode] = m.seconds, m.metres
        self.pins = {p.visit_id: p for p in problem.pins}
        self.locked_owner = {
            vid: self.cg_index[lp.caregiver_id] for lp in problem.locked for vid in lp.visit_ids
        }
        for vid in (*self.pins, *self.locked_owner):
            if vid not in self.visits:
                raise ValueError(f"pin or lock names unknown visit {vid}")
        for p in problem.pins:
            if p.caregiver_id is not None and p.caregiver_id not in self.cg_index:
                raise ValueError(
                    f"pin of visit {p.visit_id} names unknown caregiver {p.caregiver_id}"
                )

    def loc(self, location: Location) -> int:
        if location not in self._loc_index:
            self._loc_index[location] = len(self.locs)
            self.locs.append(location)
        return self._loc_index[location]

    def submatrix(self, mode: str, locs: list[int]):
        """Travel seconds among some locations: (array, location index -> row)."""
        row = {x: i for i, x in enumerate(locs)}
        if not self.lazy:
            return self.T[mode][np.ix_(locs, locs)], row
        pts = [self.locs[x] for x in locs]
        return self.travel.matrix(pts, pts, mode).seconds, row

    def windows(self, visit: Visit) -> list[tuple[int, int]]:
        pin = self.pins.get(visit.id)
        if pin is not None and pin.start_s is not None:
            return [(pin.start_s, pin.start_s)]
        return sorted((w.start_s, w.end_s) for w in visit.windows)

    def is_meal(self, visit: Visit) -> bool:
        return visit.meal_boxes > 0 and visit.id not in self.locked_owner


def _qualified(ctx: Context, visit: Visit) -> tuple[list[int], Unassigned | None]:
    """Caregivers (indices) allowed to do the visit by skills, gender, lists and pins."""
    if visit.id in ctx.locked_owner:
        return [ctx.locked_owner[visit.id]], None
    cands = list(range(len(ctx.cgs)))

    def fail(reason, detail):
        return [], Unassigned(visit.id, reason, detail)

    need = visit.required_skills
    cands = [i for i in cands if need <= ctx.cgs[i].skills]
    if not cands:
        return fail(R.NO_QUALIFIED_CAREGIVER, f"no caregiver has the skills {sorted(need)}")
    if visit.required_gender is not None:
        cands = [i for i in cands if ctx.cgs[i].gender == visit.required_gender]
        if not cands:
            return fail(
                R.NO_QUALIFIED_CAREGIVER,
                f"no caregiver with the skills {sorted(need)} has gender {visit.required_gender!r}",
            )
    if visit.allowed_caregivers is not None:
        cands = [i for i in cands if ctx.cgs[i].id in visit.allowed_caregivers]
        if not cands:
            return fail(
                R.NO_QUALIFIED_CAREGIVER,
                f"none of the allowed caregivers {sorted(visit.allowed_caregivers)} is qualified",
            )
    if visit.forbidden_caregivers:
        cands = [i for i in cands if ctx.cgs[i].id not in visit.forbidden_caregivers]
        if not cands:
            return fail(
                R.NO_QUALIFIED_CAREGIVER, "every qualified caregiver is refused by the client"
            )
    pin = ctx.pins.get(visit.id)
    if pin is not None and pin.caregiver_id is not None:
        i = ctx.cg_index[pin.caregiver_id]
        if i not in cands:
            return fail(
                R.PIN_CONFLICT,
                f"pinned caregiver {pin.caregiver_id} lacks a skill, the gender, or is refused",
            )
        cands = [i]
    return cands, None


def _reachable(ctx: Context, visit: Visit, cands: list[int]) -> tuple[list[int], Unassigned | None]:
    """Candidates who could do this visit alone in their shift; else the most telling reason."""
    vl = ctx.loc(visit.location)
    windows = ctx.windows(visit)
    ok, failures = [], []
    meal = ctx.is_meal(visit)
    kitchen = ctx.kitchens.get(visit.kitchen_id) if meal else None
    for i in cands:
        c = ctx.cgs[i]
        T = ctx.T[c.travel_mode]
        sl, el = ctx.loc(c.start), ctx.loc(c.end)
        if kitchen is not None:
            kl = ctx.loc(kitchen.location)
            ride = int(T[kl, vl])
            if visit.max_ride_s is not None and ride > visit.max_ride_s:
                failures.append(
                    (0, R.RIDE_TIME, f"kitchen to client takes {ride} s by {c.travel_mode}")
                )
                continue
            leave = max(c.shift_start_s + int(T[sl, kl]), kitchen.ready_s) + kitchen.pickup_s
            arrival = leave + ride
            first_leg = c.shift_start_s + int(T[sl, kl])
            path = int(T[sl, kl]) + kitchen.pickup_s + ride
        else:
            arrival = c.shift_start_s + int(T[sl, vl])
            path = int(T[sl, vl])
            first_leg = None
        s = first_start(arrival, windows)
        if s is None or s + visit.duration_s + int(T[vl, el]) > c.shift_end_s:
            failures.append((1, R.OUTSIDE_EVERY_SHIFT, ""))
            continue
        del first_leg
        if c.max_work_s is not None and path + visit.duration_s + int(T[vl, el]) > c.max_work_s:
            failures.append((2, R.MAX_WORKING_TIME, f"caregiver {c.id} may work {c.max_work_s} s"))
            continue
        if visit.meal_boxes > c.box_capacity and meal:
            failures.append(
                (3, R.CAPACITY, f"{visit.meal_boxes} boxes > capacity {c.box_capacity}")
            )
            continue
        ok.append(i)
    if ok:
        return ok, None
    _stage, reason, detail = max(failures, key=lambda f: f[0])
    if reason is R.OUTSIDE_EVERY_SHIFT:
        detail = f"windows {windows} cannot be reached within any qualified caregiver's shift"
    return [], Unassigned(visit.id, reason, detail)


def precheck(ctx: Context) -> tuple[dict[int, list[int]], dict[int, Unassigned]]:
    """Eligible caregivers per visit, and the visits no caregiver could ever do, with why."""
    eligible: dict[int, list[int]] = {}
    out: dict[int, Unassigned] = {}
    for v in ctx.problem.visits:
        if not v.windows or any(w.end_s < w.start_s for w in v.windows) or v.duration_s < 0:
            out[v.id] = Unassigned(v.id, R.INVALID_INPUT, "empty or reversed time window")
            continue
        if ctx.is_meal(v) and v.kitchen_id not in ctx.kitchens:
            out[v.id] = Unassigned(v.id, R.INVALID_INPUT, f"unknown kitchen {v.kitchen_id}")
            continue
        cands, fail = _qualified(ctx, v)
        if fail is None and v.id not in ctx.locked_owner:
            cands, fail = _reachable(ctx, v, cands)
        if fail is not None:
            out[v.id] = fail
        else:
            eligible[v.id] = cands
    for g in ctx.problem.groups:
        members = [vid for vid in g.visit_ids if vid in ctx.visits]
        bad = [vid for vid in members if vid in out]
        if bad:
            first = out[bad[0]]
            for vid in members:
                if vid not in out:
                    out[vid] = Unassigned(
                        vid,
                        R.GROUP_PARTNER_UNASSIGNED,
                        f"double-staffed with visit {first.visit_id}: {first.reason.value}",
                    )
                    eligible.pop(vid, None)
            continue
        if len(set().union(*(eligible[vid] for vid in members))) < len(members) or not _distinct(
            [eligible[vid] for vid in members]
        ):
            for vid in members:
                out[vid] = Unassigned(
                    vid,
                    R.NO_QUALIFIED_CAREGIVER,
                    f"double-staffed visit needs {len(members)} different qualified caregivers",
                )
                eligible.pop(vid, None)
            continue
        common = _intersect([ctx.windows(ctx.visits[vid]) for vid in members])
        if not common:
            for vid in members:
                out[vid] = Unassigned(
                    vid, R.OUTSIDE_EVERY_SHIFT, "the double-staffed visits' windows do not overlap"
                )
                eligible.pop(vid, None)
    return eligible, out


def _distinct(options: list[list[int]]) -> bool:
    """Can every member get a different caregiver? (augmenting-path matching; groups are tiny)"""
    match: dict[int, int] = {}

    def assign(m: int, seen: set[int]) -> bool:
        for c in options[m]:
            if c in seen:
                continue
            seen.add(c)
            if c not in match or assign(match[c], seen):
                match[c] = m
                return True
        return False

    return all(assign(m, set()) for m in range(len(options)))


GROUP_FIX_STEP_S = 900


def fix_groups(inst: Instance) -> tuple[Instance, frozenset[int]]:
    """A copy of inst where each double-staffed visit has its caregivers and start fixed.

    Greedy, group by group in order of the latest common start: the start is the earliest
    (then every GROUP_FIX_STEP_S later) in the visits' common windows at which two different
    allowed caregivers can be there from home and back within their shifts without clashing
    with a group already given to them; of those, the two living nearest. Each visit's window
    becomes that one instant and its allowed caregivers that one. Groups with no such pair
    stay as they were (for the repair). Returns the copy and the nodes fixed.
    """
    out = copy.copy(inst)
    out.windows = list(inst.windows)
    out.allowed = dict(inst.allowed)
    everyone = list(range(inst.num_vehicles))
    taken: dict[int, list[tuple[int, int, int]]] = {}  # vehicle -> (start, end, node)
    fixed: set[int] = set()

    def latest(group: list[int]) -> int:
        common = _intersect([inst.windows[x] for x in group])
        return common[-1][1] if common else 0

    def home_to(v: int, x: int) -> int:
        return int(inst.time[inst.vehicle_mode[v]][inst.starts[v], x])

    def free_at(v: int, x: int, start: int, end: int) -> bool:
        T = inst.time[inst.vehicle_mode[v]]
        a, b = inst.vehicle_window[v]
        if start - T[inst.starts[v], x] < a or end + T[x, inst.ends[v]] > b:
            return False
        return all(end + T[x, y] <= s2 or e2 + T[y, x] <= start for s2, e2, y in taken.get(v, []))

    for group in sorted(inst.groups, key=latest):
        common = _intersect([inst.windows[x] for x in group])
        dur = max(int(inst.service[x]) for x in group)
        choice = None
        for a, b in common:
            for start in range(a, b + 1, GROUP_FIX_STEP_S):
                used: set[int] = set()
                pick = []
                for x in group:
                    cands = [
                        v
                        for v in inst.allowed.get(x, everyone)
                        if v >= 0 and v not in used and free_at(v, x, start, start + dur)
                    ]
                    if not cands:
                        break
                    # Nearest home first; each group already given counts as half an hour.
                    v = min(cands, key=lambda v, x=x: home_to(v, x) + 1800 * len(taken.get(v, [])))
                    used.add(v)
                    pick.append(v)
                if len(pick) == len(group):
                    choice = (start, pick)
                    break
            if choice:
                break
        if choice is None:
            continue
        start, pick = choice
        for x, v in zip(group, pick, strict=True):
            out.windows[x] = [(start, start)]
            out.allowed[x] = [v]
            taken.setdefault(v, []).append((start, start + dur, x))
            fixed.add(x)
    return out, frozenset(fixed)


def _intersect(window_lists: list[list[tuple[int, int]]]) -> list[tuple[int, int]]:
    common = window_lists[0]
    for ws in window_lists[1:]:
        common = [
            (max(a, c), min(b, d)) for a, b in common for c, d in ws if max(a, c) <= min(b, d)
        ]
    return sorted(common)


@dataclass
class Built:
    inst: Instance
    loc_of: list[int]  # node -> location index


def build(ctx: Context, eligible: dict[int, list[int]]) -> Built:
    """Number the nodes: each caregiver's start and end, then visits, then meal pickups."""
    p = ctx.problem
    nv = len(ctx.cgs)
    kind, ref, loc_of, service, windows, demand, penalty = [], [], [], [], [], [], []

    def add(k, r, loc, svc, ws, dem, pen):
        kind.append(k)
        ref.append(r)
        loc_of.append(loc)
        service.append(svc)
        windows.append(ws)
        demand.append(dem)
        penalty.append(pen)
        return len(kind) - 1

    starts = [add(START, i, ctx.loc(c.start), 0, [], 0, None) for i, c in enumerate(ctx.cgs)]
    ends = [add(END, i, ctx.loc(c.end), 0, [], 0, None) for i, c in enumerate(ctx.cgs)]
    latest = max((c.shift_end_s for c in ctx.cgs), default=0)
    node_of: dict[int, int] = {}
    group_windows = {}
    for g in p.groups:
        if all(vid in eligible for vid in g.visit_ids):
            common = _intersect([ctx.windows(ctx.visits[vid]) for vid in g.visit_ids])
            for vid in g.visit_ids:
                group_windows[vid] = common
    allowed: dict[int, list[int]] = {}
    preferred: dict[int, int] = {}
    pairs = []
    for v in p.visits:
        if v.id not in eligible:
            continue
        meal = ctx.is_meal(v)
        ws = group_windows.get(v.id) or ctx.windows(v)
        pen = p.settings.unassigned_penalty * max(1, v.priority)
        node = add(
            VISIT, v.id, ctx.loc(v.location), v.duration_s, ws, -v.meal_boxes if meal else 0, pen
        )
        node_of[v.id] = node
        if len(eligible[v.id]) < nv:
            allowed[node] = sorted(eligible[v.id])
        if v.preferred_caregiver is not None and v.preferred_caregiver in ctx.cg_index:
            preferred[node] = ctx.cg_index[v.preferred_caregiver]
        if meal:
            k = ctx.kitchens[v.kitchen_id]
            pick = add(
                PICKUP,
                v.id,
                ctx.loc(k.location),
                k.pickup_s,
                [(k.ready_s, latest)],
                v.meal_boxes,
                0,
            )
            if node in allowed:
                allowed[pick] = allowed[node]
            pairs.append((pick, node, v.max_ride_s))
    locks = {}
    for lp in p.locked:
        chain = [node_of[vid] for vid in lp.visit_ids if vid in node_of]
        if chain:
            locks[ctx.cg_index[lp.caregiver_id]] = chain
    loc_arr = np.array(loc_of, dtype=np.int64)
    ix = np.ix_(loc_arr, loc_arr)
    inst = Instance(
        kind=kind,
        ref=ref,
        service=np.array(service, dtype=np.int64),
        windows=windows,
        demand=np.array(demand, dtype=np.int64),
        time={m: ctx.T[m][ix] for m in ctx.modes},
        dist={m: ctx.D[m][ix] for m in ctx.modes},
        vehicle_mode=[c.travel_mode for c in ctx.cgs],
        starts=starts,
        ends=ends,
        vehicle_window=[(c.shift_start_s, c.shift_end_s) for c in ctx.cgs],
        max_span=[c.max_work_s for c in ctx.cgs],
        capacity=[c.box_capacity for c in ctx.cgs],
        breaks=[
            [(b.earliest_start_s, b.latest_start_s, b.duration_s) for b in c.breaks]
            for c in ctx.cgs
        ],
        allowed=allowed,
        penalty=penalty,
        pairs=pairs,
        groups=[
            [node_of[vid] for vid in g.visit_ids]
            for g in p.groups
            if all(v in node_of for v in g.visit_ids)
        ],
        locks=locks,
        preferred=preferred,
        continuity_cost=p.settings.continuity_cost,
        fixed_cost=p.settings.caregiver_fixed_cost,
    )
    return Built(inst, loc_of)


def _route(ctx: Context, built: Built, raw: RawRoute) -> Route:
    """Turn solver output into stops with arrival, start, end and travel; breaks in the gaps."""
    inst = built.inst
    c: Caregiver = ctx.cgs[raw.vehicle]
    T, D = ctx.T[c.travel_mode], ctx.D[c.travel_mode]
    here = ctx.loc(c.start)
    t = raw.depart
    pending = list(raw.breaks) if raw.nodes else []
    stops: list[Stop] = []
    travel_s = travel_m = 0

    def leg(to_loc: int, until: int | None):
        """Travel to to_loc leaving at t, taking any break that starts before `until`."""
        nonlocal t, here
        rem = int(T[here, to_loc])
        arrival = t + rem if rem == 0 else None
        while pending and (until is None or pending[0][0] < until):
            bs, dur = pending.pop(0)
            move = min(rem, max(0, bs - t))
            t += move
            rem -= move
            if rem == 0 and arrival is None:
                arrival = t
            stops.append(Stop(None, bs, bs, bs + dur, 0, 0, kind="break"))
            t = max(t, bs) + dur
        if arrival is None:
            arrival = t + rem
        return arrival

    for node, start in zip(raw.nodes, raw.starts, strict=True):
        loc = built.loc_of[node]
        tr, tm = int(T[here, loc]), int(D[here, loc])
        arrival = leg(loc, start)
        kind = "pickup" if inst.kind[node] == PICKUP else "visit"
        vid = inst.ref[node]
        kitchen = ctx.visits[vid].kitchen_id if kind == "pickup" else None
        end = start + int(inst.service[node])
        stops.append(Stop(vid, arrival, start, end, tr, tm, kind=kind, kitchen_id=kitchen))
        travel_s += tr
        travel_m += tm
        t, here = end, loc
    el = ctx.loc(c.end)
    rt, rm = int(T[here, el]), int(D[here, el])
    back = leg(el, None)
    return Route(
        caregiver_id=c.id,
        stops=tuple(stops),
        depart_s=raw.depart,
        return_s=max(raw.arrive, back) if raw.nodes else raw.depart,
        travel_s=travel_s + rt,
        travel_m=travel_m + rm,
        return_travel_s=rt,
        return_travel_m=rm,
    )


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
                )
            )
        else:
            v = ctx.visits[s.visit_id]
            ws = ((s.start_s, s.start_s),) if v.id in fixed else tuple(ctx.windows(v))
            items.append(Item(ctx.loc(v.location), v.duration_s, ws, key=v.id))
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
    item = Item(ctx.loc(visit.location), visit.duration_s, tuple(ctx.windows(visit)), key=visit.id)
    if not_before_s is not None:
        ws = [(max(a, not_before_s), b) for a, b in item.windows if b >= not_before_s]
        item = Item(item.loc, item.duration, tuple(ws), key=item.key)
    best = None
    blocked = Counter()
    locked_len = {ctx.cg_index[lp.caregiver_id]: len(lp.visit_ids) for lp in ctx.problem.locked}
    for i in cands:
        c = ctx.cgs[i]
        route = routes.get(c.id)
        stops = route.stops if route else ()
        items = route_items(ctx, route, fixed) if route else []
        load = 0
        peak = 0
        for s in stops:
            if s.kind == "pickup":
                load += ctx.visits[s.visit_id].meal_boxes
            elif s.kind == "visit" and ctx.is_meal(ctx.visits[s.visit_id]):
                load -= ctx.visits[s.visit_id].meal_boxes
            peak = max(peak, load)
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
                Item(
                    it.loc, it.duration, ((s.start_s, s.start_s),), it.key, it.delivers, it.max_ride
                )
                if s.start_s < not_before_s
                else it
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

        for pos in range(first, len(items) + 1):
            prev = where[pos]
            nxt = next((it.loc for it in items[pos:] if it.loc is not None), el)
            added = tt(prev, item.loc) + tt(item.loc, nxt) - tt(prev, nxt)
            if best is not None and added >= best[0]:
                continue
            trial = [*items[:pos], item, *items[pos:]]
            timing = schedule(
                trial, sl, el, (c.shift_start_s, c.shift_end_s), tt, earliest_depart=earliest
            )
            if timing is None:
                blocked[R.NO_TIME] += 1
                continue
            if c.max_work_s is not None and timing.ret - timing.depart > c.max_work_s:
                blocked[R.MAX_WORKING_TIME] += 1
                continue
            if visit.meal_boxes and ctx.is_meal(visit) and peak + visit.meal_boxes > c.box_capacity:
                blocked[R.CAPACITY] += 1
                continue
            best = (added, i, pos, timing, item)
    return best, blocked


def diagnose(ctx: Context, visit: Visit, cands: list[int], routes: dict[int, Route]) -> Unassigned:
    """Why did the solver leave this visit out? Try to insert it into the final routes."""
    best, blocked = best_insertion(ctx, visit, routes, cands)
    if best is not None:
        return Unassigned(
            visit.id,
            R.NOT_PLACED,
            "a feasible place exists; the search ended before it found it or it cost more than "
            "the visit's penalty (raise the time limit or the priority)",
        )
    for reason in (R.CAPACITY, R.MAX_WORKING_TIME):
        if blocked[reason]:
            return Unassigned(
                visit.id, reason, f"fits in time in {blocked[reason]} places but {reason.value}"
            )
    return Unassigned(
        visit.id,
        R.NO_TIME,
        f"no qualified caregiver's route ({len(cands)} tried) has room in a window",
    )


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
    different caregivers at one common start. Meal deliveries (they need a kitchen pickup) are
    left to the diagnosis. A caregiver whose route lacks some of their breaks (an empty route
    has none yet) is not offered, so no break goes missing. Returns how many visits were
    inserted; `routes` is updated in place.
    """
    served = {s.visit_id for r in routes for s in r.stops if s.kind == "visit"}

    def open_(vid, partner_dropped=False):
        # A placed half of a group dropped for want of its partner may come back with it.
        left = vid not in out or (partner_dropped and out[vid].reason is R.GROUP_PARTNER_UNASSIGNED)
        return eligible.get(vid) and vid not in served and left and not ctx.is_meal(ctx.visits[vid])

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
    while units and time.monotonic() < until:
        top = max(max(v.priority for v in u) for u in units)
        by_id = {r.caregiver_id: r for r in routes}

        def cands(v, by_id=by_id):
            return [
                i
                for i in eligible[v.id]
                if sum(s.kind == "break" for s in by_id[ctx.cgs[i].id].stops)
                == len(ctx.cgs[i].breaks)
            ]

        choice = None
        for u in units:
            if max(v.priority for v in u) != top or time.monotonic() >= until:
                continue
            if len(u) == 1:
                best, _ = best_insertion(ctx, u[0], by_id, cands(u[0]))
                placed = None if best is None else (best[0], [best])
            else:
                placed = _group_insertion(ctx, u, by_id, cands, until)
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
            routes[pos_of[c.id]] = _route(ctx, built, rr)
            log.info("repair: visit %s inserted for caregiver %s at %s", item.key, c.id, pos)
        for v in u:
            out.pop(v.id, None)
        units.remove(u)
        done += len(u)
    return done


def _diagnose_group(
    ctx: Context, visit: Visit, eligible, routes, until: float | None = None
) -> Unassigned | None:
    """A double-staffed visit only "fits" if all its visits fit at one start on different people.

    None when it fits, or when `until` passes before every start was tried.
    """
    group = next((g.visit_ids for g in ctx.problem.groups if visit.id in g.visit_ids), None)
    if group is None or not all(eligible.get(x) for x in group):
        return None
    members = tuple(ctx.visits[x] for x in group)
    if _group_insertion(ctx, members, routes, lambda v: eligible[v.id], until) is not None:
        return None
    if until is not None and time.monotonic() > until:
        return None  # not every start was tried: stays NOT_PLACED
    return Unassigned(
        visit.id,
        R.NO_TIME,
        f"double-staffed: no {len(group)} different qualified caregivers have room at one "
        "common start",
    )


def _group_insertion(
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
    common = _intersect([ctx.windows(v) for v in group])
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


def kpis(ctx: Context, routes: list[Route], unassigned: list[Unassigned]) -> Kpis:
    assigned = [(r, s) for r in routes for s in r.stops if s.kind == "visit"]
    by_cg = {r.caregiver_id: r.travel_s for r in routes}
    idle = sum(
        max(0, s.start_s - s.arrival_s) for r in routes for s in r.stops if s.kind != "break"
    )
    late = 0
    with_pref = hits = 0
    for r, s in assigned:
        v = ctx.visits[s.visit_id]
        if not any(w.start_s <= s.start_s <= w.end_s for w in v.windows) and v.id not in ctx.pins:
            late += max(0, s.start_s - max(w.end_s for w in v.windows))
        if v.preferred_caregiver is not None:
            with_pref += 1
            hits += v.preferred_caregiver == r.caregiver_id
    overtime = 0
    span_total = service_total = 0
    used = [r for r in routes if r.stops]
    for r in used:
        c = ctx.cgs[ctx.cg_index[r.caregiver_id]]
        span = r.return_s - r.depart_s
        span_total += span
        over = max(0, r.return_s - c.shift_end_s)
        if c.max_work_s is not None:
            over = max(over, span - c.max_work_s)
        overtime += over
        service_total += sum(s.end_s - s.start_s for s in r.stops if s.kind == "visit")
    return Kpis(
        visits_assigned=len(assigned),
        visits_unassigned=len(unassigned),
        travel_s=sum(by_cg.values()),
        travel_m=sum(r.travel_m for r in routes),
        travel_s_by_caregiver=by_cg,
        idle_s=idle,
        lateness_s=late,
        continuity_rate=(hits / with_pref) if with_pref else None,
        overtime_s=overtime,
        utilisation=(service_total / span_total) if span_total else 0.0,
        caregivers_used=len(used),
    )


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
        # OR-Tools' break intervals make every collected solution slow to finalise on big days
        # (seconds each at 200 visits), so a time-limited search returns nothing there. Big
        # days are solved without them, with the breaks' time taken off max_work_s, and the
        # breaks are then placed into each route's gaps (place_breaks).
        large = (
            len(eligible) > s.decompose_above and not built.inst.locks and s.solution_limit is None
        )
        late_breaks = any(built.inst.breaks) and (len(eligible) > s.break_intervals_up_to or large)
        model_inst = built.inst
        if late_breaks:
            model_inst = copy.copy(built.inst)
            model_inst.breaks = [[] for _ in built.inst.breaks]
            model_inst.max_span = [
                None if m is None else max(0, m - sum(d for _, _, d in bs))
                for m, bs in zip(built.inst.max_span, built.inst.breaks, strict=True)
            ]
        info: dict = {}
        initial = None
        search = True
        if large:
            # Decompose. The sub-problems leave out double-staffed visits; the whole-day model
            # (when it polishes) or the repair step below places them, whole or not at all.
            coords = np.array([(ctx.locs[i].lon, ctx.locs[i].lat) for i in built.loc_of])
            budget = s.time_limit_s - (time.monotonic() - t0)
            skip = frozenset(x for g in built.inst.groups for x in g)
            heavy = bool(built.inst.pairs) or any(built.inst.breaks)
            # Time for what follows the search: timing the routes and, on days whose
            # sub-problems leave visits out, the repair and the diagnosis of what is left.
            reserve = LARGE_MARGIN_S
            if heavy or built.inst.groups:
                # (at most 30 % of a short limit)
                more = REPAIR_BUDGET_S + DIAGNOSE_BUDGET_S
                reserve = max(reserve, min(reserve + more, 0.3 * budget))
            # Days with double-staffed visits, meal runs or breaks leave visits a sub-problem
            # cannot place; up to POLISH_UP_TO visits the whole-day model then starts from the
            # routes and places them wherever they fit. (Visits restricted to some caregivers
            # are placed by our own search, routing.localsearch.)
            search = len(eligible) <= POLISH_UP_TO and (heavy or bool(built.inst.groups))
            if not search and built.inst.groups:
                # No whole-day model will place the double-staffed visits afterwards: give
                # each its two caregivers and common start now, and plan around them.
                model_inst, fixed_nodes = fix_groups(model_inst)
                skip = skip - fixed_nodes
            routes_by_v = decompose.solve_large(
                model_inst,
                coords,
                budget * POLISH_DECOMPOSE_SHARE if search else budget - reserve,
                seed=s.seed,
                skip=skip,
                # Meal pairs and breaks make sub-problems slow to start: cut them smaller.
                target=60 if heavy else 150,
                sub_visits=80 if heavy else 150,
            )
            initial = [routes_by_v.get(v, []) for v in range(built.inst.num_vehicles)]
        raw = None
        if search:
            # OR-Tools returns late from a big whole-day model started from given routes
            # (measured on the generated full days at 30 s: on time at 150-250 visits, 1 s late
            # at 300, 3.6 s at 400), so it is given POLISH_LATE_S less per 100 visits above 200.
            late = POLISH_LATE_S * max(0, len(eligible) - 200) / 100 if initial is not None else 0.0
            raw = solver.solve_instance(
                model_inst,
                max(0.05, s.time_limit_s - (time.monotonic() - t0) - late),
                s.first_solution,
                s.metaheuristic,
                s.solution_limit,
                initial_routes=initial,
                log_search=s.log_search,
                overrides=SEARCH_OVERRIDES,
                info=info,
            )
        if initial is not None:
            planned = sum(len(r) for r in initial)
            if raw is None or sum(len(r.nodes) for r in raw.routes) < planned:
                # Not polished, or the whole-day model lost routes (out of time before it
                # timed them): the decomposition's routes, timed here.
                raw = timed_routes(ctx, built, model_inst, initial)
        if raw is None:
            status = info.get("status", "NO_SOLUTION")
            timeout = status in ("ROUTING_FAIL_TIMEOUT", "ROUTING_NOT_SOLVED")
            for vid in eligible:
                if timeout:
                    out[vid] = Unassigned(
                        vid, R.NOT_PLACED, "no first plan within the time limit; raise it"
                    )
                else:
                    out[vid] = Unassigned(
                        vid,
                        R.PIN_CONFLICT
                        if vid in ctx.locked_owner or vid in ctx.pins
                        else R.NOT_PLACED,
                        "the solver found no plan that keeps every lock and pin",
                    )
            eligible = {}
        else:
            status, objective = raw.status, raw.objective
            raw_routes = {r.vehicle: r for r in raw.routes}
            if late_breaks:
                place_breaks(ctx, built, raw_routes, out)
            _drop_half_groups(ctx, built, raw_routes, out)
    routes = []
    for i in range(len(ctx.cgs)):
        rr = raw_routes.get(i)
        if rr is not None and rr.nodes:
            routes.append(_route(ctx, built, rr))
        else:
            c = ctx.cgs[i]
            routes.append(Route(c.id, (), c.shift_start_s, c.shift_start_s))
    repaired = 0
    if built is not None:
        repaired = repair(ctx, built, routes, eligible, out, time.monotonic() + REPAIR_BUDGET_S)
    by_id = {r.caregiver_id: r for r in routes}
    served = {s.visit_id for r in routes for s in r.stops if s.kind == "visit"}
    diagnose_until = time.monotonic() + DIAGNOSE_BUDGET_S
    for v in problem.visits:
        if v.id not in served and v.id not in out:
            if time.monotonic() < diagnose_until:
                out[v.id] = diagnose(ctx, v, eligible.get(v.id, []), by_id)
                if out[v.id].reason is R.NOT_PLACED:
                    out[v.id] = (
                        _diagnose_group(ctx, v, eligible, by_id, diagnose_until) or out[v.id]
                    )
            else:
                out[v.id] = Unassigned(
                    v.id, R.NOT_PLACED, "left out by the search; not re-checked (time budget)"
                )
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


def timed_routes(ctx: Context, built: Built, inst: Instance, routes: list[list[int]]):
    """RawSolution for given node routes, each service starting as early as its windows allow."""
    pair_of = {p: (d, ride) for p, d, ride in inst.pairs}
    out = []
    for v, nodes in enumerate(routes):
        c = ctx.cgs[v]
        T = ctx.T[c.travel_mode]

        def tt(a, b, T=T):
            return int(T[a, b])

        items = [
            Item(
                built.loc_of[x],
                int(inst.service[x]),
                tuple(inst.windows[x]),
                x,
                *pair_of.get(x, (None, None)),
            )
            for x in nodes
        ]
        sl, el = built.loc_of[inst.starts[v]], built.loc_of[inst.ends[v]]
        timing = (
            schedule(items, sl, el, inst.vehicle_window[v], tt, inst.max_span[v]) if nodes else None
        )
        if timing is None:
            out.append(RawRoute(v, [], [], inst.vehicle_window[v][0], inst.vehicle_window[v][0]))
        else:
            out.append(RawRoute(v, list(nodes), list(timing.starts), timing.depart, timing.ret))
    placed = {x for r in out for x in r.nodes}
    dropped = [x for x in range(inst.n) if inst.kind[x] == VISIT and x not in placed]
    return RawSolution(out, dropped, 0, "DECOMPOSED", 0.0)


def place_breaks(ctx: Context, built: Built, raw_routes: dict[int, RawRoute], out) -> None:
    """Put each caregiver's breaks into its route, re-timing it; drop visits if none fits.

    Double-staffed visits keep the solver's start time (their partner's route is not
    re-timed with them); the others start as early as their windows allow.
    """
    inst = built.inst
    grouped = {x for g in inst.groups for x in g}
    pair_of = {p: (d, ride) for p, d, ride in inst.pairs}
    delivery_pickup = {d: p for p, d, _ in inst.pairs}
    for v, rr in raw_routes.items():
        _breaks_into_route(ctx, built, v, rr, out, grouped, pair_of, delivery_pickup)


def _breaks_into_route(ctx, built, v, rr, out, grouped, pair_of, delivery_pickup) -> None:
    inst = built.inst
    if not rr.nodes or not inst.breaks[v]:
        return
    c = ctx.cgs[v]
    T = ctx.T[c.travel_mode]

    def tt(a, b, T=T):
        return int(T[a, b])

    def item(node, start):
        ws = ((start, start),) if node in grouped else tuple(inst.windows[node])
        d, ride = pair_of.get(node, (None, None))
        return Item(built.loc_of[node], int(inst.service[node]), ws, node, d, ride)

    nodes = list(rr.nodes)
    starts = dict(zip(rr.nodes, rr.starts, strict=True))
    shift = inst.vehicle_window[v]
    sl, el = built.loc_of[inst.starts[v]], built.loc_of[inst.ends[v]]

    def fit(nodes):
        """Items with every break placed at its earliest feasible position, or None."""
        items = [item(x, starts[x]) for x in nodes]
        for earliest, latest, dur in inst.breaks[v]:
            brk = Item(None, dur, ((earliest, latest),), ("break", earliest))
            for pos in range(len(items) + 1):
                trial = [*items[:pos], brk, *items[pos:]]
                if schedule(trial, sl, el, shift, tt, inst.max_span[v]) is not None:
                    items = trial
                    break
            else:
                return None
        return items

    items = fit(nodes)
    while items is None and nodes:
        # Drop the visit whose removal lets the breaks fit with the least travel left.
        best = None
        for x in nodes:
            if inst.kind[x] != VISIT:
                continue
            drop = {x, delivery_pickup.get(x)}
            rest = [y for y in nodes if y not in drop]
            trial = fit(rest)
            if trial is not None:
                timing = schedule(trial, sl, el, shift, tt, inst.max_span[v])
                if best is None or timing.travel < best[0]:
                    best = (timing.travel, x, rest)
        if best is None:
            x = next(y for y in reversed(nodes) if inst.kind[y] == VISIT)
            rest = [y for y in nodes if y not in {x, delivery_pickup.get(x)}]
        else:
            _, x, rest = best
        out[inst.ref[x]] = Unassigned(
            inst.ref[x], R.NO_TIME, f"no room left in caregiver {c.id}'s day for the break"
        )
        nodes = rest
        items = fit(nodes) if nodes else []
    timing = schedule(items, sl, el, shift, tt, inst.max_span[v]) if items else None
    if timing is None:
        rr.nodes, rr.starts, rr.breaks = [], [], []
        return
    rr.nodes = [it.key for it in items if it.loc is not None]
    rr.starts = [st for it, st in zip(items, timing.starts, strict=True) if it.loc is not None]
    rr.breaks = [
        (st, it.duration) for it, st in zip(items, timing.starts, strict=True) if it.loc is None
    ]
    rr.depart, rr.arrive = timing.depart, timing.ret


def _drop_half_groups(ctx, built, raw_routes, out) -> None:
    """A double-staffed visit with one caregiver is no visit: drop the half that was placed."""
    inst = built.inst
    placed = {n for r in raw_routes.values() for n in r.nodes}
    for group in inst.groups:
        done = [n for n in group if n in placed]
        if done and len(done) < len(group):
            missing = next(n for n in group if n not in placed)
            for n in done:
                vid = inst.ref[n]
                out[vid] = Unassigned(
                    vid,
                    R.GROUP_PARTNER_UNASSIGNED,
                    f"double-staffed with visit {inst.ref[missing]}",
                )
                for r in raw_routes.values():
                    if n in r.nodes:
                        drop = {n} | {p for p, d, _ in inst.pairs if d == n}
                        keep = [
                            (x, s) for x, s in zip(r.nodes, r.starts, strict=True) if x not in drop
                        ]
                        r.nodes = [x for x, _ in keep]
                        r.starts = [s for _, s in keep]
