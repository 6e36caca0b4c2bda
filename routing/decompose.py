"""Large instances: solve geographic slices in parallel, improve groups of routes, then polish.

A 1,000-visit day is too big for OR-Tools' local search to converge in a minute. Three phases:
first the visits are cut into parts (angular sectors around one depot, compact cells when
caregivers start from home), each with a share of the fleet, solved by OR-Tools side by side;
then, repeatedly, a few neighbouring routes are cut out together with their visits and re-solved
by OR-Tools from their current routes, a result replacing the old routes only if it serves the
same visits for less; last, our own local search and ruin-and-recreate (routing.recreate)
polish the whole day, one angular half per core, the halves cut anew every few seconds.
"""

from __future__ import annotations

import itertools
import logging
import math
import multiprocessing as mp
import os
import random
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from routing import fleet, recreate, sisr, solver
from routing.instance import END, START, Instance

log = logging.getLogger(__name__)


# The last share of a decomposed search goes to our own local search (routing.recreate):
# on the 1,000-customer Homberger instances at 60 s it took rc1_10_1 from 8.8 % to 6.4 % and
# r1_10_1 from 6.2 % to 5.8 % above the best known; on generated home-care days at 30 s, from
# +9.9 % to -0.3 % (400 visits) and +7.9 % to -2.1 % (1,000) against PyVRP (docs/benchmarks.md).
OWN_SHARE = 0.6
# Days that the compiled search (routing.sisr) polishes: it gets KERNEL_SHARE, all the time
# after the construction (on rc1_10_1 and r1_10_1 at 60 s, 3.1 and 3.2 % above the best
# known, against 3.9 and 4.3 % with 60 %). At every size since it tries idle vehicles for
# each visit (`_idle`): on the Solomon subset at 10 s, mean gap 0.29 % against 1.74 % for the
# Python search (load 17-20); on generated home-care days at 30 s, 120 visits 25,382 s of
# travel against 25,626 and 400 visits 46,213 against 48,666 (load 18-20).
KERNEL_SHARE = 0.8
# Below this many seconds per OR-Tools construction job (each of about `target` visits, `workers`
# at a time), a day the compiled search takes is built by that search from nothing. On the
# generated 1,000-visit plain day at 10 s (0.5 s per job): 73,589 s of travel, every visit
# served, against 102,966 s with 907 served and 14.7 s of wall time (the jobs found no first
# solution; load 17); the 400-visit day at 10 s: 47,095 against 48,309 (PyVRP 49,720).
CONSTRUCT_JOB_S = 1.0


def sub_instance(inst: Instance, vehicles: list[int], customers: list[int]):
    """The instance restricted to some vehicles and customer nodes; returns it and node map.

    Visits the full model requires may be dropped at a prohibitive cost, so a sub-problem that
    cannot place everything still returns routes for the rest.
    """
    nodes: list[int] = []
    seen: set[int] = set()
    for v in vehicles:
        for x in (inst.starts[v], inst.ends[v]):
            if x not in seen:
                seen.add(x)
                nodes.append(x)
    nodes += [c for c in customers if c not in seen]
    new = {old: i for i, old in enumerate(nodes)}
    ix = np.ix_(nodes, nodes)
    vset = {v: i for i, v in enumerate(vehicles)}
    sub = Instance(
        kind=[inst.kind[x] for x in nodes],
        ref=[inst.ref[x] for x in nodes],
        service=inst.service[nodes],
        windows=[inst.windows[x] for x in nodes],
        demand=inst.demand[nodes],
        time={m: a[ix] for m, a in inst.time.items()},
        dist={m: a[ix] for m, a in inst.dist.items()},
        vehicle_mode=[inst.vehicle_mode[v] for v in vehicles],
        starts=[new[inst.starts[v]] for v in vehicles],
        ends=[new[inst.ends[v]] for v in vehicles],
        vehicle_window=[inst.vehicle_window[v] for v in vehicles],
        max_span=[inst.max_span[v] for v in vehicles],
        capacity=[inst.capacity[v] for v in vehicles],
        breaks=[inst.breaks[v] for v in vehicles],
        allowed={
            new[x]: [vset[v] for v in vs if v in vset] or [-1]
            for x, vs in inst.allowed.items()
            if x in new
        },
        penalty=[inst.drop_cost(x) for x in nodes],
        pairs=[(new[p], new[d], r) for p, d, r in inst.pairs if p in new and d in new],
        groups=[],
        locks={},
        preferred={new[x]: vset[v] for x, v in inst.preferred.items() if x in new and v in vset},
        continuity_cost=inst.continuity_cost,
        fixed_cost=inst.fixed_cost,
        soft_span=[inst.soft_span[v] for v in vehicles] if inst.soft_span else [],
        span_cost=inst.span_cost,
        balance_target=inst.balance_target,
        balance_cost=inst.balance_cost,
        time_scale=inst.time_scale,
        cost={m: a[ix] for m, a in (inst.cost or inst.time).items()},
    )
    return sub, nodes


