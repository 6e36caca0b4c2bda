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
    """A depot and customers on a grid: windows, service times, demands, a few vehicles."""
    nc = draw(st.integers(1, 12))
    nv = draw(st.integers(1, 4))
    grid = st.integers(0, 100)
    xy = np.array([[50, 50]] + [[draw(grid), draw(grid)] for _ in range(nc)])
    d = np.ceil(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))).astype(np.int64)
    close = 1000
    windows = [[(0, close)]]
    for _ in range(nc):
        a = draw(st.integers(0, 800))
        windows.append([(a, a + draw(st.integers(0, 200)))])
    return Instance(
        kind=[START] + [VISIT] * nc,
        ref=list(range(nc + 1)),
        service=np.array([0] + [draw(st.integers(0, 30)) for _ in range(nc)], dtype=np.int64),
        windows=windows,
        demand=np.array([0] + [draw(st.integers(0, 5)) for _ in range(nc)], dtype=np.int64),
        time={"car": d},
        dist={"car": d},
        vehicle_mode=["car"] * nv,
        starts=[0] * nv,
        ends=[0] * nv,
        vehicle_window=[(0, close)] * nv,
        max_span=[None] * nv,
        capacity=[draw(st.integers(5, 15))] * nv,
        breaks=[[] for _ in range(nv)],
        penalty=[None] * (nc + 1),
        finalize_times=False,
    )


def route_ok(inst: Instance, v: int, route: list[int]) -> bool:
    if sum(int(inst.demand[x]) for x in route) > inst.capacity[v]:
        return False
    T = inst.time["car"]
    t, here = inst.vehicle_window[v][0], inst.starts[v]
    for x in route:
        ((a, b),) = inst.windows[x]
        t = max(t + int(T[here, x]), a)
        if t > b:
            return False
        t, here = t + int(inst.service[x]), x
    return t + int(T[here, inst.ends[v]]) <= inst.vehicle_window[v][1]


def cost(inst: Instance, routes: dict[int, list[int]]) -> int:
    C = inst.time["car"]
    return sum(
        int(sum(C[a, b] for a, b in itertools.pairwise([0, *r, 0]))) for r in routes.values() if r
    )


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
    start = greedy(inst, data.draw(st.permutations(list(range(1, inst.n)))))
    vehicles = list(range(inst.num_vehicles))
    # Visits the greedy start left out are to be inserted first.
    everyone = list(range(1, inst.n))
    search = sisr.Sisr(inst)
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
    start = greedy(inst, data.draw(st.permutations(list(range(1, inst.n)))))
    vehicles = list(range(inst.num_vehicles))
    far = time.monotonic() + 60
    everyone = list(range(1, inst.n))
    fast = sisr.Sisr(inst).run(start, vehicles, far, seed, max_iters=40, customers=everyone)
    slow = sisr.Sisr(inst, plain=True).run(
        start, vehicles, far, seed, max_iters=40, customers=everyone
    )
    assert fast == slow


def test_only_plain_days_are_taken():
    inst = solomon.to_instance(solomon.read(SOLOMON / "c101.txt")) if SOLOMON.exists() else None
    if inst is None:
        pytest.skip("benchmark data not available")
    assert sisr.applies(inst)
    inst.max_span = [3600] * inst.num_vehicles
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
