"""Ruin and recreate (routing.recreate): route removal, fleet minimisation, time-aware neighbours.

Instances are the line instances of test_localsearch (a depot at 0, customers on a line, travel
and cost |dx|), so every answer can be worked out by hand.
"""

from __future__ import annotations

import time

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routing import localsearch, recreate
from routing.instance import END, START, VISIT, Instance
from tests.routing.test_localsearch import instances, line_instance, route_ok, start_routes


def used(routes) -> int:
    return sum(1 for r in routes.values() if r)


def test_fleet_minimisation_merges_routes_while_capacity_allows():
    # Customers at 10, 20 and 30, one route each (3 routes). With capacity 3 one route serves
    # all three (0-10-20-30-0 = 60); with capacity 2 two routes are the least.
    roomy = line_instance([10, 20, 30], capacity=3, vehicles=3)
    s = recreate.Search(roomy, {0: [1], 1: [2], 2: [3]})
    s.minimise_fleet(time.monotonic() + 1.0)
    assert used(s.ls.routes) == 1
    assert sorted(x for r in s.ls.routes.values() for x in r) == [1, 2, 3]
    tight = line_instance([10, 20, 30], capacity=2, vehicles=3)
    s = recreate.Search(tight, {0: [1], 1: [2], 2: [3]})
    s.minimise_fleet(time.monotonic() + 1.0)
    assert used(s.ls.routes) == 2
    assert sorted(x for r in s.ls.routes.values() for x in r) == [1, 2, 3]


def test_fleet_minimisation_does_not_hand_a_route_to_an_idle_caregiver():
    # Caregivers living at 0, 100 and 10 (the last idle); customers at 10 (route of the first)
    # and 30 (route of the second). Emptying the first route, its customer would cost nothing
    # with the idle caregiver living there, but that keeps two routes: it must go to the
    # second caregiver's route (100-30-10-100 or 100-10-30-100), leaving one route.
    homes, xs = [0, 100, 10], [10, 30]
    pts = homes + homes + xs
    d = np.abs(np.subtract.outer(pts, pts)).astype(np.int64)
    n = len(pts)
    inst = Instance(
        kind=[START] * 3 + [END] * 3 + [VISIT] * 2,
        ref=list(range(n)),
        service=np.zeros(n, dtype=np.int64),
        windows=[[(0, 1000)]] * n,
        demand=np.zeros(n, dtype=np.int64),
        time={"car": d},
        dist={"car": d},
        vehicle_mode=["car"] * 3,
        starts=[0, 1, 2],
        ends=[3, 4, 5],
        vehicle_window=[(0, 1000)] * 3,
        max_span=[None] * 3,
        capacity=[10] * 3,
        breaks=[[], [], []],
        penalty=[None] * n,
        finalize_times=False,
    )
    s = recreate.Search(inst, {0: [6], 1: [7]})
    s.minimise_fleet(time.monotonic() + 0.5)
    assert {v: r for v, r in s.ls.routes.items() if r}.keys() == {1}
    assert sorted(s.ls.routes[1]) == [6, 7]


def test_fleet_minimisation_keeps_routes_that_windows_keep_apart():
    # Two customers at 10, each to start at exactly 10 and served for 5: one caregiver cannot
    # start both at 10, so the two routes stay and nothing is lost.
    inst = line_instance([10, 10], windows=[[(10, 10)], [(10, 10)]], vehicles=2)
    inst.service[1:] = 5
    s = recreate.Search(inst, {0: [1], 1: [2]})
    s.minimise_fleet(time.monotonic() + 0.5)
    assert sorted(r for r in s.ls.routes.values() if r) == [[1], [2]]


def test_route_removal_ruin_takes_one_whole_route():
    inst = line_instance([10, 20, 30, 40], vehicles=2)
    s = recreate.Search(inst, {0: [1, 2], 1: [3, 4]})
    assert sorted(s.ruin_route(1)) == [3, 4]
    assert s.ls.routes[1] == [] and s.ls.routes[0] == [1, 2]
    assert 3 not in s.ls.where and 4 not in s.ls.where
    # Put back (capacity 10): on the way out to 40 they cost nothing more: 0-...-40-0 = 80.
    assert s.recreate([3, 4]) == []
    assert sorted(x for r in s.ls.routes.values() for x in r) == [1, 2, 3, 4]


def test_neighbours_count_waiting_and_window_clashes(monkeypatch):
    # A at 10 (window 0-10), B at 11 (window 500-510), C at 30 (window 20-40).
    # By travel alone B (1 away) is A's nearest. But going A then B waits 489 (0.2 x 489 =
    # 97.8) and B then A is 491 late: 1 + 97.8 = 98.8; A then C costs 20 with no wait or
    # lateness. So C is A's nearest, and B A's nearest when time does not count.
    windows = [[(0, 10)], [(500, 510)], [(20, 40)]]
    monkeypatch.setattr(localsearch, "NEIGHBOURS", 1)
    inst = line_instance([10, 11, 30], windows=windows)
    assert localsearch.LocalSearch(inst, {}).neigh[1] == [3]
    monkeypatch.setattr(localsearch, "WAIT_WEIGHT", 0.0)
    monkeypatch.setattr(localsearch, "WARP_WEIGHT", 0.0)
    assert localsearch.LocalSearch(inst, {}).neigh[1] == [2]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inst=instances(), seed=st.integers(0, 3), data=st.data())
def test_fleet_minimisation_keeps_every_rule_and_every_visit(inst, seed, data):
    customers = [x for x in range(inst.n) if inst.kind[x] == VISIT]
    start = start_routes(inst, data.draw(st.permutations(customers)))
    s = recreate.Search(inst, start, seed)
    out = s.run(time.monotonic() + 0.05, fleet_until=time.monotonic() + 0.03)
    for v, r in out.items():
        assert route_ok(inst, v, r), (v, r)
    before = sorted(x for r in start.values() for x in r)
    after = sorted(x for r in out.values() for x in r)
    assert len(after) == len(set(after))
    assert set(before) <= set(after)
