"""Our own local search (routing.localsearch): it only ever returns routes that keep every rule.

Instances are built directly (routing.instance.Instance) so that each answer can be worked out
by hand; the property test checks every result with this file's own route checker.
"""

from __future__ import annotations

import itertools
import math
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routing import recreate, solomon
from routing.instance import END, START, VISIT, Instance


def line_instance(xs, capacity=10, demand=None, windows=None, vehicles=2, span=None):
    """A depot at 0 and customers on a line at xs; travel = cost = |dx|; no service time."""
    pts = [0, *xs]
    n = len(pts)
    d = np.abs(np.subtract.outer(pts, pts)).astype(np.int64)
    return Instance(
        kind=[START] + [VISIT] * (n - 1),
        ref=list(range(n)),
        service=np.zeros(n, dtype=np.int64),
        windows=[[(0, 1000)]] + (windows or [[(0, 1000)]] * (n - 1)),
        demand=np.array([0, *(demand or [1] * (n - 1))], dtype=np.int64),
        time={"car": d},
        dist={"car": d},
        vehicle_mode=["car"] * vehicles,
        starts=[0] * vehicles,
        ends=[0] * vehicles,
        vehicle_window=[(0, 1000)] * vehicles,
        max_span=[span] * vehicles,
        capacity=[capacity] * vehicles,
        breaks=[[] for _ in range(vehicles)],
        penalty=[None] * n,
        finalize_times=False,
    )


def cost(inst: Instance, routes: dict[int, list[int]]) -> int:
    c = inst.time["car"]
    return sum(
        int(sum(c[a, b] for a, b in itertools.pairwise([inst.starts[v], *r, inst.ends[v]])))
        for v, r in routes.items()
        if r
    )


def soon() -> float:
    return time.monotonic() + 0.3


def test_moves_a_visit_to_the_route_where_it_is_on_the_way():
    # Customers at 10, 20 and 30 on one road, two vehicles of capacity 2 from the depot at 0.
    # Start: [10, 20] (0-10-20-0: 40) and [30] (60): 100. Capacity keeps all three apart, and
    # [10] + [20, 30] costs 20 + 60 = 80, the least of the feasible splits
    # ([10, 30] + [20]: 60 + 40 = 100). 20 belongs on the way out to 30.
    inst = line_instance([10, 20, 30], capacity=2)
    out = recreate.improve(inst, {0: [1, 2], 1: [3]}, soon())
    assert sorted(sorted(r) for r in out.values() if r) == [[1], [2, 3]]
    assert cost(inst, out) == 80


def test_capacity_keeps_routes_apart_even_when_one_would_be_shorter():
    # With room for all three, one route 0-10-20-30-0 (60) is best; capacity 2 forbids it.
    roomy = line_instance([10, 20, 30], capacity=3)
    assert cost(roomy, recreate.improve(roomy, {0: [1, 2], 1: [3]}, soon())) == 60
    tight = line_instance([10, 20, 30], capacity=2)
    out = recreate.improve(tight, {0: [1, 2], 1: [3]}, soon())
    assert max(len(r) for r in out.values()) == 2


def test_a_window_decides_the_order():
    # Customers at 10, 20 (window 50-60) and 30 (window 0-35); capacity 2.
    # [20, 30] reaches 20 at 20, waits to 50, reaches 30 at 60 > 35: infeasible.
    # [30, 20] reaches 30 at 30, then 20 at 40, waits to 50: feasible, 0-30-20-0 = 60.
    # So the best is [10] (20) + [30, 20] (60) = 80; the start [10, 20] (40) + [30] (60) is 100.
    windows = [[(0, 1000)], [(50, 60)], [(0, 35)]]
    inst = line_instance([10, 20, 30], capacity=2, windows=windows)
    out = recreate.improve(inst, {0: [1, 2], 1: [3]}, soon())
    assert cost(inst, out) == 80
    assert [3, 2] in out.values()


def test_maximum_span_counts_a_late_start():
    # Customers 1 and 2 both at 10; 1 must start at exactly 100. Span limit 30.
    # One route [2, 1] leaving at 80: 2 at 90, 1 at 100, home at 110: span 30, cost 20 against
    # 20 + 20 for two routes. Leaving at 0 it would span 110: only the late start makes it fit.
    windows = [[(100, 100)], [(0, 1000)]]
    inst = line_instance([10, 10], windows=windows, span=30)
    out = recreate.improve(inst, {0: [1], 1: [2]}, soon())
    assert cost(inst, out) == 20
    # If 2 must be served by 50, the caregiver leaves by 40 and is home at 110 at the
    # earliest: span 70 > 30. The two routes (each spanning 20) stay.
    windows = [[(100, 100)], [(0, 50)]]
    inst = line_instance([10, 10], windows=windows, span=30)
    out = recreate.improve(inst, {0: [1], 1: [2]}, soon())
    assert sorted(r for r in out.values() if r) == [[1], [2]]


