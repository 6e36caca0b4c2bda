"""The five-colour overdue-contacts list over N elders on PostgreSQL (target < 2 s).

    .venv/bin/python bench/supervision_contacts.py [--elders 100000] [--orders 1000000]

Creates its own PostgreSQL database with the supervision world (bench/_supervision_world.py:
the elders in five classes, a month of work orders, recorded contacts over half a year), then
times ``five_colour.overdue`` as the district supervisor on the month's last day (the API's
first page of 50, ``--runs`` times, the first cold; and the whole list once), the same for one
street, and the compliance per street. Prints JSON
(with the load average) and a one-line summary.
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
from dispatch.services import five_colour
from dispatch.tenancy import Actor

ADMIN = os.environ.get(
    "BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
ON = date(2026, 11, 30)


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
    ap.add_argument("--elders", type=int, default=100_000)
    ap.add_argument("--orders", type=int, default=1_000_000)
    ap.add_argument("--contacts", type=int, default=300_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    name = f"cd_supcon_{os.getpid()}"
    url = create_database(ADMIN, name)
    try:
        t0 = time.perf_counter()
        engine = create_engine(url)
        with engine.connect() as conn:
            counts = build(conn, elders=args.elders, orders=args.orders, contacts=args.contacts)
        engine.dispose()
        t_build = time.perf_counter() - t0
        config.use(config.Settings(database_url=url, secret_key="bench" * 10))
        db.configure(url)
        session = db.Session()
        district = Actor(None, Role.supervisor, area=Area(DISTRICT))
        street = Actor(None, Role.supervisor, area=Area(DISTRICT, (STREETS[0],)))
        load_before = load()
        started = datetime.now(UTC)
        t_all, (rows, total) = timed(
            args.runs, lambda: five_colour.overdue(session, district, ON, page_size=50)
        )
        t_one, (_, one) = timed(
            args.runs, lambda: five_colour.overdue(session, street, ON, page_size=50)
        )
        t_full, (every, _) = timed(1, lambda: five_colour.overdue(session, district, ON))
        t_rate, rates = timed(1, lambda: five_colour.compliance(session, district, ON))
        load_after = load()
        by_class: dict[str, int] = {}
        for r in every:
            by_class[r["frequency"].value] = by_class.get(r["frequency"].value, 0) + 1
        out = {
            "started_utc": started.strftime("%Y-%m-%d %H:%M:%S"),
            "load_average_before_after": [load_before, load_after],
            "rows": counts,
            "seconds": {
                "build": round(t_build, 1),
                "overdue_district_first_page": t_all,
                "overdue_one_street_first_page": t_one,
                "overdue_district_whole_list": t_full,
                "compliance_per_street": t_rate,
            },
            "median_overdue_district_s": statistics.median(t_all),
            "target_s": 2.0,
            "overdue": total,
            "overdue_by_class": by_class,
            "overdue_one_street": one,
            "first_page_rows": len(rows),
            "streets": len(rates),
        }
        print(json.dumps(out, indent=1, default=str))
        print(
            f"overdue contacts: {counts['clients']} elders, {total} overdue on {ON}: first page "
            f"{statistics.median(t_all):.2f} s (runs {t_all}), whole list {t_full[0]:.2f} s; "
            f"one street {statistics.median(t_one):.2f} s; compliance per street "
            f"{t_rate[0]:.2f} s; "
            f"target < 2 s; load {load_before}->{load_after}"
        )
        session.close()
    finally:
        release_database(ADMIN, name, keep=args.keep)


if __name__ == "__main__":
    main()
