"""Large instances: solve geographic slices in parallel, improve groups of routes, then polish.

A 1,000-visit day is too big for OR-Tools' local search to converge in a minute. Three phases:
first the visits are cut into parts (angular sectors around one depot, compact cells when
caregivers start from home), each with a share of the fleet, solved by OR-Tools side by side;
then, repeatedly, a few neighbouring routes are cut out together with their visits and re-solved
by OR-Tools from their current routes, a result replacing the old routes only if it serves the
same visits for less; last, our own local search and ruin-and-recreate (routing.recreate)
polish the whole day, one angular half per core, the halves cut anew every few seconds
(routing.polish).
"""

from __future__ import annotations

import logging
import math
import multiprocessing as mp
import os
import random
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from routing import polish, recreate, solver
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
# each visit (routing.polish): on the Solomon subset at 10 s, mean gap 0.29 % against 1.74 %
# for the Python search (load 17-20); on generated home-care days at 30 s, 120 visits 25,382 s
# of travel against 25,626 and 400 visits 46,213 against 48,666 (load 18-20).
KERNEL_SHARE = 0.8
# Below this many seconds per OR-Tools construction job (each of about `target` visits, `workers`
# at a time), a day the compiled search takes is built by that search from nothing. On the
# generated 1,000-visit plain day at 10 s (0.5 s per job): 73,589 s of travel, every visit
# served, against 102,966 s with 907 served and 14.7 s of wall time (the jobs found no first
# solution; load 17); the 400-visit day at 10 s: 47,095 against 48,309 (PyVRP 49,720).
CONSTRUCT_JOB_S = 1.0
# Compiled search, caregivers from their homes, one construction part (up to about 225
# visits): OR-Tools constructs for at most ONE_PART_CONSTRUCT_S on one core (the other waits),
# then the compiled search gets the rest on both. The generated 120-visit day, 3 seeds (load
# 10-12): 15 s 25,382 / 25,382 / 25,261 s of travel against 25,412 / 25,382 / 25,382 with 20 %
# of the time; 30 s 25,349 / 25,349 / 25,261 against 25,349 / 25,382 / 25,373.
ONE_PART_CONSTRUCT_S = 2.0


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
                before = sum(inst.route_cost(v, routes[v]) for v in vs)
                before += sum(inst.drop_cost(x) for x in extra)
                metas.append((vs, nodes, before))
            for (vs, nodes, before), res in zip(metas, pool.map(_solve_sub, args), strict=True):
                if res is None:
                    continue
                new_routes = {vs[i]: [nodes[x] for x in r] for i, r in enumerate(res[0])}
                after = sum(inst.route_cost(v, r) for v, r in new_routes.items())
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
    fast = own_share is None and polish.compiled(inst, skip, time_limit_s * KERNEL_SHARE)
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
        routes = polish.polish(inst, coords, routes, deadline, workers, seed, skip)
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
