"""The last phase of a decomposed search: our own search polishes the whole day on all cores.

`routing.decompose` builds the routes (OR-Tools on parts of the day, then on groups of
routes); this polish takes them to the deadline with our own local search and
ruin-and-recreate (routing.recreate), or with the compiled search of routing.sisr (and the
fleet minimisation of routing.fleet) on days that only have its rules: one angular part of
the day per worker, the parts cut anew every epoch.
"""

from __future__ import annotations

import logging
import math
import multiprocessing as mp
import random
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from routing import fleet, recreate, sisr
from routing.instance import END, START, Instance

log = logging.getLogger(__name__)


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
    return sum(inst.route_cost(v, r) for v, r in routes.items() if r) + sum(
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
