"""PyVRP side of the routing benchmarks (a dev/bench extra, never imported by routing/)."""

from __future__ import annotations

import itertools
import math
import time

import numpy as np


def solve_vrptw(
    xy,
    demand,
    ready,
    due,
    service,
    capacity,
    vehicles,
    time_limit_s,
    seed=0,
    scale=1000,
    duration=None,
    cost=None,
    required=True,
    prize=None,
):
    """Solve a single-depot VRPTW with PyVRP; node 0 is the depot. Returns routes of node ids.

    Travel is the Euclidean distance scaled by ``scale``; durations are rounded up so that its
    solutions stay feasible with unrounded distances; distances are rounded to nearest.
    ``duration``/``cost`` may be given as (n, n) integer matrices instead (already scaled).
    """
    from pyvrp import Model
    from pyvrp.stop import MaxRuntime

    n = len(xy)
    if duration is None or cost is None:
        d = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2))
        duration = np.ceil(d * scale - 1e-6).astype(np.int64)
        cost = np.rint(d * scale).astype(np.int64)
    m = Model()
    locs = [m.add_location(x=round(xy[i][0] * 1000), y=round(xy[i][1] * 1000)) for i in range(n)]
    depot = m.add_depot(locs[0], tw_early=int(ready[0]), tw_late=int(due[0]))
    m.add_vehicle_type(
        num_available=vehicles,
        capacity=int(capacity),
        start_depot=depot,
        end_depot=depot,
        tw_early=int(ready[0]),
        tw_late=int(due[0]),
    )
    for i in range(1, n):
        m.add_client(
            locs[i],
            delivery=int(demand[i]),
            service_duration=int(service[i]),
            tw_early=int(ready[i]),
            tw_late=int(due[i]),
            required=required,
            prize=0 if prize is None else int(prize[i]),
        )
    dur = duration.tolist()
    cst = cost.tolist()
    for i in range(n):
        for j in range(n):
            if i != j:
                m.add_edge(locs[i], locs[j], distance=cst[i][j], duration=dur[i][j])
    t0 = time.monotonic()
    res = m.solve(stop=MaxRuntime(time_limit_s), seed=seed, display=False)
    wall = time.monotonic() - t0
    best = res.best
    # Activities number clients 0.. in the order added; our node k is client k-1.
    offset = 1
    routes = [[int(a.idx) + offset for a in r if a.is_client()] for r in best.routes()]
    return {
        "routes": routes,
        "feasible": bool(best.is_feasible()),
        "time_s": round(wall, 2),
        "cost": best.distance(),
    }


def route_length(xy, routes) -> float:
    total = 0.0
    for r in routes:
        path = [0, *r, 0]
        total += sum(math.dist(xy[a], xy[b]) for a, b in itertools.pairwise(path))
    return total
