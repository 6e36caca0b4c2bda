"""Incremental validation latency: ``validate_orders`` of one order with a month of N stored.

    .venv/bin/python bench/validation_incremental.py [--orders 1000000] [--samples 300]
        [--fresh 300] [--seed 11] [--keep] [--db NAME] [--explain]

Creates its own PostgreSQL database and COPY-loads a generated month of about N work orders with
their visits, events and photos (bench/_validation_world.py; ANALYZE after the load), then times
``validate_orders`` on single orders, the path a check-out or a timesheet row takes:

- stored: a random stored order, set back to ``submitted``, validated with everything stored;
- fresh: a new order arriving, the caregiver's next visit of that day (a copy of a random stored
  app order's visit, check-in and check-out with new photos, 45 min after the person's last order
  that day), inserted and flushed first; only ``validate_orders`` is timed, and separately the
  insert plus the validation.

Every sample is rolled back, so each sees the same data. No batch runs first: the flags table is
empty at the start (at 100k the batch leaves fewer than 1 % of the orders with a flag). Prints
the statements issued per validation as well, JSON and a one-line summary. ``--db`` reuses a
database kept by ``--keep`` (no generation); ``--explain`` prints EXPLAIN (ANALYZE, BUFFERS) of
every SELECT of one fresh arrival (on stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _validation_world import copy_rows, create_database, drop_database, generate
from sqlalchemy import event, func, select, text
from sqlalchemy.engine import make_url

from dispatch import config, db
from dispatch.models import VisitEvent, WorkOrder
from dispatch.rules.data import ZONE
from dispatch.services.validation import validate_orders

ADMIN = os.environ.get(
    "BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


class Statements:
    """Counts (and on demand keeps) the statements sent to the database."""

    def __init__(self) -> None:
        self.count = 0
        self.keep: list[tuple[str, Any]] | None = None

    def __call__(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.count += 1
        if self.keep is not None:
            self.keep.append((statement, parameters))


def percentiles(times: list[float]) -> dict[str, float]:
    s = sorted(times)

    def p(q: float) -> float:
        return round(s[min(len(s) - 1, int(q * len(s)))], 1)

    return {
        "samples": len(s),
        "p50": p(0.5),
        "p95": p(0.95),
        "p99": p(0.99),
        "max": round(s[-1], 1),
        "mean": round(statistics.fmean(s), 1),
    }


def arrive(session, oid: int, rng: random.Random) -> int:
    """Insert the person's next visit of the day, like ``oid``, with its events; its order id."""
    o = session.execute(
        select(
            WorkOrder.caregiver_id, WorkOrder.visit_id, WorkOrder.start_at, WorkOrder.end_at
        ).where(WorkOrder.id == oid)
    ).one()
    local = o.start_at.astimezone(ZONE)
    day0 = local.replace(hour=0, minute=0, second=0, microsecond=0)
    last = session.scalar(
        select(func.max(WorkOrder.end_at)).where(
            WorkOrder.caregiver_id == o.caregiver_id,
            WorkOrder.start_at >= day0,
            WorkOrder.start_at < day0 + timedelta(days=1),
        )
    )
    shift = (last + timedelta(minutes=45)) - o.start_at
    p = {"vid": o.visit_id, "cg": o.caregiver_id, "shift": shift, "oid": oid}
    vid = session.execute(
        text(
            "INSERT INTO visits (provider_id, client_id, service_type_id, date, window_start_at,"
            " window_end_at, duration_min, required_skill, caregivers_needed, priority, urgent,"
            " status, pinned, created_at)"
            " SELECT provider_id, client_id, service_type_id,"
            " CAST(timezone('Asia/Shanghai', window_start_at + :shift) AS date),"
            " window_start_at + :shift, window_end_at + :shift, duration_min, required_skill,"
            " caregivers_needed, priority, urgent, status, pinned, now()"
            " FROM visits WHERE id = :vid RETURNING id"
        ),
        p,
    ).scalar_one()
    for kind in ("check_in", "check_out"):
        photo = session.execute(
            text(
                "INSERT INTO photos (sha256, phash, mime, size_bytes, width, height,"
                " exif_taken_at, provider_id, created_at)"
                " SELECT md5(random()::text) || md5(random()::text), :phash, mime, size_bytes,"
                " width, height, exif_taken_at + :shift, provider_id, now()"
                " FROM photos WHERE id = (SELECT photo_id FROM visit_events"
                "  WHERE visit_id = :vid AND caregiver_id = :cg AND kind = :kind)"
                " RETURNING id"
            ),
            p | {"phash": f"{rng.getrandbits(64):016x}", "kind": kind},
        ).scalar()
        session.execute(
            text(
                "INSERT INTO visit_events (idempotency_key, content_hash, visit_id, caregiver_id,"
                " kind, device_time_at, received_at, lat, lon, raw_lat, raw_lon, crs, accuracy_m,"
                " mock_location, device_id, offline, photo_id)"
                " SELECT md5(random()::text), content_hash, :new_vid, caregiver_id, kind,"
                " device_time_at + :shift, received_at + :shift, lat, lon, raw_lat, raw_lon, crs,"
                " accuracy_m, mock_location, device_id, offline, :photo"
                " FROM visit_events WHERE visit_id = :vid AND caregiver_id = :cg AND kind = :kind"
            ),
            p | {"new_vid": vid, "kind": kind, "photo": photo},
        )
    return session.execute(
        text(
            "INSERT INTO work_orders (provider_id, client_id, caregiver_id, service_type_id,"
            " visit_id, source, start_at, end_at, billable_min, status, appeal_state, created_at)"
            " SELECT provider_id, client_id, caregiver_id, service_type_id, :new_vid, source,"
            " start_at + :shift, end_at + :shift, billable_min, 'submitted', 'none', now()"
            " FROM work_orders WHERE id = :oid RETURNING id"
        ),
        p | {"new_vid": vid},
    ).scalar_one()


