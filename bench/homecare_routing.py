"""Home-care routing benchmark on generated district days: our solver, side by side with PyVRP.

    .venv/bin/python bench/homecare_routing.py --visits 120,400,1000 --time-limit 30 [--pyvrp]
        [--solver-seeds 0,1,2]

A day: a 6 x 6 km district (Hangzhou-like coordinates), caregivers living in it who start and
end at home on e-bikes, visits of 30-90 min with 1-3 h windows, shifts of 8-9 h with a
maximum working time. The "plain" variant is what PyVRP can express too (multi-depot VRPTW
with shift limits), and both minimise travel time on the same integer matrix. The "full"
variant adds skills, gender requirements, refusals, a lunch break, usual caregivers,
double-staffed visits and meal runs; only our solver runs it and its KPIs are reported.
Prints one JSON line per run and a one-line summary.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from routing import (  # noqa: E402 - after the path tweak so the bench runs from anywhere
    Break,
    Caregiver,
    GeodesicTravel,
    Kitchen,
    Location,
    Problem,
    Settings,
    TimeWindow,
    Visit,
    VisitGroup,
    solve,
)

CENTRE = (30.2741, 120.1551)
H = 3600


def generate(n_visits: int, seed: int, full: bool) -> Problem:
    rng = random.Random(seed)

    def place():
        # ~6 km square: 0.054 deg of latitude, 0.062 deg of longitude at 30 N.
        return Location(
            round(CENTRE[0] + rng.uniform(-0.027, 0.027), 6),
            round(CENTRE[1] + rng.uniform(-0.031, 0.031), 6),
        )

    n_cg = max(4, round(n_visits / 5))
    caregivers = []
    for i in range(n_cg):
        start = rng.choice([7, 8, 8, 8, 9]) * H
        home = place()
        caregivers.append(
            Caregiver(
                id=i + 1,
                start=home,
                end=home,
                shift_start_s=start,
                shift_end_s=start + 9 * H,
                skills=frozenset(rng.sample(["nurse", "bath", "dementia"], rng.randint(0, 2)))
                if full
                else frozenset(),
                gender=rng.choice(["F", "F", "F", "M"]) if full else None,
                travel_mode="ebike",
                max_work_s=8 * H,
                breaks=(Break(11 * H + 1800, 13 * H, 1800),) if full else (),
                box_capacity=4 if full else 0,
            )
        )
    visits = []
    for j in range(n_visits):
        a = rng.randint(8 * H, 15 * H) // 900 * 900
        width = rng.choice([1, 2, 2, 3]) * H
        meal = full and rng.random() < 0.08
        visits.append(
            Visit(
                id=1000 + j,
                location=place(),
                windows=(TimeWindow(a, a + width),),
                duration_s=rng.choice([30, 45, 60, 60, 90]) * 60 if not meal else 300,
                required_skills=frozenset(
                    [rng.choice(["nurse", "bath", "dementia"])]
                    if full and rng.random() < 0.3
                    else []
                ),
                required_gender="F" if full and rng.random() < 0.1 else None,
                forbidden_caregivers=frozenset([rng.randint(1, n_cg)])
                if full and rng.random() < 0.05
                else frozenset(),
                preferred_caregiver=rng.randint(1, n_cg) if full and rng.random() < 0.5 else None,
                meal_boxes=1 if meal else 0,
                kitchen_id=1 if meal else None,
                max_ride_s=2700 if meal else None,
                priority=rng.choice([1, 1, 1, 2]) if full else 1,
            )
        )
    groups = []
    if full:
        for k in range(0, min(n_visits // 40, 25) * 2, 2):
            a, b = visits[k], visits[k + 1]
            visits[k + 1] = Visit(
                b.id, a.location, a.windows, a.duration_s, required_skills=a.required_skills
            )
            groups.append(VisitGroup((a.id, b.id)))
    kitchens = (Kitchen(1, Location(*CENTRE), ready_s=10 * H, pickup_s=60),) if full else ()
    return Problem(tuple(caregivers), tuple(visits), groups=tuple(groups), kitchens=kitchens)


def travel_of(problem: Problem, routes: dict[int, list[int]], travel) -> int:
    """Total travel seconds of routes given as caregiver id -> visit ids, on our matrix."""
    cgs = {c.id: c for c in problem.caregivers}
    visits = {v.id: v for v in problem.visits}
    total = 0
    for cid, vids in routes.items():
        if not vids:
            continue
        c = cgs[cid]
        path = [c.start, *(visits[v].location for v in vids), c.end]
        m = travel.matrix(path, path, c.travel_mode).seconds
        total += int(sum(m[i, i + 1] for i in range(len(path) - 1)))
    return total


def run_pyvrp(problem: Problem, travel, time_limit: float, seed: int) -> dict:
    from pyvrp import Model
    from pyvrp.stop import MaxRuntime

    cgs, visits = problem.caregivers, problem.visits
    places = [c.start for c in cgs] + [v.location for v in visits]
    secs = travel.matrix(places, places, "ebike").seconds
    m = Model()
    locs = [m.add_location(x=int(p.lon * 1e6), y=int(p.lat * 1e6)) for p in places]
    depots = [m.add_depot(locs[i]) for i in range(len(cgs))]
    for i, c in enumerate(cgs):
        m.add_vehicle_type(
            num_available=1,
            start_depot=depots[i],
            end_depot=depots[i],
            tw_early=c.shift_start_s,
            tw_late=c.shift_end_s,
            shift_duration=c.max_work_s or 10**9,
            name=str(c.id),
        )
    for j, v in enumerate(visits):
        w = v.windows[0]
        m.add_client(
            locs[len(cgs) + j],
            service_duration=v.duration_s,
            tw_early=w.start_s,
            tw_late=w.end_s,
            required=False,
            prize=1_000_000,
        )
    rows = secs.tolist()
    for a in range(len(places)):
        for b in range(len(places)):
            if a != b:
                m.add_edge(locs[a], locs[b], distance=rows[a][b], duration=rows[a][b])
    t0 = time.monotonic()
    res = m.solve(stop=MaxRuntime(time_limit), seed=seed, display=False)
    wall = time.monotonic() - t0
    routes: dict[int, list[int]] = {}
    for r in res.best.routes():
        cid = cgs[r.vehicle_type()].id
        routes[cid] = [visits[a.idx].id for a in r if a.is_client()]
    served = sum(len(v) for v in routes.values())
    return {
        "routes": routes,
        "feasible": bool(res.best.is_feasible()),
        "served": served,
        "time_s": round(wall, 2),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--visits", default="120,400,1000")
    ap.add_argument("--time-limit", type=float, default=30)
    ap.add_argument("--seed", type=int, default=1, help="the day's seed (and PyVRP's)")
    ap.add_argument(
        "--solver-seeds",
        default="",
        help="comma-separated seeds for our solver, one run each (default: --seed)",
    )
    ap.add_argument("--pyvrp", action="store_true")
    ap.add_argument("--full", action="store_true", help="also run the full-constraint variant")
    ap.add_argument("--out")
    args = ap.parse_args(argv)
    travel = GeodesicTravel()
    seeds = [int(x) for x in args.solver_seeds.split(",") if x] or [args.seed]
    results = []
    for n in (int(x) for x in args.visits.split(",")):
        variants = [("plain", False)] + ([("full", True)] if args.full else [])
        for name, full in variants:
            day = generate(n, args.seed, full)
            mine = []
            for seed in seeds:
                p = Problem(
                    day.caregivers,
                    day.visits,
                    day.groups,
                    day.kitchens,
                    settings=Settings(time_limit_s=args.time_limit, seed=seed),
                )
                t0 = time.monotonic()
                sol = solve(p, travel)
                wall = time.monotonic() - t0
                ours = {r.caregiver_id: list(r.visit_ids) for r in sol.routes}
                row = {
                    "visits": n,
                    "seed": seed,
                    "variant": name,
                    "solver": "ours",
                    "caregivers": len(p.caregivers),
                    "served": sol.kpis.visits_assigned,
                    "travel_s": sol.kpis.travel_s,
                    "recomputed_travel_s": travel_of(p, ours, travel) if name == "plain" else None,
                    "caregivers_used": sol.kpis.caregivers_used,
                    "time_s": round(wall, 2),
                    "unassigned": {},
                }
                for u in sol.unassigned:
                    row["unassigned"][u.reason.value] = row["unassigned"].get(u.reason.value, 0) + 1
                if full:
                    k = sol.kpis
                    row.update(
                        continuity_rate=k.continuity_rate,
                        idle_s=k.idle_s,
                        utilisation=round(k.utilisation, 3),
                    )
                results.append(row)
                mine.append(row)
                print(json.dumps(row), flush=True)
            if args.pyvrp and name == "plain":
                pv = run_pyvrp(p, travel, args.time_limit, args.seed)
                prow = {
                    "visits": n,
                    "variant": name,
                    "solver": "pyvrp",
                    "served": pv["served"],
                    "feasible": pv["feasible"],
                    "travel_s": travel_of(p, pv["routes"], travel),
                    "caregivers_used": sum(1 for r in pv["routes"].values() if r),
                    "time_s": pv["time_s"],
                }
                base = prow["travel_s"]
                for row in mine:
                    row["gap_to_pyvrp_pct"] = (
                        round(100 * (row["travel_s"] - base) / base, 2) if base else None
                    )
                    row["ratio_to_pyvrp"] = round(row["travel_s"] / base, 4) if base else None
                results.append(prow)
                print(json.dumps(prow), flush=True)
    parts = []
    for (n, variant), rows in itertools.groupby(
        [r for r in results if r["solver"] == "ours"], key=lambda r: (r["visits"], r["variant"])
    ):
        rows = list(rows)
        travel_s = [r["travel_s"] for r in rows]
        text = (
            f"{n} {variant}: served {min(r['served'] for r in rows)}/{n}, travel "
            f"mean {statistics.mean(travel_s):.0f} s, worst {max(travel_s)} s"
        )
        ratios = [r["ratio_to_pyvrp"] for r in rows if r.get("ratio_to_pyvrp") is not None]
        if ratios:
            text += f", ÷ PyVRP mean {statistics.mean(ratios):.3f}, worst {max(ratios):.3f}"
        parts.append(text)
    line = "; ".join(parts)
    print(f"SUMMARY homecare @ {args.time_limit:g} s: {line}")
    if args.out:
        Path(args.out).write_text(json.dumps({"args": vars(args), "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