def route_cost(inst: Instance, v: int, route: list[int]) -> int:
    """The route's share of the model's objective: arcs, continuity and fixed cost."""
    cost = (inst.cost or inst.time)[inst.vehicle_mode[v]]
    path = [inst.starts[v], *route, inst.ends[v]]
    total = int(sum(cost[a, b] for a, b in itertools.pairwise(path)))
    if inst.continuity_cost and inst.preferred:
        total += inst.continuity_cost * sum(
            1 for x in route if x in inst.preferred and inst.preferred[x] != v
        )
    if route and inst.fixed_cost:
        total += inst.fixed_cost
    return total


def _solve_sub(args):
    sub, t, init, first, *rest = args
    if rest:
        # A shared deadline (time.monotonic is system-wide): jobs that start late get less,
        # and model building counts against the time too.
        t = min(t, rest[0] - time.monotonic())
        if t < 0.2:
            return None
    raw = solver.solve_instance(sub, t, first_solution=first, initial_routes=init)
    if raw is None:
        return None
    return [r.nodes for r in raw.routes], raw.dropped


def _pool(workers: int):
    # fork keeps start-up cheap; OR-Tools holds no state across calls that matters here.
    ctx = mp.get_context("fork")
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx)


def sectors(
    coords: np.ndarray, centre: np.ndarray, customers: list[int], k: int
) -> list[list[int]]:
    """Cut customers into k sectors of equal size by polar angle around the centre."""
    ang = np.arctan2(coords[customers, 1] - centre[1], coords[customers, 0] - centre[0])
    order = [customers[i] for i in np.argsort(ang, kind="stable")]
    size = math.ceil(len(order) / k)
    return [order[i : i + size] for i in range(0, len(order), size)]


def cells(coords: np.ndarray, customers: list[int], k: int) -> list[list[int]]:
    """Cut customers into k compact cells of near-equal size by recursive median bisection."""
    if k <= 1 or len(customers) <= 1:
        return [customers]
    pts = coords[customers]
    axis = int(np.argmax(pts.max(axis=0) - pts.min(axis=0)))  # cut across the longer side
    order = [customers[i] for i in np.argsort(pts[:, axis], kind="stable")]
    k1 = k // 2
    cut = round(len(order) * k1 / k)
    return cells(coords, order[:cut], k1) + cells(coords, order[cut:], k - k1)


