"""Speed of the travel matrix (1,000 x 1,000) and of urgent insertion among 100 caregivers.

Usage: python bench/routing_speed.py [--repeat 5]
Prints one JSON object and a one-line summary. Targets: both under 1 s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from routing import (
    Caregiver,
    GeodesicTravel,
    Location,
    Problem,
    Route,
    Solution,
    Stop,
    TimeWindow,
    Visit,
    insert_urgent,
)
from routing.context import Context
from routing.kpis import kpis


def _timed(fn, repeat: int) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def matrix_times(repeat: int) -> list[float]:
    rng = np.random.default_rng(0)
    pts = [Location(29.28 + rng.random() * 0.08, 120.03 + rng.random() * 0.1) for _ in range(1000)]
    travel = GeodesicTravel()
    return _timed(lambda: travel.matrix(pts, pts, "ebike"), repeat)


def urgent_times(repeat: int) -> list[float]:
    # 100 caregivers, each with 8 hourly visits already planned, all within ~2 km.
    rng = np.random.default_rng(1)
    base = Location(29.31, 120.08)

    def near() -> Location:
        return Location(base.lat + rng.uniform(-0.01, 0.01), base.lon + rng.uniform(-0.01, 0.01))

    cgs, visits, routes = [], [], []
    for k in range(100):
        cgs.append(Caregiver(k, near(), near(), 8 * 3600, 18 * 3600))
        stops = []
        for j in range(8):
            t = 8 * 3600 + 1800 + j * 3600
            v = Visit(k * 100 + j, near(), (TimeWindow(t, t + 900),), 1800)
            visits.append(v)
            stops.append(Stop(v.id, t - 300, t, t + 1800, 600, 2500))
        routes.append(Route(k, tuple(stops), 8 * 3600 + 1200, 17 * 3600 + 3000))
    problem = Problem(tuple(cgs), tuple(visits))
    solution = Solution(tuple(routes), (), kpis(Context(problem, None), routes, []), {})
    new = Visit(99_999, near(), (TimeWindow(12 * 3600, 16 * 3600),), 1200)
    return _timed(lambda: insert_urgent(problem, solution, new, now_s=11 * 3600), repeat)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    m, u = matrix_times(args.repeat), urgent_times(args.repeat)
    result = {
        "matrix_1000x1000_s": {"min": min(m), "median": statistics.median(m), "max": max(m)},
        "urgent_100_caregivers_s": {"min": min(u), "median": statistics.median(u), "max": max(u)},
        "repeat": args.repeat,
    }
    print(json.dumps(result, indent=2))
    worst = max(statistics.median(m), statistics.median(u))
    print(
        f"matrix 1000x1000 median {statistics.median(m):.3f} s; "
        f"urgent insertion (100 caregivers) median {statistics.median(u):.3f} s; "
        f"targets < 1 s: {'met' if worst < 1 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
