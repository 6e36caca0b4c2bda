"""Repair: visits the search left out are inserted where a feasible place exists."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, given, settings

from routing import Kitchen, Pin, Problem, Settings, UnassignedReason, VisitGroup, planner, solve
from tests.routing.checker import violations
from tests.routing.conftest import GridTravel, at, cg, visit
from tests.routing.test_properties import problems

# The first solution leaves every visit out and the search stops there: all placing is repair's.
NOTHING_PLACED = Settings(time_limit_s=1, first_solution="ALL_UNPERFORMED", solution_limit=1)


def _three_visits() -> Problem:
    return Problem(
        (cg(1),),
        (
            visit(101, 0.3, window=(1000, 1200), priority=2),
            visit(102, 0.5, window=(1500, 3000)),
            visit(103, 0.1, window=(1100, 1100), duration=100),
        ),
        settings=NOTHING_PLACED,
    )


def test_without_repair_the_search_leaves_every_visit_out(grid, monkeypatch):
    monkeypatch.setattr(planner, "REPAIR_BUDGET_S", 0.0)
    sol = solve(_three_visits(), grid)
    assert sol.kpis.visits_assigned == 0
    assert {u.reason for u in sol.unassigned} == {UnassignedReason.NOT_PLACED}


def test_repair_inserts_by_priority_then_travel_and_retimes_the_route(grid):
    problem = _three_visits()
    sol = solve(problem, grid)
    # Priority 2 first: 101 (300 s from home) into the empty route: leave 700, arrive and
    # start 1000, end 1600, home 1900. Then 102 (0.5): before 101 it would start 1500 and
    # reach 101 at 2300 > 1200; after 101: 1600 + 200 = 1800, start 1800, end 2400, home
    # 2400 + 500 = 2900. 103 (window 1100 exactly) cannot start at 1100 anywhere: before 101
    # 101 would start at 1200 + 200 = 1400 > 1200; after it the caregiver is busy till 1600.
    # (Cheapest travel first would put 103 in first — 200 s added against 101's 600 s — and
    # lose 101 instead.)
    (route,) = sol.routes
    assert [(s.visit_id, s.arrival_s, s.start_s, s.end_s) for s in route.stops] == [
        (101, 1000, 1000, 1600),
        (102, 1800, 1800, 2400),
    ]
    assert (route.depart_s, route.return_s, route.travel_s) == (700, 2900, 300 + 200 + 500)
    assert [(u.visit_id, u.reason) for u in sol.unassigned] == [(103, UnassignedReason.NO_TIME)]
    assert sol.stats["repaired"] == 2
    assert violations(problem, sol, grid) == []


def test_repair_places_a_double_staffed_visit_on_two_caregivers_at_one_start(grid):
    problem = Problem(
        (cg(1), cg(2, loc=visit(0, 1.0).location)),
        (visit(201, 0.4, window=(2000, 5000)), visit(202, 0.4, window=(2000, 5000))),
        groups=(VisitGroup((201, 202)),),
        settings=NOTHING_PLACED,
    )
    sol = solve(problem, grid)
    # Caregiver 1 is 400 s away, caregiver 2 600 s: both can be there by 2000, the window's
    # start, so both start at 2000; they leave home at 1600 and 1400.
    starts = {s.visit_id: (r.caregiver_id, s.start_s) for r in sol.routes for s in r.stops}
    assert sorted(starts.values()) == [(1, 2000), (2, 2000)]
    assert [r.depart_s for r in sol.routes] == [1600, 1400]
    assert sol.unassigned == ()
    assert violations(problem, sol, grid) == []


def test_a_group_with_one_free_caregiver_stays_out(grid):
    # Visit 301 (priority 3, repaired first) is pinned to caregiver 2 from 2000 to 6000, so
    # caregiver 2 has no room in the group's window 2000-5000; caregiver 1 alone is no pair.
    problem = Problem(
        (cg(1), cg(2)),
        (
            visit(201, 0.4, window=(2000, 5000)),
            visit(202, 0.4, window=(2000, 5000)),
            visit(301, 0.2, window=(2000, 2000), duration=4000, priority=3),
        ),
        groups=(VisitGroup((201, 202)),),
        pins=(Pin(301, caregiver_id=2),),
        settings=NOTHING_PLACED,
    )
    sol = solve(problem, grid)
    assert sol.kpis.visits_assigned == 1
    # Each half alone would fit caregiver 1; the pair does not, so it is not "NOT_PLACED".
    assert {(u.visit_id, u.reason) for u in sol.unassigned} == {
        (201, UnassignedReason.NO_TIME),
        (202, UnassignedReason.NO_TIME),
    }


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_plans_built_by_repair_alone_pass_the_checker(problem):
    problem = replace(
        problem,
        settings=replace(problem.settings, first_solution="ALL_UNPERFORMED", solution_limit=1),
    )
    grid = GridTravel()
    sol = solve(problem, grid)
    assert violations(problem, sol, grid) == []
    assert sol.kpis.visits_assigned + sol.kpis.visits_unassigned == len(problem.visits)


def test_repair_puts_a_meal_in_with_its_kitchen_pickup_first(grid):
    # The kitchen is at 0.2 (ready at 1000, loading 60 s); the client at 0.5 wants the meal
    # from 2000 (600 s of service, ride at most 1000 s). The only way: home 0 -> kitchen (200
    # s; waits to 1000, loads till 1060) -> client (300 s: arrives 1360, starts 2000)? That
    # rides 940 s. Leaving later is the same plan: the caregiver leaves home at 800. Travel
    # 200 + 300 + 500 = 1000.
    problem = Problem(
        (cg(1, box_capacity=2),),
        (visit(201, 0.5, window=(2000, 4000), meal_boxes=1, kitchen_id=7, max_ride_s=1000),),
        kitchens=(Kitchen(7, at(0.2), ready_s=1000, pickup_s=60),),
        settings=NOTHING_PLACED,
    )
    sol = solve(problem, grid)
    (route,) = sol.routes
    assert [(s.kind, s.visit_id, s.start_s, s.end_s) for s in route.stops] == [
        ("pickup", 201, 1000, 1060),
        ("visit", 201, 2000, 2600),
    ]
    assert route.travel_s == 1000
    assert sol.unassigned == () and sol.stats["repaired"] == 1
    assert violations(problem, sol, grid) == []


def test_a_meal_is_loaded_late_enough_for_its_ride(grid):
    # The same meal may ride only 500 s. Loading as early as the kitchen allows (1000-1060)
    # leaves 940 s to 2000; loading at 1440-1500 rides 500 s. The caregiver leaves home at 1240.
    problem = Problem(
        (cg(1, box_capacity=2),),
        (visit(201, 0.5, window=(2000, 4000), meal_boxes=1, kitchen_id=7, max_ride_s=500),),
        kitchens=(Kitchen(7, at(0.2), ready_s=1000, pickup_s=60),),
        settings=NOTHING_PLACED,
    )
    sol = solve(problem, grid)
    (route,) = sol.routes
    assert [(s.kind, s.arrival_s, s.start_s, s.end_s) for s in route.stops] == [
        ("pickup", 1440, 1440, 1500),
        ("visit", 1800, 2000, 2600),
    ]
    assert route.depart_s == 1240
    assert violations(problem, sol, grid) == []