def construct(
    inst: Instance,
    coords: np.ndarray,
    time_limit_s: float,
    target: int,
    workers: int,
    seed: int,
    skip: frozenset[int] = frozenset(),
) -> dict[int, list[int]]:
    """Initial routes by solving parts of the day independently; vehicles shared out by size.

    One depot: angular sectors. Caregivers starting from their homes: compact cells by
    recursive bisection, each staffed by the caregivers living nearest it (on the 1,000-visit
    generated day at 30 s, 83.2k-83.5k s of travel against 86.2k-87.6k s with sectors).
    """
    pickup_of = {d: p for p, d, _ in inst.pairs}
    pickups = set(pickup_of.values())
    customers = [
        x
        for x in range(inst.n)
        if inst.kind[x] not in (START, END) and x not in pickups and x not in skip
    ]
    nv = inst.num_vehicles
    if not customers:  # e.g. only double-staffed visits, which the repair places
        return {v: [] for v in range(nv)}
    k = max(1, round(len(customers) / target))
    depot = len(set(inst.starts)) == 1
    if depot:
        # One depot: routes are petals around it, so angular sectors.
        centre = coords[inst.starts[0]]
        cut = sectors(coords, centre, customers, k)
    else:
        # Caregivers start from home all over the district: compact cells, not wedges.
        cut = cells(coords, customers, k)
    # A meal pickup (at the kitchen) always travels with its delivery.
    parts = [part + [pickup_of[x] for x in part if x in pickup_of] for part in cut]
    jobs = []
    if depot:
        free = list(range(nv))
        for i, part in enumerate(parts):
            share = max(1, math.floor(nv * len(part) / len(customers)))
            vs, free = free[:share], free[share:]
            if i == len(parts) - 1:
                vs, free = vs + free, []
            jobs.append((vs, part))
    else:
        # Each cell gets caregivers in proportion to its visits, those living nearest it first.
        home = coords[inst.starts]
        left = set(range(nv))
        shares = [max(1, math.floor(nv * len(part) / len(customers))) for part in parts]
        picks: list[list[int]] = [[] for _ in parts]
        centres = [coords[part].mean(axis=0) for part in parts]
        for i in np.argsort([-len(p) for p in parts], kind="stable"):
            d = np.hypot(*(home - centres[i]).T)
            for v in (int(x) for x in np.argsort(d, kind="stable")):
                if len(picks[i]) >= shares[i]:
                    break
                if v in left:
                    picks[i].append(v)
                    left.discard(v)
        for v in sorted(left):  # the rest to the cell nearest their home
            i = int(np.argmin([np.hypot(*(home[v] - c)) for c in centres]))
            picks[i].append(v)
        jobs = list(zip(picks, parts, strict=True))
    # A part left without vehicles stays loose; improve() hands its visits to nearby routes.
    jobs = [(vs, part) for vs, part in jobs if vs]
    routes: dict[int, list[int]] = {v: [] for v in range(nv)}
    args = []
    first = "PARALLEL_CHEAPEST_INSERTION"
    deadline = time.monotonic() + time_limit_s
    # Jobs run `workers` at a time: each wave gets an equal share of the budget.
    waves = math.ceil(len(jobs) / workers)
    per_job = max(0.5, time_limit_s / waves - 0.3)
    for vs, part in jobs:
        sub, _ = sub_instance(inst, vs, part)
        args.append((sub, per_job, None, first, deadline))
    with _pool(workers) as pool:
        results = list(pool.map(_solve_sub, args))
    for (vs, part), res in zip(jobs, results, strict=True):
        _, nodes = sub_instance(inst, vs, part)
        if res is None:
            continue
        for i, r in enumerate(res[0]):
            routes[vs[i]] = [nodes[x] for x in r]
    del seed
    return routes


