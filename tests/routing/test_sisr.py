"""The compiled ruin and recreate for plain VRPTW days (routing.sisr).

Every route it returns keeps every rule (this file's own check, in the instance's integers),
no visit is lost and the cost never rises; compiled and plain Python take the same steps from
the same seed; a Solomon instance comes out feasible by the benchmark's own floating-point check.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routing import sisr, solomon
from routing.instance import START, VISIT, Instance

SOLOMON = Path("/work/shared/benchmarks/vrptw/solomon")


@pytest.fixture(scope="module", autouse=True)
def compiled():
    sisr.warm()  # a no-op without numba: the search then runs as plain Python


@st.composite
def plain_days(draw):
    """Customers on a grid: windows, service times, demands, a few vehicles leaving from a depot
    or each from its home, maybe a maximum working time each, maybe visits allowed to some."""
    nc = draw(st.integers(1, 12))
    nv = draw(st.integers(1, 4))
    homes = draw(st.booleans())
    grid = st.integers(0, 100)
    xy = np.array([[50, 50]] + [[draw(grid), draw(grid)] for _ in range(nc)])
    if homes:
        xy = np.vstack([xy, [[draw(grid), draw(grid)] for _ in range(nv)]])
    d = np.ceil(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))).astype(np.int64)
    close = 1000
    windows = [[(0, close)]]
    for _ in range(nc):
        a = draw(st.integers(0, 800))
        windows.append([(a, a + draw(st.integers(0, 200)))])
    starts = [nc + 1 + v for v in range(nv)] if homes else [0] * nv
    n = len(xy)
    windows += [[(0, close)]] * (n - nc - 1)
    allowed = {}
    for x in range(1, nc + 1):
        if draw(st.integers(0, 3)) == 0:
            allowed[x] = sorted(draw(st.sets(st.integers(0, nv - 1), min_size=1)))
    return Instance(
        kind=[START] + [VISIT] * nc + [START] * (n - nc - 1),
        ref=list(range(n)),
        service=np.array(
            [0] + [draw(st.integers(0, 30)) for _ in range(nc)] + [0] * (n - nc - 1),
            dtype=np.int64,
        ),
        windows=windows,
        demand=np.array(
            [0] + [draw(st.integers(0, 5)) for _ in range(nc)] + [0] * (n - nc - 1),
            dtype=np.int64,
        ),
        time={"car": d},
        dist={"car": d},
        vehicle_mode=["car"] * nv,
        starts=starts,
        ends=starts,
        vehicle_window=[(0, close)] * nv,
        max_span=[draw(st.one_of(st.none(), st.integers(100, 600))) for _ in range(nv)],
        capacity=[draw(st.integers(5, 15))] * nv,
        breaks=[[] for _ in range(nv)],
        allowed=allowed,
        penalty=[None] * n,
        finalize_times=False,
    )


def route_ok(inst: Instance, v: int, route: list[int]) -> bool:
    """Capacity, allowed caregivers, windows, shift end and maximum working time (every
    departure tried, one second apart), in this test's own code."""
    if sum(int(inst.demand[x]) for x in route) > inst.capacity[v]:
        return False
    if any(x in inst.allowed and v not in inst.allowed[x] for x in route):
        return False
    T = inst.time["car"]
    opens, closes = inst.vehicle_window[v]
    least = None
    for depart in range(opens, closes + 1):  # leaving later never makes a stop earlier
        t, here = depart, inst.starts[v]
        for x in route:
            ((a, b),) = inst.windows[x]
            t = max(t + int(T[here, x]), a)
            if t > b:
                break
            t, here = t + int(inst.service[x]), x
        else:
            end = t + int(T[here, inst.ends[v]])
            if end <= closes:
                least = end - depart if least is None else min(least, end - depart)
                if route and inst.max_span[v] is not None:
                    continue
        break
    return least is not None and (inst.max_span[v] is None or least <= inst.max_span[v])


def cost(inst: Instance, routes: dict[int, list[int]]) -> int:
    C = inst.time["car"]
    return sum(
        int(sum(C[a, b] for a, b in itertools.pairwise([inst.starts[v], *r, inst.ends[v]])))
        for v, r in routes.items()
        if r
    )


def visits_of(inst: Instance) -> list[int]:
    return [x for x in range(inst.n) if inst.kind[x] == VISIT]


def greedy(inst: Instance, order: list[int]) -> dict[int, list[int]]:
    routes: dict[int, list[int]] = {v: [] for v in range(inst.num_vehicles)}
    for x in order:
        for v in routes:
            if route_ok(inst, v, [*routes[v], x]):
                routes[v].append(x)
                break
    return routes


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inst=plain_days(), seed=st.integers(0, 5), data=st.data())
def test_every_route_keeps_every_rule_no_visit_is_lost_and_the_cost_never_rises(inst, seed, data):
    assert sisr.applies(inst)
    start = greedy(inst, data.draw(st.permutations(visits_of(inst))))
    vehicles = list(range(inst.num_vehicles))
    # Visits the greedy start left out are to be inserted first.
    everyone = visits_of(inst)
    search = sisr.Sisr(inst, idle=data.draw(st.booleans()))
    out = search.run(start, vehicles, time.monotonic() + 60, seed, max_iters=60, customers=everyone)
    assert not search.refused  # its own check found nothing to refuse
    assert set(out) == set(vehicles)
    for v, r in out.items():
        assert route_ok(inst, v, r), (v, r)
    if search.stuck:  # some visit found no place: the routes given come back
        assert out == start
        return
    assert sorted(x for r in out.values() for x in r) == everyone
    if sorted(x for r in start.values() for x in r) == everyone:
        assert cost(inst, out) <= cost(inst, start)


@pytest.mark.skipif(not sisr.AVAILABLE, reason="numba not installed")
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inst=plain_days(), seed=st.integers(0, 5), data=st.data())
def test_compiled_and_plain_python_take_the_same_steps(inst, seed, data):
    start = greedy(inst, data.draw(st.permutations(visits_of(inst))))
    vehicles = list(range(inst.num_vehicles))
    far = time.monotonic() + 60
    everyone = visits_of(inst)
    idle = data.draw(st.booleans())
    fast = sisr.Sisr(inst, idle=idle).run(
        start, vehicles, far, seed, max_iters=40, customers=everyone
    )
    slow = sisr.Sisr(inst, plain=True, idle=idle).run(
        start, vehicles, far, seed, max_iters=40, customers=everyone
    )
    assert fast == slow


def test_only_plain_days_are_taken():
    inst = solomon.to_instance(solomon.read(SOLOMON / "c101.txt")) if SOLOMON.exists() else None
    if inst is None:
        pytest.skip("benchmark data not available")
    assert sisr.applies(inst)
    inst.breaks = [[(0, 3600, 600)]] * inst.num_vehicles
    assert not sisr.applies(inst)


@pytest.mark.skipif(not SOLOMON.exists(), reason="benchmark data not available")
def test_a_solomon_instance_from_one_route_per_customer_comes_out_feasible_and_shorter():
    from tests.routing.test_solomon import check

    path = SOLOMON / "rc101.txt"
    si = solomon.read(path)
    inst = solomon.to_instance(si)
    start = {v: [v + 1] for v in range(si.customers)}
    inst = solomon.to_instance(si, vehicles=si.customers)
    iters = 3000 if sisr.AVAILABLE else 100
    out = sisr.Sisr(inst).run(start, list(start), time.monotonic() + 60, 1, max_iters=iters)
    routes = [r for r in out.values() if r]
    assert len(routes) < si.customers
    assert check(path, routes) < solomon.route_distance(si, list(start.values()))
