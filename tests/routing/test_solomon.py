"""Feasibility on Solomon benchmark instances, checked in floating point by this test's code."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from routing import solomon

DATA = Path("/work/shared/benchmarks/vrptw/solomon")
pytestmark = pytest.mark.skipif(not DATA.exists(), reason="benchmark data not available")


def check(path: Path, routes: list[list[int]]) -> float:
    rows = [
        [int(x) for x in line.split()]
        for line in path.read_text().splitlines()
        if len(line.split()) == 7 and line.split()[0].isdigit()
    ]
    header = path.read_text().split("CAPACITY")[1].split()
    vehicles, capacity = int(header[0]), int(header[1])
    assert sorted(c for r in routes for c in r) == list(range(1, len(rows)))
    assert len(routes) <= vehicles
    total = 0.0
    for r in routes:
        assert sum(rows[c][3] for c in r) <= capacity
        t, here = 0.0, 0
        for c in [*r, 0]:
            d = math.dist(rows[here][1:3], rows[c][1:3])
            total += d
            t = max(t + d, rows[c][4])
            assert t <= rows[c][5] + 1e-6, (c, t)
            t += rows[c][6]
            here = c
    return total


@pytest.mark.parametrize("name", ["r101", "rc101", "c201"])
def test_solomon_solution_is_feasible(name):
    res = solomon.solve(solomon.read(DATA / f"{name}.txt"), time_limit_s=1.5)
    assert res["feasible_by_solver"]
    assert check(DATA / f"{name}.txt", res["routes"]) == pytest.approx(res["distance"], abs=1e-3)


def test_solomon_command_prints_json():
    out = subprocess.run(  # noqa: S603 - our own module, fixed arguments
        [sys.executable, "-m", "routing.solomon", str(DATA / "c101.txt"), "--time-limit", "1"],
        capture_output=True,
        text=True,
        check=True,
    )
    d = json.loads(out.stdout)
    assert {"instance", "vehicles", "distance", "routes", "time_s"} <= set(d)
    assert d["instance"] == "c101" and d["vehicles"] == len(d["routes"])
    check(DATA / "c101.txt", d["routes"])


def test_portfolio_chain_falls_back_when_a_strategy_finds_no_first_solution():
    # On r101's tight windows with the header's 25 vehicles, PATH_CHEAPEST_ARC searches until the
    # time limit without finding a first solution. Alone it gives nothing; chained, its worker
    # passes to LOCAL_CHEAPEST_INSERTION after the probe and serves every customer.
    si = solomon.read(DATA / "r101.txt")
    inst = solomon.to_instance(si)
    assert solomon.portfolio(inst, 2.0, [("PATH_CHEAPEST_ARC",)], workers=1) is None
    res = solomon.portfolio(
        inst, 2.0, [("PATH_CHEAPEST_ARC", "LOCAL_CHEAPEST_INSERTION")], workers=1
    )
    assert res is not None
    routes, dropped = res
    assert dropped == []
    check(DATA / "r101.txt", [r for r in routes if r])