def test_allowed_vehicles_are_kept():
    # Customers at 10 and 11; one vehicle would serve both for 22. Customer 2 may only go
    # with vehicle 1 and customer 1 only with vehicle 0: the two routes (20 + 22) must stay.
    inst = line_instance([10, 11])
    inst.allowed = {1: [0], 2: [1]}
    out = recreate.improve(inst, {0: [1], 1: [2]}, soon())
    assert out[0] == [1] and out[1] == [2]
    inst.allowed = {}
    assert cost(inst, recreate.improve(inst, {0: [1], 1: [2]}, soon())) == 22


def test_a_meal_is_not_delivered_later_than_its_ride_allows():
    # Kitchen pickup P at 10, its delivery D at 30 within 25 of leaving the kitchen; customer X
    # at 20 (window 15-25, 10 of service). Start: [P, D] (60) and [X] (40).
    # [P, X, D] would cost 60 in all, but the meal rides from 10 to 40: 30 > 25.
    # [P, D, X] reaches X at 40, after its window. [X, P, D]: X at 20-30, P at 40, D at 60
    # (ride 20): 0-20-10-30-0 = 80, the best that keeps every rule.
    inst = line_instance(
        [10, 20, 30], demand=[1, 0, -1], windows=[[(0, 1000)], [(15, 25)], [(0, 1000)]]
    )
    inst.service[2] = 10
    inst.pairs = [(1, 3, 25)]
    out = recreate.improve(inst, {0: [1, 3], 1: [2]}, soon())
    assert cost(inst, out) == 80
    assert [2, 1, 3] in out.values()


def test_a_meal_left_out_is_inserted_pickup_first():
    # Pickup P at 10 and its delivery D at 20 (ride at most 25) are in no route; the one route
    # serves X at 30. P and D on the way out: 0-10-20-30-0 = 60, as much as X alone: they cost
    # nothing extra, and the meal rides 10. Delivery before pickup is never an option.
    inst = line_instance([10, 20, 30], demand=[1, -1, 0])
    inst.pairs = [(1, 2, 25)]
    out = recreate.improve(inst, {0: [3], 1: []}, soon())
    assert [1, 2, 3] in out.values()
    assert cost(inst, out) == 60


def test_a_visit_left_out_is_inserted_where_it_fits():
    # Customer 2 (at 20) starts unrouted; it fits on the way to 30: 0-20-30-0 = 60 with 1 alone
    # (20): 80 in all.
    inst = line_instance([10, 20, 30], capacity=2)
    out = recreate.improve(inst, {0: [1], 1: [3]}, soon())
    assert sorted(x for r in out.values() for x in r) == [1, 2, 3]
    assert cost(inst, out) == 80


# -- property: whatever the instance, every route returned keeps every rule ----------------------


def route_ok(inst: Instance, v: int, nodes: list[int]) -> bool:
    """This file's own check: some departure time, and some start of the meal's pickup, make
    the whole route keep every rule (every other stop starts as early as it can)."""
    if not nodes:
        return True
    if any(x in inst.allowed and v not in inst.allowed[x] for x in nodes):
        return False
    load = list(itertools.accumulate(int(inst.demand[x]) for x in nodes))
    if max(load) > inst.capacity[v] or min(load) < 0:
        return False
    pos = {x: i for i, x in enumerate(nodes)}
    for p, d, _ in inst.pairs:
        if (p in pos) != (d in pos) or (p in pos and pos[p] > pos[d]):
            return False
    pickups = [p for p, _, r in inst.pairs if p in pos and r is not None]
    a0, b0 = inst.vehicle_window[v]
    for depart in range(a0, b0 + 1):
        # Waiting before a pickup (even past a window it could have started in) shortens the
        # meal's ride: try every start of the pickup, not only the earliest (the instances
        # here hold at most one meal).
        for hold in [{}] if not pickups else ({pickups[0]: h} for h in range(a0, b0 + 1)):
            verdict = _timed_ok(inst, v, nodes, depart, hold)
            if verdict is True:
                return True
            if verdict == "late" and hold:
                break  # holding the pickup later only makes every later stop later
        if _timed_ok(inst, v, nodes, depart, {}) == "late":
            break  # leaving later only arrives later
    return False


