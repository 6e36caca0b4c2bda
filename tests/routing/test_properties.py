"""Property tests: whatever the input, plans respect every constraint and drop nothing silently."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routing import (
    Break,
    Kitchen,
    Location,
    Problem,
    Settings,
    TimeWindow,
    Visit,
    VisitGroup,
    decompose,
    solve,
)
from tests.routing.checker import violations
from tests.routing.conftest import GridTravel, at, cg, visit

SKILLS = ["nurse", "bath", "meal"]


@st.composite
def problems(draw):
    n_cg = draw(st.integers(1, 3))
    cgs = []
    for i in range(n_cg):
        start = draw(st.integers(0, 3000))
        end = start + draw(st.integers(2000, 15000))
        brk = ()
        if draw(st.booleans()):
            e = draw(st.integers(start, end))
            brk = (Break(e, e + draw(st.integers(0, 1500)), draw(st.integers(300, 1200))),)
        cgs.append(
            cg(
                i + 1,
                shift=(start, end),
                loc=at(draw(st.floats(0, 1)) // 0.01 * 0.01),
                skills=frozenset(draw(st.lists(st.sampled_from(SKILLS), max_size=2))),
                gender=draw(st.sampled_from(["F", "M"])),
                max_work_s=draw(st.one_of(st.none(), st.integers(1500, 12000))),
                breaks=brk,
                box_capacity=draw(st.integers(0, 3)),
            )
        )
    visits = []
    for j in range(draw(st.integers(1, 8))):
        a = draw(st.integers(0, 15000))
        meal = draw(st.integers(0, 4)) == 0
        visits.append(
            visit(
                100 + j,
                draw(st.floats(0, 1.5)) // 0.01 * 0.01,
                windows=(TimeWindow(a, a + draw(st.integers(0, 4000))),),
                duration=draw(st.integers(0, 1800)),
                required_skills=frozenset(draw(st.lists(st.sampled_from(SKILLS), max_size=1))),
                required_gender=draw(st.sampled_from([None, None, "F"])),
                forbidden_caregivers=frozenset(draw(st.lists(st.integers(1, 3), max_size=1))),
                preferred_caregiver=draw(st.one_of(st.none(), st.integers(1, 3))),
                priority=draw(st.integers(1, 3)),
                meal_boxes=1 if meal else 0,
                kitchen_id=1 if meal else None,
                max_ride_s=draw(st.integers(300, 3000)) if meal else None,
            )
        )
    groups = ()
    if len(visits) >= 2 and draw(st.booleans()):
        groups = (VisitGroup((visits[0].id, visits[1].id)),)
    return Problem(
        tuple(cgs),
        tuple(visits),
        groups=groups,
        kitchens=(Kitchen(1, at(0.5), ready_s=0, pickup_s=60),),
        settings=Settings(time_limit_s=0.3, break_intervals_up_to=draw(st.sampled_from([120, 0]))),
    )


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_every_plan_is_feasible_and_complete(problem):
    grid = GridTravel()
    sol = solve(problem, grid)
    assert violations(problem, sol, grid) == []
    assert sol.kpis.visits_assigned + sol.kpis.visits_unassigned == len(problem.visits)


@settings(max_examples=60, deadline=None)
@given(
    pts=st.lists(
        st.tuples(st.floats(0, 1, allow_nan=False), st.floats(0, 1, allow_nan=False)),
        min_size=1,
        max_size=120,
    ),
    k=st.integers(1, 12),
)
def test_decomposition_cells_cover_every_visit_once_in_near_equal_parts(pts, k):
    # Caregivers starting from home get compact cells of the day's visits; each visit must be
    # in exactly one cell, and the cells' sizes differ by at most two (rounding at each cut).
    coords = np.array(pts)
    customers = list(range(len(pts)))
    parts = decompose.cells(coords, customers, k)
    assert sorted(x for p in parts for x in p) == customers
    if len(pts) >= k:
        sizes = [len(p) for p in parts]
        assert len(parts) == k
        assert max(sizes) - min(sizes) <= 2


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_decomposed_and_polished_plans_are_feasible_and_complete(problem):
    # The same small days through the large-day path: decomposition, then our own local
    # search (routing.localsearch) on the whole day.
    s = problem.settings
    problem = Problem(
        problem.caregivers,
        problem.visits,
        problem.groups,
        problem.kitchens,
        settings=Settings(
            time_limit_s=1.0, decompose_above=0, break_intervals_up_to=s.break_intervals_up_to
        ),
    )
    grid = GridTravel()
    sol = solve(problem, grid)
    assert violations(problem, sol, grid) == []
    assert sol.kpis.visits_assigned + sol.kpis.visits_unassigned == len(problem.visits)


def test_a_day_of_150_visits_is_polished_on_both_cores_and_keeps_every_rule():
    # 150 visits and 30 caregivers living all over a 3 x 3 km grid: enough nodes for the polish
    # to cut the day into one half per core. Skills, gender, usual caregivers and windows of
    # one to three hours; every visit can be served, and every route is checked independently.
    rng = np.random.default_rng(7)

    def place():
        return Location(round(float(rng.uniform(0, 3)), 2), round(float(rng.uniform(0, 3)), 2))

    cgs = []
    for i in range(30):
        home = place()
        cgs.append(
            cg(
                i + 1,
                shift=(7 * 3600, 17 * 3600),
                loc=home,
                skills=frozenset(["nurse"]) if i % 3 == 0 else frozenset(),
                gender="F" if i % 2 else "M",
                max_work_s=8 * 3600,
            )
        )
    visits = []
    for j in range(150):
        a = int(rng.integers(8, 14)) * 3600
        visits.append(
            Visit(
                1000 + j,
                place(),
                (TimeWindow(a, a + int(rng.integers(1, 4)) * 3600),),
                int(rng.choice([1800, 2700, 3600])),
                required_skills=frozenset(["nurse"]) if j % 10 == 0 else frozenset(),
                required_gender="F" if j % 7 == 0 else None,
                preferred_caregiver=int(rng.integers(1, 31)) if j % 2 else None,
            )
        )
    problem = Problem(
        tuple(cgs), tuple(visits), settings=Settings(time_limit_s=6, decompose_above=100)
    )
    grid = GridTravel()
    sol = solve(problem, grid)
    assert violations(problem, sol, grid) == []
    assert sol.kpis.visits_assigned == 150
