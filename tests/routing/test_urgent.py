"""Urgent insertion into a running day."""

from __future__ import annotations

import numpy as np

from routing import (
    Caregiver,
    Location,
    Problem,
    Route,
    Solution,
    Stop,
    TimeWindow,
    UnassignedReason,
    Visit,
    insert_urgent,
    solve,
)
from routing.context import Context
from routing.kpis import kpis
from tests.routing.conftest import FAST, cg, visit


def _day(grid):
    # Caregiver 1: visit 10 at 0.3 (window [1000, 1100]) then visit 11 at 0.9 ([3000, 3100]).
    # Caregiver 2 lives at 3.0 and has visit 12 there.
    p = Problem(
        (cg(1), cg(2, loc=Location(0.0, 3.0))),
        (visit(10, 0.3, (1000, 1100)), visit(11, 0.9, (3000, 3100)), visit(12, 3.0, (5000, 5000))),
        settings=FAST,
    )
    return p, solve(p, grid)


def test_urgent_visit_goes_between_two_stops(grid):
    # New visit at 0.6 between 0.3 and 0.9: added travel 300 + 300 - 600 = 0 s. Visit 10 ends
    # at 1600, so arrival 1900, start 1900, end 2500, then 300 s to visit 11 (2800 <= 3100).
    p, sol = _day(grid)
    assert [r.visit_ids for r in sol.routes] == [(10, 11), (12,)]
    ins = insert_urgent(p, sol, visit(99, 0.6), grid)
    assert (ins.caregiver_id, ins.position, ins.arrival_s, ins.start_s, ins.added_travel_s) == (
        1,
        1,
        1900,
        1900,
        0,
    )


def test_urgent_visit_not_before_now(grid):
    # At 2000 the caregiver is free after visit 10 (which started at 1000 and is fixed);
    # the urgent visit may not start before now: start 2000, end 2600, at visit 11 by 2900.
    p, sol = _day(grid)
    ins = insert_urgent(p, sol, visit(99, 0.6), grid, now_s=2000)
    assert (ins.caregiver_id, ins.position, ins.start_s) == (1, 1, 2000)


def test_urgent_visit_without_a_place_says_why(grid):
    p, sol = _day(grid)
    nobody = insert_urgent(p, sol, visit(99, 0.6, required_skills=frozenset({"x"})), grid)
    assert not nobody.possible and nobody.reason is UnassignedReason.NO_QUALIFIED_CAREGIVER
    # Window [1000, 1000] at 0.6: caregiver 1 is at visit 10 then; caregiver 2 would need to
    # leave 3.0 at -1400. No place.
    late = insert_urgent(p, sol, visit(99, 0.6, (1000, 1000)), grid)
    assert not late.possible and late.reason is UnassignedReason.NO_TIME


def test_urgent_insertion_among_100_caregivers():
    # 100 caregivers with 8 hourly visits each, all within ~2 km of the centre.
    rng = np.random.default_rng(1)
    base = Location(30.27, 120.15)

    def near():
        return Location(base.lat + rng.uniform(-0.01, 0.01), base.lon + rng.uniform(-0.01, 0.01))

    cgs, visits, routes = [], [], []
    for k in range(100):
        c = Caregiver(k, near(), near(), 8 * 3600, 18 * 3600)
        cgs.append(c)
        stops = []
        for j in range(8):
            t = 8 * 3600 + 1800 + j * 3600
            v = Visit(k * 100 + j, near(), (TimeWindow(t, t + 900),), 1800)
            visits.append(v)
            stops.append(Stop(v.id, t - 300, t, t + 1800, 600, 2500))
        routes.append(Route(k, tuple(stops), 8 * 3600 + 1200, 17 * 3600 + 3000))
    p = Problem(tuple(cgs), tuple(visits))
    ctx = Context(p, None)
    sol = Solution(tuple(routes), (), kpis(ctx, routes, []), {})
    new = Visit(99_999, near(), (TimeWindow(12 * 3600, 16 * 3600),), 1200)
    # Its speed (well under a second) is measured by bench/homecare_routing.py, not here.
    ins = insert_urgent(p, sol, new, now_s=11 * 3600)
    assert ins.possible
