"""Fixed-work measurement of our own local search (routing.localsearch), for judging code changes.

    .venv/bin/python bench/localsearch_iters.py --instance rc1_10_1 --iters 2000 [--seed 1]

Builds the Solomon-format instance as `python -m routing.solomon` does, starts from the routes
of a file that command wrote (or inserts every customer greedily), then runs the local search
and a fixed number of ruin-and-recreate iterations on one core, with no time limit: the result
does not depend on machine speed or load. Prints the distance, routes and seconds as JSON and a
one-line summary; run it under `valgrind --tool=callgrind` to compare instruction counts.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.vrptw import instances  # noqa: E402
from routing import recreate, solomon  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--instance", default="rc1_10_1")
    ap.add_argument("--set", default="homberger_1000")
    ap.add_argument("--iters", type=int, default=2000)
    ap.add_argument("--seconds", type=float, help="a time limit instead of --iters (CPU-bound)")
    ap.add_argument("--fleet", type=float, default=0, help="seconds of fleet minimisation first")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--start", help="JSON with the starting routes (python -m routing.solomon's)")
    args = ap.parse_args(argv)
    (path,) = instances(args.set, [args.instance])
    si = solomon.read(path)
    inst = solomon.to_instance(si)
    t0 = time.monotonic()
    start = {}
    if args.start:
        routes = json.loads(Path(args.start).read_text())["routes"]
        start = {v: list(r) for v, r in enumerate(routes)}
    ls = recreate.Search(inst, start, args.seed)
    fleet_until = time.monotonic() + args.fleet if args.fleet else None
    if args.seconds:
        best = ls.run(time.monotonic() + args.seconds, fleet_until=fleet_until)
    else:
        best = ls.run(time.monotonic() + 10**6, max_iters=args.iters)
    wall = time.monotonic() - t0
    routes = [r for r in best.values() if r]
    out = {
        "instance": args.instance,
        "iters": args.iters,
        "seed": args.seed,
        "vehicles": len(routes),
        "served": sum(len(r) for r in routes),
        "distance": round(solomon.route_distance(si, routes), 2),
        "seconds": round(wall, 2),
    }
    print(json.dumps(out))
    print(
        f"SUMMARY localsearch {args.instance} x {args.iters}: distance {out['distance']}, "
        f"{out['vehicles']} routes, {out['served']} served, {out['seconds']} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
