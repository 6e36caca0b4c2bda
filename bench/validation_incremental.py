"""Incremental validation latency: ``validate_orders`` of one order with a month of N stored.

    .venv/bin/python bench/validation_incremental.py [--orders 1000000] [--samples 300]
        [--fresh 300] [--seed 11] [--keep] [--db NAME] [--explain] [--against COMMIT] [--commit]

Creates its own PostgreSQL database and COPY-loads a generated month of about N work orders with
their visits, events and photos (bench/_validation_world.py; ANALYZE after the load), then times
``validate_orders`` on single orders, the path a check-out or a timesheet row takes:

- stored: a random stored order, set back to ``submitted``, validated with everything stored;
- fresh: a new order arriving, the caregiver's next visit of that day (a copy of a random stored
  app order's visit, check-in and check-out with new photos, 45 min after the person's last order
  that day), inserted and flushed first; only ``validate_orders`` is timed, and separately the
  insert plus the validation.

Every sample is rolled back, so each sees the same data; but psycopg drops its prepared
statements at every ROLLBACK, so every statement is planned afresh. ``--commit`` commits each
sample instead, as a server's requests do: a statement is then prepared on its fifth run on the
connection and PostgreSQL may reuse its plan (the database keeps the samples' flags, statuses,
audit entries and new orders; use it on a database of its own). No batch runs first: the flags
table is empty at the start (at 100k the batch leaves fewer than 1 % of the orders with a flag).
Prints the statements issued per validation as well, JSON and a one-line summary. ``--db`` reuses a
database kept by ``--keep`` (no generation); ``--explain`` prints EXPLAIN (ANALYZE, BUFFERS) of
every SELECT of one fresh arrival (on stderr). ``--against COMMIT`` also times the
``validate_orders`` of ``dispatch/services/validation.py`` as of that commit on the same samples,
alternating with this tree's sample by sample, so that both see the same load on a shared machine.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _validation_world import copy_rows, create_database, generate, release_database
from sqlalchemy import event, func, select, text
from sqlalchemy.engine import make_url

from dispatch import config, db
from dispatch.models import VisitEvent, WorkOrder
from dispatch.validation.engine import validate_orders

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
    local = o.start_at.astimezone(config.zone())
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


def validate_orders_as_of(commit: str) -> Callable[..., Any]:
    """``validate_orders`` from ``dispatch/services/validation.py`` at ``commit`` (git show)."""
    root = Path(__file__).resolve().parent.parent
    source = subprocess.run(
        ["git", "show", f"{commit}:dispatch/services/validation.py"],
        cwd=root,
        check=True,
        capture_output=True,
    ).stdout
    path = Path(tempfile.mkdtemp()) / f"validation_{commit}.py"
    path.write_bytes(source)
    spec = importlib.util.spec_from_file_location(f"validation_{commit}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module.validate_orders


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
    ap.add_argument("--against", metavar="COMMIT", help="also time validate_orders as of COMMIT")
    ap.add_argument("--commit", action="store_true", help="commit each sample (see above)")
    args = ap.parse_args()
    against = validate_orders_as_of(args.against) if args.against else None
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
        # psycopg forgets its prepared statements at every ROLLBACK; committed, a statement is
        # prepared at its 5th run on a connection, as in a server whose requests commit.
        end = session.commit if args.commit else session.rollback
        # Warm-up (imports, statement caches, prepared statements), not counted.
        for oid in rng.sample(app_ids, 10):
            for f in (validate_orders, against) if against else (validate_orders,):
                f(session, [oid])
                end()

        def timed(f: Callable[..., Any], oid: int, into: list[float]) -> int:
            """Validate ``oid`` (everything before is flushed); the statements it took."""
            c0 = counter.count
            t = time.perf_counter()
            f(session, [oid])
            into.append((time.perf_counter() - t) * 1000)
            return counter.count - c0

        def both(i: int) -> list[tuple[Callable[..., Any], str]]:
            """This tree's validate_orders, and the other one's first on every second sample."""
            if against is None:
                return [(validate_orders, "here")]
            pair = [(validate_orders, "here"), (against, "against")]
            return pair[::-1] if i % 2 else pair

        times: dict[str, list[float]] = {k: [] for k in ("stored", "fresh", "total")}
        times |= {"stored_a": [], "fresh_a": []}
        counts: dict[str, list[int]] = {k: [] for k in ("stored", "fresh", "stored_a", "fresh_a")}
        for i, oid in enumerate(rng.sample(range(1, n_orders + 1), min(args.samples, n_orders))):
            for f, which in both(i):
                session.execute(
                    WorkOrder.__table__.update()
                    .where(WorkOrder.__table__.c.id == oid)
                    .values(status="submitted")
                )
                session.flush()
                key = "stored" if which == "here" else "stored_a"
                counts[key].append(timed(f, oid, times[key]))
                end()
        for i, oid in enumerate(rng.sample(app_ids, min(args.fresh, len(app_ids)))):
            for f, which in both(i):
                t0 = time.perf_counter()
                new_id = arrive(session, oid, rng)
                session.flush()
                inserted = (time.perf_counter() - t0) * 1000
                key = "fresh" if which == "here" else "fresh_a"
                counts[key].append(timed(f, new_id, times[key]))
                if which == "here":
                    times["total"].append(inserted + times[key][-1])
                end()

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
            "stored_order_ms": percentiles(times["stored"]),
            "stored_statements_per_call": round(statistics.fmean(counts["stored"]), 1),
            "fresh_order_ms": percentiles(times["fresh"]),
            "fresh_insert_and_validate_ms": percentiles(times["total"]),
            "fresh_statements_per_call": round(statistics.fmean(counts["fresh"]), 1),
            "loadavg": [round(x, 2) for x in os.getloadavg()],
            "each_sample": "committed" if args.commit else "rolled back",
        }
        if against:
            out["against"] = {
                "commit": args.against,
                "stored_order_ms": percentiles(times["stored_a"]),
                "stored_statements_per_call": round(statistics.fmean(counts["stored_a"]), 1),
                "fresh_order_ms": percentiles(times["fresh_a"]),
                "fresh_statements_per_call": round(statistics.fmean(counts["fresh_a"]), 1),
            }
        print(json.dumps(out, indent=1))
        s, f = out["stored_order_ms"], out["fresh_order_ms"]
        print(
            f"validate_orders with {n_orders} stored: stored order p50 {s['p50']} / p95 {s['p95']}"
            f" / p99 {s['p99']} ms ({out['stored_statements_per_call']} statements); fresh arrival"
            f" p50 {f['p50']} / p95 {f['p95']} / p99 {f['p99']} ms"
            f" ({out['fresh_statements_per_call']} statements); load {out['loadavg'][0]}"
        )
        if against:
            a = out["against"]
            s, f = a["stored_order_ms"], a["fresh_order_ms"]
            print(
                f"  as of {args.against}, alternating: stored p50 {s['p50']} / p95 {s['p95']}"
                f" / p99 {s['p99']} ms ({a['stored_statements_per_call']} statements); fresh"
                f" p50 {f['p50']} / p95 {f['p95']} / p99 {f['p99']} ms"
                f" ({a['fresh_statements_per_call']} statements)"
            )
        session.close()
    finally:
        release_database(ADMIN, name, keep=args.keep or bool(args.db))


if __name__ == "__main__":
    main()