def explain(session, statements: list[tuple[str, Any]]) -> None:
    conn = session.connection()
    for sql, params in statements:
        if not sql.lstrip().upper().startswith("SELECT"):
            continue
        plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + sql, params).scalars().all()
        print("----", " ".join(sql.split())[:300], file=sys.stderr)
        print("\n".join(plan), file=sys.stderr)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=1_000_000)
    ap.add_argument("--samples", type=int, default=300)
    ap.add_argument("--fresh", type=int, default=300)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--keep", action="store_true", help="keep the database")
    ap.add_argument("--db", help="reuse this database (kept by an earlier --keep)")
    ap.add_argument("--explain", action="store_true")
    args = ap.parse_args()
    name = args.db or f"bench_valincr_{os.getpid()}"
    seconds: dict[str, float] = {}
    if args.db:
        url = make_url(ADMIN).set(database=name).render_as_string(hide_password=False)
    else:
        # About 94 orders per caregiver-month in the generator (3-5 a day, 15 % days off, helpers).
        t0 = time.perf_counter()
        world = generate(caregivers=max(20, round(args.orders / 94)), days=30, seed=args.seed)
        seconds["generate"] = round(time.perf_counter() - t0, 1)
        url = create_database(ADMIN, name)
        t1 = time.perf_counter()
        copy_rows(url, world)  # ends with ANALYZE
        seconds["copy_load_analyze"] = round(time.perf_counter() - t1, 1)
        del world
    try:
        config.use(config.Settings(database_url=url, secret_key="bench" * 10))
        engine = db.configure(url)
        counter = Statements()
        event.listen(engine, "before_cursor_execute", counter)
        session = db.Session()
        n_orders = session.scalar(select(func.count()).select_from(WorkOrder))
        n_events = session.scalar(select(func.count()).select_from(VisitEvent))
        app_ids = session.scalars(
            select(WorkOrder.id).where(WorkOrder.source == "app").order_by(WorkOrder.id)
        ).all()
        rng = random.Random(args.seed)
        # Warm-up (imports, statement caches), not counted.
        for oid in rng.sample(app_ids, 5):
            validate_orders(session, [oid])
            session.rollback()

        stored, stored_q = [], []
        for oid in rng.sample(range(1, n_orders + 1), min(args.samples, n_orders)):
            session.execute(
                WorkOrder.__table__.update()
                .where(WorkOrder.__table__.c.id == oid)
                .values(status="submitted")
            )
            session.flush()
            c0 = counter.count
            t = time.perf_counter()
            validate_orders(session, [oid])
            stored.append((time.perf_counter() - t) * 1000)
            stored_q.append(counter.count - c0)
            session.rollback()

        fresh, fresh_total, fresh_q = [], [], []
        for oid in rng.sample(app_ids, min(args.fresh, len(app_ids))):
            t0 = time.perf_counter()
            new_id = arrive(session, oid, rng)
            session.flush()
            c0 = counter.count
            t = time.perf_counter()
            validate_orders(session, [new_id])
            end = time.perf_counter()
            fresh.append((end - t) * 1000)
            fresh_total.append((end - t0) * 1000)
            fresh_q.append(counter.count - c0)
            session.rollback()

        if args.explain:
            new_id = arrive(session, rng.choice(app_ids), rng)
            session.flush()
            counter.keep = []
            validate_orders(session, [new_id])
            kept, counter.keep = counter.keep, None
            explain(session, kept)  # the same transaction: the new order is still there
            session.rollback()

        out = {
            "orders": n_orders,
            "events": n_events,
            "seconds": seconds,
            "stored_order_ms": percentiles(stored),
            "stored_statements_per_call": round(statistics.fmean(stored_q), 1),
            "fresh_order_ms": percentiles(fresh),
            "fresh_insert_and_validate_ms": percentiles(fresh_total),
            "fresh_statements_per_call": round(statistics.fmean(fresh_q), 1),
            "loadavg": [round(x, 2) for x in os.getloadavg()],
        }
        print(json.dumps(out, indent=1))
        s, f = out["stored_order_ms"], out["fresh_order_ms"]
        print(
            f"validate_orders with {n_orders} stored: stored order p50 {s['p50']} / p95 {s['p95']}"
            f" / p99 {s['p99']} ms ({out['stored_statements_per_call']} statements); fresh arrival"
            f" p50 {f['p50']} / p95 {f['p95']} / p99 {f['p99']} ms"
            f" ({out['fresh_statements_per_call']} statements); load {out['loadavg'][0]}"
        )
        session.close()
    finally:
        db.Session.remove()
        for e in db._engines.values():
            e.dispose()
        if not args.keep and not args.db:
            drop_database(ADMIN, name)


if __name__ == "__main__":
    main()
