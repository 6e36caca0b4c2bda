"""Building the model: which caregivers may do each visit, and the solver's numbered instance.

`precheck` leaves out (with a reason) every visit no caregiver could ever do; `build` numbers
the rest as nodes of a `routing.instance.Instance` (a start and an end per caregiver, the
visits, then one kitchen pickup per meal delivery); `fix_groups` gives double-staffed visits
their caregivers and start before a search that cannot pair them itself.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from routing.context import Context, intersect
from routing.instance import END, PICKUP, START, VISIT, Instance
from routing.model import Unassigned, UnassignedReason, Visit
from routing.schedule import first_start

R = UnassignedReason


def qualified(ctx: Context, visit: Visit) -> tuple[list[int], Unassigned | None]:
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


def reachable(ctx: Context, visit: Visit, cands: list[int]) -> tuple[list[int], Unassigned | None]:
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
        limit = ctx.work_limit(c)
        if limit is not None and path + visit.duration_s + int(T[vl, el]) > limit:
            failures.append((2, R.MAX_WORKING_TIME, f"caregiver {c.id} may work {limit} s"))
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
        cands, fail = qualified(ctx, v)
        if fail is None and v.id not in ctx.locked_owner:
            cands, fail = reachable(ctx, v, cands)
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
        common = intersect([ctx.windows(ctx.visits[vid]) for vid in members])
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
        common = intersect([inst.windows[x] for x in group])
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
        common = intersect([inst.windows[x] for x in group])
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
            common = intersect([ctx.windows(ctx.visits[vid]) for vid in g.visit_ids])
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
    s = p.settings
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
        max_span=[ctx.work_limit(c) for c in ctx.cgs],
        soft_span=[c.max_work_s if s.overtime_cap_s else None for c in ctx.cgs],
        span_cost=s.overtime_cost if s.overtime_cap_s else 0,
        balance_target=fair_share(ctx, service, loc_of, kind) if s.balance_cost else 0,
        balance_cost=s.balance_cost,
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


def fair_share(ctx: Context, service: list[int], loc_of: list[int], kind: list[str]) -> int:
    """A caregiver's fair share of the day's working time: every visit's and pickup's time plus
    the least travel into it (from any other place, by the fastest mode), over the caregivers."""
    places = sorted(set(loc_of))
    least = None
    for mode in ctx.modes:
        sub = ctx.T[mode][np.ix_(places, places)].astype(float)
        np.fill_diagonal(sub, np.inf)
        into = sub.min(axis=0)
        least = into if least is None else np.minimum(least, into)
    row = {x: i for i, x in enumerate(places)}
    total = 0
    for k, x, svc in zip(kind, loc_of, service, strict=True):
        if k in (VISIT, PICKUP):
            total += svc + (0 if least is None or len(places) < 2 else int(least[row[x]]))
    return total // max(1, len(ctx.cgs))