def improve(
    inst: Instance,
    routes: dict[int, list[int]],
    deadline: float,
    workers: int,
    seed: int,
    routes_per_sub: int,
    sub_time_s: float,
    skip: frozenset[int] = frozenset(),
) -> dict[int, list[int]]:
    """Re-solve groups of neighbouring routes until the deadline; keep only improvements.

    Visits not yet in any route join the sub-problem of the route nearest to them.
    """
    rng = random.Random(seed)
    cost = (inst.cost or inst.time)[inst.vehicle_mode[0]]
    customers_all = [x for x in range(inst.n) if inst.kind[x] not in (START, END) and x not in skip]
    with _pool(workers) as pool:
        rounds = 0
        # Building and loading a sub-model costs about a second at this size.
        while time.monotonic() + sub_time_s * 0.5 + 1.0 < deadline:
            used = [v for v, r in routes.items() if r]
            empty = [v for v, r in routes.items() if not r]
            routed = {x for r in routes.values() for x in r}
            loose = [x for x in customers_all if x not in routed]
            if not used and not loose:
                break
            if not used:
                used = empty[:1]
                empty = empty[1:]
            reps = {
                v: routes[v][len(routes[v]) // 2] if routes[v] else inst.starts[v] for v in used
            }
            batches, taken = [], set()
            for _ in range(workers):
                pool_v = [v for v in used if v not in taken]
                if not pool_v:
                    break
                seed_v = rng.choice(pool_v)
                near = sorted(pool_v, key=lambda v, s=reps[seed_v]: cost[s, reps[v]])
                group = near[:routes_per_sub]
                # Two idle vehicles join, those starting nearest (all alike from one depot).
                spare = sorted(
                    (v for v in empty if v not in taken),
                    key=lambda v, s=reps[seed_v]: cost[inst.starts[v], s],
                )[:2]
                taken.update(group)
                taken.update(spare)
                batches.append((group + spare, group))
            home = {}
            if loose:
                rep_list = list(reps.items())
                delivery_of = {p: d for p, d, _ in inst.pairs}
                for x in loose:
                    if x not in delivery_of:
                        home[x] = min(rep_list, key=lambda vr, x=x: cost[vr[1], x])[0]
                for x in loose:
                    if x in delivery_of:
                        home[x] = home.get(delivery_of[x])
            left = deadline - time.monotonic() - 1.0
            t = max(0.5, min(sub_time_s, left))
            args, metas = [], []
            for vs, group in batches:
                extra = [x for x in loose if home.get(x) in group]
                customers = [x for v in vs for x in routes[v]] + extra
                sub, nodes = sub_instance(inst, vs, customers)
                back = {old: i for i, old in enumerate(nodes)}
                init = [[back[x] for x in routes[v]] for v in vs]
                args.append((sub, t, init, "PARALLEL_CHEAPEST_INSERTION", deadline))
                before = sum(route_cost(inst, v, routes[v]) for v in vs)
                before += sum(inst.drop_cost(x) for x in extra)
                metas.append((vs, nodes, before))
            for (vs, nodes, before), res in zip(metas, pool.map(_solve_sub, args), strict=True):
                if res is None:
                    continue
                new_routes = {vs[i]: [nodes[x] for x in r] for i, r in enumerate(res[0])}
                after = sum(route_cost(inst, v, r) for v, r in new_routes.items())
                after += sum(inst.drop_cost(nodes[x]) for x in res[1])
                if after < before:
                    routes.update(new_routes)
            rounds += 1
        log.info("decomposition: %d rounds", rounds)
    return routes


def solve_large(
    inst: Instance,
    coords: np.ndarray,
    time_limit_s: float,
    seed: int = 0,
    target: int | None = None,
    workers: int | None = None,
    sub_visits: int | None = None,
    sub_time_s: float | None = None,
    construct_share: float = 0.2,
    skip: frozenset[int] = frozenset(),
    own_share: float | None = None,
):
    """Construction, route-group improvement, then our own polish; routes as node lists.

    ``target``: visits per construction sector; ``sub_visits``: visits per improvement
    sub-problem; ``sub_time_s``: OR-Tools time per sub-problem; ``own_share``: the share of
    the time left to the polish (OWN_SHARE when None).
    """
    t0 = time.monotonic()
    workers = workers or max(1, min(2, os.cpu_count() or 1))
    target = target or 150
    sub_visits = sub_visits or 150
    # Short sub-problem searches, many rounds: on r1_10_1 at 60 s, 1.5 s per sub-problem gave
    # 6.7 % against 9.3 % at 5 s; on a 1,000-visit home-care day at 30 s, 1 s beat 1.6 and 2.5 s.
    sub_time_s = sub_time_s or max(1.0, min(2.0, time_limit_s / 40))
    deadline = t0 + time_limit_s
    fast = own_share is None and compiled(inst, skip, time_limit_s * KERNEL_SHARE)
    parts = 1
    if fast:
        own_share = KERNEL_SHARE
        visits = sum(1 for x in range(inst.n) if inst.kind[x] not in (START, END))
        parts = max(1, round(visits / target))
        if parts > 1 and time_limit_s * construct_share / math.ceil(parts / workers) < (
            CONSTRUCT_JOB_S
        ):
            # Too short for OR-Tools to construct the parts: the compiled search builds the
            # routes itself, all of its time.
            own_share = 1.0
    if own_share is None:
        own_share = OWN_SHARE
    construct_s = time_limit_s * construct_share
    if fast and parts == 1 and len(set(inst.starts)) > 1 and own_share < 1.0:
        # One part from homes: OR-Tools on one core while the other waits; the compiled
        # search on both gets the rest.
        construct_s = min(construct_s, ONE_PART_CONSTRUCT_S)
        own_share = 1.0 - construct_s / time_limit_s
    routes = (
        construct(inst, coords, construct_s, target, workers, seed, skip)
        if own_share < 1.0
        else {v: [] for v in range(inst.num_vehicles)}
    )
    used = [r for r in routes.values() if r]
    mean_len = float(np.mean([len(r) for r in used])) if used else 10.0
    per = max(2, round(sub_visits / max(1.0, mean_len)))
    own_from = deadline - own_share * time_limit_s
    if own_share < 1.0:
        routes = improve(inst, routes, own_from, workers, seed, per, sub_time_s, skip)
    if own_share > 0:
        routes = polish(inst, coords, routes, deadline, workers, seed, skip)
    return routes


def place_the_rest(
    inst: Instance, routes: dict[int, list[int]], seed: int, skip: frozenset[int] = frozenset()
) -> dict[int, list[int]]:
    """Visits still without a route get one greedy insertion pass, whatever the clock says.

    Every phase of ``solve_large`` stops at its deadline; on a slow or busy machine they can run
    out of time before every visit is placed (a sub-problem whose first solution came too late
    leaves its visits loose). For the benchmark command (``routing.solomon``, every customer
    must be served) a short limit should give a worse answer, never a partial one; the home-care
    planner has its own repair, by priority, for this.
    """
    routed = {x for r in routes.values() for x in r}
    if all(x in routed or x in skip for x in range(inst.n) if inst.kind[x] not in (START, END)):
        return routes
    search = recreate.Search(inst, routes, seed, skip)
    search.place_loose()
    return search.snapshot()


def _idle(inst: Instance) -> bool:
    """Whether the compiled search tries an idle vehicle for every visit it inserts, not only
    when no route has room (SISR's own rule, which keeps the fleet small but our objective is
    travel): from one depot, yes. On the Solomon subset at 10 s, a mean gap of 0.29 % against
    0.86 % (r201 0.25 % with 8 routes against 3.53 % with 5); on r1_10_1 and rc1_10_1 at 60 s,
    3.59 and 3.07 % against 4.01 and 3.24 % (load 17-23, single runs). From homes the idle
    caregivers living nearest each visit are tried anyway."""
    return len(set(inst.starts)) == 1


# The instance a polish's worker processes inherit when they are forked, and their searches.
_POLISH: dict = {}


def _polish_init() -> None:
    inst, skip, seed = _POLISH["shared"]
    if _POLISH.get("sisr"):
        _POLISH["kernel"] = sisr.Sisr(inst, idle=_idle(inst))
    else:
        _POLISH["ls"] = recreate.Search(inst, {}, seed, skip)


def _polish_part(args):
    routes, vehicles, customers, deadline, seed, heat, fleet_until, floor = args
    if "kernel" in _POLISH:
        kernel = _POLISH["kernel"]
        if fleet_until is not None and fleet_until > time.monotonic():
            until = min(deadline, fleet_until)
            routes = {**routes, **fleet.minimise(kernel, routes, vehicles, until, seed)}
            log.info("fleet minimisation: %d routes emptied", kernel.emptied)
        out = kernel.run(
            routes, vehicles, deadline, seed, heat, customers=customers, min_iters=floor
        )
        if not kernel.stuck:
            return out
        _POLISH.setdefault("ls", recreate.Search(kernel.inst, {}, seed, _POLISH["shared"][1]))
    ls = _POLISH["ls"]
    ls.rng.seed(seed)
    ls.reset(routes, vehicles, customers)
    best = ls.run(deadline, heat, fleet_until=fleet_until, min_iters=floor)
    return {v: best[v] for v in vehicles}


def angular_parts(
    inst: Instance,
    coords: np.ndarray,
    routes: dict[int, list[int]],
    parts: int,
    angle: float,
) -> list[list[int]]:
    """Vehicles cut into `parts` angular groups of about equal visits, starting at `angle`.

    A vehicle's place is its route's centre, or its start when idle; idle vehicles of a
    single depot are dealt round.
    """
    routed = [x for r in routes.values() for x in r]
    centre = coords[routed].mean(axis=0) if routed else coords.mean(axis=0)
    depot = len(set(inst.starts)) == 1
    placed, idle = [], []
    for v in range(inst.num_vehicles):
        r = routes.get(v, [])
        if not r and depot:
            idle.append(v)
            continue
        p = coords[r].mean(axis=0) if r else coords[inst.starts[v]]
        a = (math.atan2(p[1] - centre[1], p[0] - centre[0]) - angle) % (2 * math.pi)
        placed.append((a, v))
    placed.sort()
    total = max(1, len(routed))
    groups: list[list[int]] = [[] for _ in range(parts)]
    acc = 0
    for _, v in placed:
        k = min(parts - 1, acc * parts // total)
        groups[k].append(v)
        acc += len(routes.get(v, []))
    for i, v in enumerate(idle):
        groups[i % parts].append(v)
    return [g for g in groups if g]


def _day_cost(inst: Instance, routes: dict[int, list[int]], customers: list[int]) -> int:
    routed = {x for r in routes.values() for x in r}
    return sum(route_cost(inst, v, r) for v, r in routes.items() if r) + sum(
        inst.drop_cost(x) for x in customers if x not in routed
    )


# From one depot (the VRPTW benchmarks), the first share of the polish may minimise the fleet
# (recreate.Search.minimise_fleet). Off: at pure-Python speed it emptied no route of r1_10_1 or
# rc1_10_1 in 10 s (4,600-10,000 iterations, load 6), where the route-removal ruin of the
# ordinary search took rc1_10_1 from 104 to 96 routes in 20 s (docs/benchmarks.md).
FLEET_SHARE = 0.0
# With the compiled search, from one depot and SPLIT_FROM nodes, the compiled fleet
# minimisation (routing.fleet) takes the first KERNEL_FLEET_SHARE of the polish. r1_10_1 and
# rc1_10_1 at 60 s (load 3-6, single runs): 0 gave 108-109 and 93 routes, 2.97 and 3.07 %;
# 0.15 gave 109 and 92 routes, 2.54 and 2.27 %; 0.3 gave 110 and 92, 2.68 and 2.55 %; 0.45
# gave 108 and 92, 3.28 and 4.16 %. The distance search after it may open routes again.
KERNEL_FLEET_SHARE = 0.15
# Compiled search, caregivers from their homes, one construction part (up to about 225
# visits): OR-Tools constructs for at most ONE_PART_CONSTRUCT_S on one core (the other waits),
# then the compiled search gets the rest on both. The generated 120-visit day, 3 seeds (load
# 10-12): 15 s 25,382 / 25,382 / 25,261 s of travel against 25,412 / 25,382 / 25,382 with 20 %
# of the time; 30 s 25,349 / 25,349 / 25,261 against 25,349 / 25,382 / 25,373.
ONE_PART_CONSTRUCT_S = 2.0
# Below this many seconds of polish, the compiled search is used only if already loaded.
LOAD_S = 3.0
# Days of fewer nodes are searched whole by every worker (own seeds, the best kept) instead of
# being cut into halves: halves of a 100-customer instance leave too few moves.
SPLIT_FROM = 200
# Days of at most FLOOR_NODES nodes get at least one epoch of the polish, with its local search
# run to the end and FLOOR_ITERS ruin-and-recreate iterations, however busy the machine (a few
# milliseconds on such a day): a time limit of a second or two gives the same plan loaded or not.
FLOOR_NODES, FLOOR_ITERS = 40, 300


def compiled(inst: Instance, skip: frozenset[int], seconds: float) -> bool:
    """Whether the polish of this day is routing.sisr's compiled search.

    Compiled at install (make install) and loaded from numba's cache (about a second) when
    there are more than LOAD_S seconds; never compiled here (10-40 s).
    """
    return sisr.applies(inst, skip) and sisr.ready(load=seconds > LOAD_S)


def polish(
    inst: Instance,
    coords: np.ndarray,
    routes: dict[int, list[int]],
    deadline: float,
    workers: int,
    seed: int,
    skip: frozenset[int] = frozenset(),
    epoch_s: float = 6.0,
) -> dict[int, list[int]]:
    """Our own local search and ruin-and-recreate (routing.recreate), on all cores.

    Days that only have the rules of routing.sisr go to its compiled search when numba is
    installed (the `fast` extra).

    From one depot, fleet minimisation (recreate.Search.minimise_fleet) takes the first
    FLEET_SHARE of the time. Each epoch the vehicles are cut into one angular part per worker
    (at a new angle each time), every part is searched on its own, and the results are put
    together. Below SPLIT_FROM nodes every worker searches the whole day from the same routes
    with its own seed, and the cheapest result goes on to the next epoch.
    """
    start = time.monotonic()
    fast = compiled(inst, skip, deadline - start)
    floor = FLOOR_ITERS if inst.n <= FLOOR_NODES else 0
    if workers <= 1:
        kernel = sisr.Sisr(inst, idle=_idle(inst)) if fast else None
        if kernel is not None:
            vehicles, customers = list(range(inst.num_vehicles)), kernel.customers
            out = kernel.run(routes, vehicles, deadline, seed, customers=customers, min_iters=floor)
            if not kernel.stuck:
                return {**routes, **out}
        return recreate.improve(inst, routes, deadline, seed, skip, min_iters=floor)
    _POLISH["shared"] = (inst, skip, seed)
    _POLISH["sisr"] = fast
    rng = random.Random(seed)
    routes = dict(routes)
    customers = [x for x in range(inst.n) if inst.kind[x] not in (START, END) and x not in skip]
    split_from = inst.n >= SPLIT_FROM
    cost = (inst.cost or inst.time)[inst.vehicle_mode[0]]
    whole = max(1e-3, deadline - start)
    if fast:
        share = KERNEL_FLEET_SHARE if inst.n >= SPLIT_FROM and fleet.ready() else 0.0
    else:
        share = FLEET_SHARE
    fleet_until = start + share * whole if share and len(set(inst.starts)) == 1 else None
    ctx = mp.get_context("fork")
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_polish_init) as pool:
        epoch = 0
        while time.monotonic() + 0.5 < deadline or (floor and not epoch):
            now = time.monotonic()
            until = min(deadline, now + epoch_s)
            if deadline - until < 0.5 * epoch_s:
                until = deadline
            # (An epoch that starts late, for the floor of a tiny day, runs cold.)
            heat = (min(1.0, (now - start) / whole), min(1.0, (max(now, until) - start) / whole))
            # Nothing routed yet (no construction): each worker builds the whole day first.
            if not split_from or not any(routes.values()):
                args = [
                    (
                        routes,
                        list(range(inst.num_vehicles)),
                        customers,
                        until,
                        seed + 7919 * epoch + k,
                        heat,
                        fleet_until,
                        floor,
                    )
                    for k in range(workers)
                ]
                results = list(pool.map(_polish_part, args))
                routes = min(results, key=lambda r: _day_cost(inst, r, customers))
                epoch += 1
                continue
            groups = angular_parts(inst, coords, routes, workers, rng.uniform(0, 2 * math.pi))
            owner = {x: k for k, g in enumerate(groups) for v in g for x in routes.get(v, [])}
            routed = list(owner)
            loose = [x for x in customers if x not in owner]
            if loose and routed:
                # A visit left out goes with the part serving the visit nearest to it.
                near = np.asarray(routed)[np.argmin(cost[np.ix_(loose, routed)], axis=1)]
                part_of = {v: k for k, g in enumerate(groups) for v in g}
                for x, y in zip(loose, near.tolist(), strict=True):
                    only = inst.allowed.get(x)
                    # A visit for one caregiver (a fixed double-staffed visit) goes to theirs.
                    owner[x] = (
                        part_of.get(only[0], owner[y]) if only and len(only) == 1 else owner[y]
                    )
            args = []
            for k, g in enumerate(groups):
                part = {v: routes.get(v, []) for v in g}
                mine = [x for x in customers if owner.get(x, 0) == k]
                args.append(
                    (part, g, mine, until, seed + 7919 * epoch + k, heat, fleet_until, floor)
                )
            for res in pool.map(_polish_part, args):
                routes.update(res)
            epoch += 1
        log.info("polish: %d epochs", epoch)
    return routes
