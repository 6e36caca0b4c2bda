"""Validation at scale: batch over a month of N work orders, and incremental latency per order.

    .venv/bin/python bench/validation_batch.py [--orders 100000] [--samples 200] [--check]

Creates its own PostgreSQL database, bulk-loads (COPY) a generated month of about N orders with
their visits, events and photos (bench/_validation_world.py, a few injected anomalies), runs
``validate_period`` over the month (every rule, all providers; every order starts
``submitted``, so every one changes status and gets an audit entry), then times
``validate_orders`` on randomly chosen single orders with everything stored (the incremental
path an arriving order takes), then re-runs the batch on the unchanged data. Prints JSON (with
the batch's own step timings and the load average) and a one-line summary.

``--check`` first runs every order through the rules (the batch without prefilters) in a
transaction that is rolled back, and demands the same flags (code, partner, status, severity,
evidence) and statuses from the batch: minutes at 100k, not meant for 1M.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _validation_world import copy_rows, create_database, generate, release_database
from sqlalchemy import func, select, text

from dispatch import config, db
from dispatch.models import Flag, VisitEvent, WorkOrder
from dispatch.validation.engine import last_batch, validate_orders, validate_period

FROM, TO = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)


def state(session) -> tuple[list[tuple], list[tuple]]:
    flags = session.execute(
        text(
            "SELECT work_order_id, code, other_work_order_id, status, severity, "
            "evidence::jsonb::text, resolution FROM flags ORDER BY 1, 2, 3"
        )
    ).all()
    statuses = session.execute(text("SELECT id, status FROM work_orders ORDER BY id")).all()
    return [tuple(r) for r in flags], [tuple(r) for r in statuses]


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


ADMIN = os.environ.get(
    "BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=100_000)
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument(
        "--check", action="store_true", help="compare with every order through the rules"
    )
    args = ap.parse_args()
    # About 94 orders per caregiver-month in the generator (3-5 a day, 15 % days off, helpers).
    caregivers = max(20, round(args.orders / 94))
    name = f"cd_valbatch_{os.getpid()}"
    t0 = time.perf_counter()
    world = generate(caregivers=caregivers, days=30, per_rule=25, seed=args.seed)
    t_gen = time.perf_counter() - t0
    url = create_database(ADMIN, name)
    try:
        t1 = time.perf_counter()
        copy_rows(url, world)
        t_load = time.perf_counter() - t1
        config.use(config.Settings(database_url=url, secret_key="bench" * 10))
        engine = db.configure(url)
        session = db.Session()
        n_orders = session.scalar(select(func.count()).select_from(WorkOrder))
        n_events = session.scalar(select(func.count()).select_from(VisitEvent))
        reference = None
        if args.check:
            t = time.perf_counter()
            validate_period(session, FROM, TO, prefilters=False)
            reference = state(session)
            session.rollback()
            t_check = time.perf_counter() - t
            # The rolled-back run left a dead version of every order: clean up before timing.
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE work_orders"))
        load_before = load()
        started = datetime.now(UTC)
        t2 = time.perf_counter()
        stats = validate_period(session, FROM, TO)
        session.commit()
        t_batch = time.perf_counter() - t2
        load_after = load()
        first = last_batch()
        same = None
        if reference is not None:
            same = state(session) == reference
        n_flags = session.scalar(select(func.count()).select_from(Flag))
        # Incremental: one order at a time, everything stored; rolled back so each sees the same.
        rng = random.Random(args.seed)
        ids = rng.sample(range(1, n_orders + 1), min(args.samples, n_orders))
        times = []
        for oid in ids:
            session.rollback()
            session.execute(
                WorkOrder.__table__.update()
                .where(WorkOrder.__table__.c.id == oid)
                .values(status="submitted")
            )
            t = time.perf_counter()
            validate_orders(session, [oid])
            times.append((time.perf_counter() - t) * 1000)
        session.rollback()
        times.sort()
        p = lambda q: round(times[min(len(times) - 1, int(q * len(times)))], 1)  # noqa: E731
        # Rerun of the batch: idempotent, nothing new.
        t3 = time.perf_counter()
        again = validate_period(session, FROM, TO)
        session.commit()
        t_again = time.perf_counter() - t3
        rerun = last_batch()
        out = {
            "started_utc": started.strftime("%Y-%m-%d %H:%M:%S"),
            "load_average_before_after_batch": [load_before, load_after],
            "orders": n_orders,
            "events": n_events,
            "flags": n_flags,
            "seconds": {
                "generate": round(t_gen, 1),
                "copy_load": round(t_load, 1),
                "batch": round(t_batch, 1),
                "batch_rerun": round(t_again, 1),
                **({"check_every_order": round(t_check, 1)} if args.check else {}),
            },
            "batch_orders_per_s": round(n_orders / t_batch),
            "batch": stats.as_dict(),
            "batch_steps": first,
            "rerun": {**again.as_dict(), "steps": rerun},
            "same_flags_as_every_order_through_the_rules": same,
            "incremental_ms": {
                "samples": len(times),
                "p50": p(0.5),
                "p95": p(0.95),
                "p99": p(0.99),
                "mean": round(statistics.fmean(times), 1),
            },
        }
        print(json.dumps(out, indent=1, default=str))
        print(
            f"validation batch: {n_orders} orders in {t_batch:.1f} s "
            f"({out['batch_orders_per_s']}/s, {first.get('candidates')} through the rules), "
            f"rerun {t_again:.1f} s opening {again.opened} closing {again.closed}; "
            f"incremental p50 {p(0.5)} ms, p95 {p(0.95)} ms; load {load_before}->{load_after}"
            + (f"; same flags as every order through the rules: {same}" if args.check else "")
        )
        session.close()
    finally:
        release_database(ADMIN, name, keep=args.keep)


if __name__ == "__main__":
    main()
