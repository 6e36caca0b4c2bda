"""The bureau's figures by street for a month of N work orders on PostgreSQL (target < 5 s).

    .venv/bin/python bench/supervision_figures.py [--orders 1000000] [--elders 100000] [--runs 3]

Creates its own PostgreSQL database, generates the month inside it (bench/_supervision_world.py:
one district, 14 streets, 10 providers, flags, appeals, billing, call-backs, certificates),
then times ``figures.figures`` by street as the district supervisor (every street), by
provider, and as a street supervisor, ``--runs`` times each (the first run is cold). Checks that
the totals equal the funnel of the same period and area. Prints JSON (with the load average)
and a one-line summary.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _supervision_world import DISTRICT, STREETS, build
from _validation_world import create_database, release_database
from sqlalchemy import create_engine

from dispatch import config, db
from dispatch.areas import Area
from dispatch.models import Role
from dispatch.services import figures, reports
from dispatch.tenancy import Actor

ADMIN = os.environ.get(
    "BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
FROM, TO = date(2026, 11, 1), date(2026, 11, 30)
FUNNEL = ("generated", "normal", "abnormal", "appealed", "not_billed", "billed")


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def timed(runs: int, fn) -> tuple[list[float], object]:
    out, result = [], None
    for _ in range(runs):
        t = time.perf_counter()
        result = fn()
        out.append(round(time.perf_counter() - t, 3))
    return out, result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=1_000_000)
    ap.add_argument("--elders", type=int, default=100_000)
    ap.add_argument("--contacts", type=int, default=300_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    name = f"cd_supfig_{os.getpid()}"
    url = create_database(ADMIN, name)
    try:
        t0 = time.perf_counter()
        # Visits of which 1/50 are missed and 1/97 cancelled produce no order.
        visits = round(args.orders / (1 - 1 / 50 - 1 / 97 + 1 / 4850))
        engine = create_engine(url)
        with engine.connect() as conn:
            counts = build(conn, elders=args.elders, orders=visits, contacts=args.contacts)
        engine.dispose()
        t_build = time.perf_counter() - t0
        config.use(config.Settings(database_url=url, secret_key="bench" * 10))
        db.configure(url)
        session = db.Session()
        district = Actor(None, Role.supervisor, area=Area(DISTRICT))
        street = Actor(None, Role.supervisor, area=Area(DISTRICT, (STREETS[0],)))
        load_before = load()
        started = datetime.now(UTC)
        t_street, by_street = timed(
            args.runs, lambda: figures.figures(session, district, FROM, TO, "street")
        )
        t_provider, by_provider = timed(
            args.runs, lambda: figures.figures(session, district, FROM, TO, "provider")
        )
        t_one, one_street = timed(
            args.runs, lambda: figures.figures(session, street, FROM, TO, "street")
        )
        t_funnel, funnel = timed(1, lambda: reports.funnel(session, district, FROM, TO))
        funnel_one = reports.funnel(session, street, FROM, TO)
        load_after = load()
        equal = all(
            by_street["totals"][k] == funnel[k] == by_provider["totals"][k] for k in FUNNEL
        ) and all(one_street["totals"][k] == funnel_one[k] for k in FUNNEL)
        out = {
            "started_utc": started.strftime("%Y-%m-%d %H:%M:%S"),
            "load_average_before_after": [load_before, load_after],
            "rows": counts,
            "seconds": {
                "build": round(t_build, 1),
                "figures_by_street_district": t_street,
                "figures_by_provider_district": t_provider,
                "figures_by_street_one_street": t_one,
                "funnel_district": t_funnel,
            },
            "median_by_street_s": statistics.median(t_street),
            "target_s": 5.0,
            "streets": len(by_street["rows"]),
            "totals": {k: by_street["totals"][k] for k in (*FUNNEL, "elders_served")},
            "totals_equal_funnel": equal,
        }
        print(json.dumps(out, indent=1, default=str))
        print(
            f"supervision figures: {counts['work_orders']} orders, {len(by_street['rows'])} "
            f"streets: by street {statistics.median(t_street):.2f} s (runs {t_street}), by "
            f"provider {statistics.median(t_provider):.2f} s, one street "
            f"{statistics.median(t_one):.2f} s; target < 5 s; totals equal the funnel: {equal}; "
            f"load {load_before}->{load_after}"
        )
        session.close()
    finally:
        release_database(ADMIN, name, keep=args.keep)


if __name__ == "__main__":
    main()