def _timed_ok(inst: Instance, v: int, nodes: list[int], depart: int, hold: dict[int, int]):
    """True if the route keeps every rule leaving at depart, each stop as early as it can
    (a pickup in hold not before its hold); "late" if a window or the shift end is missed."""
    T = inst.time[inst.vehicle_mode[v]]
    t, here, starts = depart, inst.starts[v], []
    for x in nodes:
        arr = max(t + int(T[here, x]), hold.get(x, 0))
        s = next((max(a, arr) for a, b in inst.windows[x] if arr <= b), None)
        if s is None:
            return "late"
        starts.append(s)
        t, here = s + int(inst.service[x]), x
    ret = t + int(T[here, inst.ends[v]])
    if ret > inst.vehicle_window[v][1]:
        return "late"
    if inst.max_span[v] is not None and ret - depart > inst.max_span[v]:
        return False
    pos = {x: i for i, x in enumerate(nodes)}
    return all(
        starts[pos[d]] - starts[pos[p]] - int(inst.service[p]) <= r
        for p, d, r in inst.pairs
        if p in pos and r is not None
    )


@st.composite
def instances(draw):
    nc = draw(st.integers(2, 9))
    nv = draw(st.integers(1, 4))
    homes = [draw(st.integers(0, 40)) for _ in range(nv)]
    xs = [draw(st.integers(0, 40)) for _ in range(nc)]
    pts = homes + homes + xs  # starts, ends, customers
    n = len(pts)
    d = np.abs(np.subtract.outer(pts, pts)).astype(np.int64)
    windows = [[(0, 150)]] * (2 * nv)
    for _ in range(nc):
        a = draw(st.integers(0, 100))
        ws = [(a, a + draw(st.integers(0, 40)))]
        if draw(st.booleans()):
            b = ws[0][1] + draw(st.integers(2, 20))
            ws.append((b, b + draw(st.integers(0, 20))))
        windows.append(ws)
    demand = [0] * (2 * nv) + [draw(st.integers(0, 2)) for _ in range(nc)]
    pairs = []
    if nc >= 2 and draw(st.booleans()):
        p, q = 2 * nv, 2 * nv + 1  # the first two customers: a meal pickup and its delivery
        demand[p], demand[q] = 1, -1
        pairs.append((p, q, draw(st.integers(5, 60))))
    allowed = {}
    for x in range(2 * nv, n):
        if draw(st.integers(0, 3)) == 0:
            allowed[x] = draw(st.lists(st.integers(0, nv - 1), min_size=1, unique=True))
    return Instance(
        kind=[START] * nv + [END] * nv + [VISIT] * nc,
        ref=list(range(n)),
        service=np.array([0] * (2 * nv) + [draw(st.integers(0, 10)) for _ in range(nc)]),
        windows=windows,
        demand=np.array(demand, dtype=np.int64),
        time={"car": d},
        dist={"car": d},
        vehicle_mode=["car"] * nv,
        starts=list(range(nv)),
        ends=list(range(nv, 2 * nv)),
        vehicle_window=[(0, 150)] * nv,
        max_span=[draw(st.one_of(st.none(), st.integers(20, 120))) for _ in range(nv)],
        capacity=[draw(st.integers(1, 4)) for _ in range(nv)],
        breaks=[[] for _ in range(nv)],
        allowed=allowed,
        penalty=[None] * n,
        pairs=pairs,
        finalize_times=False,
    )


def start_routes(inst: Instance, order: list[int]) -> dict[int, list[int]]:
    """Greedy: each customer appended to the first vehicle whose route stays feasible."""
    routes = {v: [] for v in range(inst.num_vehicles)}
    pickup = {d: p for p, d, _ in inst.pairs}
    delivery = {p for p, _, _ in inst.pairs}
    for x in order:
        if x in delivery:
            continue
        chunk = [pickup[x], x] if x in pickup else [x]
        for v in routes:
            if route_ok(inst, v, routes[v] + chunk):
                routes[v] += chunk
                break
    return routes


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inst=instances(), seed=st.integers(0, 3), data=st.data())
def test_every_route_returned_keeps_every_rule_and_no_visit_is_lost(inst, seed, data):
    customers = [x for x in range(inst.n) if inst.kind[x] == VISIT]
    order = data.draw(st.permutations(customers))
    start = start_routes(inst, order)
    out = recreate.improve(inst, start, time.monotonic() + 0.05, seed=seed)
    for v, r in out.items():
        assert route_ok(inst, v, r), (v, r)
    before = sorted(x for r in start.values() for x in r)
    after = sorted(x for r in out.values() for x in r)
    assert len(after) == len(set(after))
    assert set(before) <= set(after)
    if len(after) == len(before):
        assert cost(inst, out) <= cost(inst, start)


