"""Soft overtime and workload balance (Settings.overtime_*, Settings.balance_cost), by hand.

GridTravel: Location(0, x) is 1000 x seconds from Location(0, 0) (tests/routing/conftest.py).
Every case runs twice: on the whole-day OR-Tools model where it applies, and on the decomposed
path with our own search (decompose_above=0).
"""

from __future__ import annotations

import pytest

from routing import Problem, Settings, solve
from tests.routing.checker import violations
from tests.routing.conftest import at, cg, visit

PATHS = {"model": {}, "own search": {"decompose_above": 0}}


def two_long_visits():
    # Both at 0.5 (500 s from home 0), 1,100 s each: one caregiver doing both works
    # 500 + 1100 + 1100 + 500 = 3,200 s.
    return (visit(1, 0.5, duration=1100), visit(2, 0.5, duration=1100))


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    ("cap", "served", "overtime"),
    [(0, 1, 0), (100, 1, 0), (300, 2, 200)],
)
def test_overtime_up_to_the_cap(grid, path, cap, served, overtime):
    # max_work_s 3,000: both visits need 200 s of overtime. Without overtime, or with a cap of
    # 100 s, one visit is left out; with a cap of 300 s both are done at 200 s of overtime,
    # which costs 10 x 200 = 2,000, far less than leaving a visit out (1,000,000).
    problem = Problem(
        (cg(1, max_work_s=3000),),
        two_long_visits(),
        settings=Settings(time_limit_s=2, overtime_cap_s=cap, overtime_cost=10, **PATHS[path]),
    )
    sol = solve(problem, grid)
    assert sol.kpis.visits_assigned == served
    assert sol.kpis.overtime_s == overtime
    work = sol.kpis.work_s_by_caregiver[1]
    assert work == 3200 if served == 2 else 2100 <= work <= 3000
    assert not violations(problem, sol, grid, overtime_cap_s=cap)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(("price", "alone"), [(10, True), (20, False)])
def test_overtime_at_its_price(grid, path, price, alone):
    # Caregiver 1 lives at 0 (may work 3,000 s, 300 s more as overtime), caregiver 2 at 2.0
    # (may work 5,000 s). Caregiver 1 doing both: travel 1,000, overtime 200. Each doing
    # one: travel 1,000 + 3,000 = 4,000, no overtime. At 10 per second of overtime caregiver 1
    # does both (1,000 + 2,000 < 4,000); at 20 they split (1,000 + 4,000 > 4,000).
    problem = Problem(
        (cg(1, max_work_s=3000), cg(2, loc=at(2.0), max_work_s=5000)),
        two_long_visits(),
        settings=Settings(time_limit_s=2, overtime_cap_s=300, overtime_cost=price, **PATHS[path]),
    )
    sol = solve(problem, grid)
    assert sol.kpis.visits_assigned == 2
    routes = {r.caregiver_id: r.visit_ids for r in sol.routes}
    if alone:
        assert sorted(routes[1]) == [1, 2] and routes[2] == ()
        assert (sol.kpis.overtime_s, sol.kpis.travel_s) == (200, 1000)
    else:
        assert len(routes[1]) == 1 and len(routes[2]) == 1
        assert (sol.kpis.overtime_s, sol.kpis.travel_s) == (0, 4000)


@pytest.mark.parametrize(("cost", "split"), [(0, False), (1, True)])
def test_balance_spreads_the_work(grid, cost, split):
    # Two caregivers at home 0; visits at 0.1 and 0.2, 1,000 s each.
    # One caregiver doing both: travel 100 + 100 + 200 = 400, works 2,400, the other 0.
    # Split: travel 200 + 400 = 600, works 1,200 and 1,400.
    # Fair share: (2 x 1,000 of visits + 100 + 100 of least travel into them) / 2 = 1,100.
    # At 1 per second past it: together 400 + 1,300 = 1,700; split 600 + 100 + 300 = 1,000.
    problem = Problem(
        (cg(1), cg(2)),
        (visit(1, 0.1, duration=1000), visit(2, 0.2, duration=1000)),
        settings=Settings(time_limit_s=2, balance_cost=cost),
    )
    sol = solve(problem, grid)
    assert sol.kpis.visits_assigned == 2
    work = sorted(sol.kpis.work_s_by_caregiver.values())
    if split:
        assert work == [1200, 1400] and sol.kpis.work_spread_s == 200
        assert sol.kpis.travel_s == 600
    else:
        assert work == [0, 2400] and sol.kpis.work_spread_s == 2400
        assert sol.kpis.travel_s == 400
    assert not violations(problem, sol, grid)
