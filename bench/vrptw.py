"""VRPTW benchmark: run `python -m routing.solomon` over a set, check each solution, compare to BKS.

    .venv/bin/python bench/vrptw.py --set solomon8 --time-limit 10 [--pyvrp] [--out results.json]

Sets: solomon (56), solomon8 (c101 c201 r101 r112 r201 rc101 rc201 rc208), homberger_200 ...
homberger_1000 (60 each), homberger_1000_3 (c1_10_1 r1_10_1 rc1_10_1); or --instances a,b,c.
The feasibility check and the distance are this file's own code, not the solver's. Prints one
JSON line per instance and solver, then a JSON summary and a one-line summary.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("VRPTW_DATA", ROOT.parent / "shared" / "benchmarks" / "vrptw"))
if not DATA.exists():
    DATA = Path("/work/shared/benchmarks/vrptw")
SUBSETS = {
    "solomon8": ("solomon", ["c101", "c201", "r101", "r112", "r201", "rc101", "rc201", "rc208"]),
    "homberger_1000_3": ("homberger_1000", ["c1_10_1", "r1_10_1", "rc1_10_1"]),
}
EPS = 1e-6


def parse(path: Path) -> dict:
    lines = path.read_text().splitlines()
    vehicles = capacity = None
    rows = []
    for i, line in enumerate(lines):
        if line.strip().upper().startswith("NUMBER") and vehicles is None:
            vehicles, capacity = (int(x) for x in lines[i + 1].split()[:2])
        parts = line.split()
        if len(parts) == 7 and all(p.isdigit() for p in parts):
            rows.append([int(p) for p in parts])
    return {"vehicles": vehicles, "capacity": capacity, "rows": rows}


def check(inst: dict, routes: list[list[int]]) -> tuple[bool, float, str]:
    """Independent feasibility check in floating point; returns (feasible, distance, problem)."""
    rows = inst["rows"]
    n = len(rows) - 1
    xy = [(r[1], r[2]) for r in rows]
    seen = [c for r in routes for c in r]
    if sorted(seen) != list(range(1, n + 1)):
        missing = set(range(1, n + 1)) - set(seen)
        return False, math.inf, f"customers missing or repeated (missing {len(missing)})"
    if len([r for r in routes if r]) > inst["vehicles"]:
        return False, math.inf, f"{len(routes)} routes > {inst['vehicles']} vehicles"
    total = 0.0
    for k, r in enumerate(routes):
        if sum(rows[c][3] for c in r) > inst["capacity"]:
            return False, math.inf, f"route {k} over capacity"
        t, here = 0.0, 0
        for c in r:
            d = math.dist(xy[here], xy[c])
            total += d
            t = max(t + d, rows[c][4])
            if t > rows[c][5] + EPS:
                return False, math.inf, f"route {k}: customer {c} starts {t:.4f} > due {rows[c][5]}"
            t += rows[c][6]
            here = c
        d = math.dist(xy[here], xy[0])
        total += d
        if t + d > rows[0][5] + EPS:
            return False, math.inf, f"route {k} returns {t + d:.4f} > depot due {rows[0][5]}"
    return True, total, ""


def load_bks() -> dict[str, dict]:
    out = {}
    for name in ("bks.csv", "bks_distance_only.csv"):
        with open(DATA / name) as f:
            for row in csv.DictReader(f):
                key = "distance_only" if "distance_only" in name else "hier"
                out.setdefault(row["instance"], {})[key] = (
                    int(row["vehicles"]),
                    float(row["distance"]),
                )
    return out


def instances(set_name: str, only: list[str] | None) -> list[Path]:
    folder, names = SUBSETS.get(set_name, (set_name, None))
    paths = sorted((DATA / folder).glob("*.txt"))
    if names:
        paths = [p for p in paths if p.stem in names]
    if only:
        paths = [p for p in paths if p.stem in only]
    return paths


def run_ours(path: Path, time_limit: float, seed: int) -> dict:
    t0 = time.monotonic()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "routing.solomon",
            str(path),
            "--time-limit",
            str(time_limit),
            "--seed",
            str(seed),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=time_limit * 3 + 120,
        check=False,
    )
    wall = time.monotonic() - t0
    try:
        out = json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return {"routes": [], "time_s": wall, "error": proc.stderr[-500:]}
    out["wall_s"] = round(wall, 2)
    return out


def run_pyvrp(path: Path, time_limit: float, seed: int) -> dict:
    sys.path.insert(0, str(ROOT))
    import numpy as np

    from bench._routing_pyvrp import solve_vrptw

    inst = parse(path)
    a = np.array(inst["rows"], dtype=float)
    s = 1000
    r = solve_vrptw(
        a[:, 1:3],
        a[:, 3].astype(int),
        (a[:, 4] * s).astype(int),
        (a[:, 5] * s).astype(int),
        (a[:, 6] * s).astype(int),
        inst["capacity"],
        inst["vehicles"],
        time_limit,
        seed=seed,
        scale=s,
    )
    return r


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--set", default="solomon8")
    ap.add_argument("--instances", default="", help="comma-separated names within the set")
    ap.add_argument("--time-limit", type=float, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--pyvrp", action="store_true", help="also run PyVRP with the same limit")
    ap.add_argument("--out", help="write all results as JSON here")
    args = ap.parse_args(argv)
    bks = load_bks()
    only = [x for x in args.instances.split(",") if x] or None
    paths = instances(args.set, only)
    if not paths:
        print(f"no instances for set {args.set!r} under {DATA}", file=sys.stderr)
        return 2
    solvers = ["ours"] + (["pyvrp"] if args.pyvrp else [])
    results = []
    for path in paths:
        inst = parse(path)
        name = path.stem
        ref = bks.get(name, {})
        ref_v, ref_d = ref.get("distance_only") or ref.get("hier") or (None, None)
        ref_kind = "distance_only" if "distance_only" in ref else "bks"
        for solver in solvers:
            res = (
                run_ours(path, args.time_limit, args.seed)
                if solver == "ours"
                else run_pyvrp(path, args.time_limit, args.seed)
            )
            routes = [r for r in res.get("routes", []) if r]
            ok, dist, why = check(inst, routes)
            row = {
                "instance": name,
                "solver": solver,
                "feasible": ok,
                "why": why,
                "vehicles": len(routes),
                "distance": round(dist, 2) if ok else None,
                "bks_vehicles": ref_v,
                "bks_distance": ref_d,
                "bks_kind": ref_kind,
                "gap_pct": round(100 * (dist - ref_d) / ref_d, 2) if ok and ref_d else None,
                "time_s": res.get("time_s"),
            }
            results.append(row)
            print(json.dumps(row), flush=True)
    summary = {}
    for solver in solvers:
        rows = [r for r in results if r["solver"] == solver]
        gaps = [r["gap_pct"] for r in rows if r["gap_pct"] is not None]
        summary[solver] = {
            "instances": len(rows),
            "feasible": sum(r["feasible"] for r in rows),
            "vehicles": sum(r["vehicles"] for r in rows),
            "distance": round(sum(r["distance"] or 0 for r in rows), 2),
            "mean_gap_pct": round(sum(gaps) / len(gaps), 2) if gaps else None,
            "max_gap_pct": max(gaps) if gaps else None,
            "time_s": round(sum(r["time_s"] or 0 for r in rows), 1),
        }
    print(
        json.dumps(
            {
                "set": args.set,
                "time_limit_s": args.time_limit,
                "seed": args.seed,
                "summary": summary,
            }
        )
    )
    line = "; ".join(
        f"{k}: {v['feasible']}/{v['instances']} feasible, mean gap {v['mean_gap_pct']} %, "
        f"max {v['max_gap_pct']} %, {v['vehicles']} vehicles"
        for k, v in summary.items()
    )
    print(f"SUMMARY {args.set} @ {args.time_limit:g} s: {line}")
    if args.out:
        Path(args.out).write_text(
            json.dumps({"args": vars(args), "results": results, "summary": summary}, indent=1)
        )
    return 0 if all(r["feasible"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