def test_a_meal_loaded_late_inside_a_route_that_must_leave_at_once_is_kept():
    # Found by the property test below. Everything at one place (no travel, no service). Stops
    # 10 and 11 must start at 0, so the caregiver leaves at 0; the meal's pickup 4 (windows 0-2
    # and 4-5) is loaded at 2, not 0, and its delivery 5 at 7 rides 5, its limit. Loading at 0
    # would ride 7: a checker that starts every stop as early as it can wrongly refuses it.
    nv, nc = 2, 8
    d = np.zeros((2 * nv + nc, 2 * nv + nc), dtype=np.int64)
    windows = [[(0, 2), (4, 5)], [(7, 7)], [(1, 4), (6, 7)], [(22, 45)], [(100, 140)]]
    inst = Instance(
        kind=[START] * nv + [END] * nv + [VISIT] * nc,
        ref=list(range(2 * nv + nc)),
        service=np.zeros(2 * nv + nc, dtype=np.int64),
        windows=[[(0, 150)]] * (2 * nv) + windows + [[(0, 0)]] * 3,
        demand=np.array([0] * 4 + [1, -1] + [0] * 6, dtype=np.int64),
        time={"car": d},
        dist={"car": d},
        vehicle_mode=["car"] * nv,
        starts=[0, 1],
        ends=[2, 3],
        vehicle_window=[(0, 150)] * nv,
        max_span=[None] * nv,
        capacity=[1] * nv,
        breaks=[[] for _ in range(nv)],
        allowed={6: [0], 10: [0], 11: [0]},
        penalty=[None] * (2 * nv + nc),
        pairs=[(4, 5, 5)],
        finalize_times=False,
    )
    assert route_ok(inst, 0, [10, 11, 4, 5, 6, 7, 8])
    start = {0: [4, 5, 6, 7, 8], 1: [9]}
    out = recreate.improve(inst, start, soon(), seed=0)
    assert all(route_ok(inst, v, r) for v, r in out.items())
    assert sorted(x for r in out.values() for x in r) == list(range(4, 12))


# -- on a benchmark instance, through the Solomon command's solver ----------------------------

HOMBERGER = Path("/work/shared/benchmarks/vrptw/homberger_400")


@pytest.mark.skipif(not HOMBERGER.exists(), reason="benchmark data not available")
def test_a_400_customer_instance_polished_on_both_cores_is_feasible():
    from tests.routing.test_solomon import check

    path = next(p for p in sorted(HOMBERGER.iterdir()) if p.name.lower().startswith("rc1_4_1"))
    si = solomon.read(path)
    res = solomon.solve(si, time_limit_s=6)
    assert res["feasible_by_solver"]
    assert math.isclose(check(path, res["routes"]), res["distance"], abs_tol=1e-3)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inst=instances(), seed=st.integers(0, 3), data=st.data())
def test_the_vector_screens_take_the_same_steps_as_the_pair_by_pair_tests(inst, seed, data):
    customers = [x for x in range(inst.n) if inst.kind[x] == VISIT]
    start = start_routes(inst, data.draw(st.permutations(customers)))
    far = time.monotonic() + 60
    fast = recreate.Search(inst, start, seed, vector=True)
    slow = recreate.Search(inst, start, seed, vector=False)
    assert fast.ls.arcs is not None and slow.ls.arcs is None
    assert fast.run(far, max_iters=15) == slow.run(far, max_iters=15)


def test_the_vector_screens_take_the_same_steps_on_a_solomon_instance():
    path = Path("/work/shared/benchmarks/vrptw/solomon")
    if not path.exists():
        pytest.skip("benchmark data not available")
    inst = solomon.to_instance(solomon.read(path / "rc101.txt"))
    # One route per customer: much for the local search to do.
    start = {v: [v + 1] for v in range(inst.n - 1)}
    inst = solomon.to_instance(solomon.read(path / "rc101.txt"), vehicles=inst.n - 1)
    far = time.monotonic() + 60
    fast = recreate.Search(inst, start, 3).run(far, max_iters=30)
    slow = recreate.Search(inst, start, 3, vector=False).run(far, max_iters=30)
    assert fast == slow
