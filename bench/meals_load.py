"""Canteen meals recorded through the API by concurrent terminals (gunicorn + PostgreSQL).

    .venv/bin/python bench/meals_load.py [--meals 100000 --terminals 10 --elders 20000
                                          --workers 2 --threads 4 --replays 1000]

Creates a PostgreSQL database (dropped at the end), migrates it, seeds one provider with one
canteen per terminal (each terminal registered with its own key), N elders with an allowance
card and a scheme paying a meal subsidy. Starts gunicorn on a free port; then each terminal (a
thread with its own keep-alive HTTP/1.1 connection) posts its share of the meals: elder by card
number, lunch on one of the last days, each meal once (no duplicates), through the full path
(key check, elder lookup, subsidy, DUPLICATE_MEAL and MEAL_OUTSIDE_HOURS). A second phase
replays ``--replays`` meals (the terminal's retry: 200, nothing stored). Prints one JSON
document (throughput, latency percentiles, statuses, rows stored) and a one-line summary.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from bench._stack import (  # noqa: E402
    create_database,
    drop_database,
    free_port,
    migrate,
    server_env,
    start_gunicorn,
    stop,
    wait_healthy,
)
from dispatch.config import zone  # noqa: E402
from dispatch.security import device_key_hash  # noqa: E402


def seed(url: str, terminals: int, elders: int) -> list[str]:
    """One provider, a canteen and a terminal per thread, elders with cards; the keys."""
    keys = [f"cdk_bench_{i}_{uuid.uuid4().hex}" for i in range(terminals)]
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO providers (code, name, district, timezone, active, created_at) "
                "VALUES ('BENCH', '压测服务中心', '义乌市', 'Asia/Shanghai', true, now())"
            )
        )
        conn.execute(
            text(
                "INSERT INTO allowance_schemes (name, age_min, monthly_amount_fen,"
                " meal_subsidy_fen, services, carry_over_months, active, created_at) VALUES "
                "('高龄 80+', 80, 6000, 300, '[\"MEAL\"]', 0, true, now())"
            )
        )
        conn.execute(
            text(
                "INSERT INTO clients (provider_id, code, name, address, lat, lon, care_level,"
                " birth_date, funding_source, active, created_at) SELECT 1, 'E' || g, '老人' || g,"
                " '义乌市', 29.3, 120.07, 2, DATE '1940-01-01', 'allowance', true, now() "
                "FROM generate_series(1, :n) g"
            ),
            {"n": elders},
        )
        conn.execute(
            text(
                "INSERT INTO allowance_accounts (client_id, provider_id, card_no, balance_fen,"
                " created_at) SELECT id, 1, 'CARD' || id, 0, now() FROM clients"
            )
        )
        for i, key in enumerate(keys):
            point = conn.execute(
                text(
                    "INSERT INTO service_points (provider_id, code, name, kind, lat, lon, active)"
                    " VALUES (1, :code, :name, 'canteen', 29.3, 120.07, true) RETURNING id"
                ),
                {"code": f"CT{i}", "name": f"阳光食堂 {i}"},
            ).scalar_one()
            conn.execute(
                text(
                    "INSERT INTO devices (provider_id, kind, service_point_id, label, key_hash,"
                    " key_prefix, active, created_at) VALUES (1, 'canteen_terminal', :p, :label,"
                    " :hash, :prefix, true, now())"
                ),
                {
                    "p": point,
                    "label": f"终端 {i}",
                    "hash": device_key_hash(key),
                    "prefix": key[:12],
                },
            )
        conn.execute(text("ANALYZE"))
    engine.dispose()
    return keys


def meal_body(i: int, elders: int, today: datetime) -> bytes:
    """Meal ``i``: elder ``i % elders`` on day ``i // elders`` before today, one lunch each."""
    day = today - timedelta(days=1 + i // elders)
    served = day.replace(hour=11, minute=i % 90 // 2, second=0, microsecond=0)
    return json.dumps(
        {
            "card_no": f"CARD{i % elders + 1}",
            "served_at": served.isoformat(),
            "slot": "lunch",
            "method": "card",
            "idempotency_key": f"meal-{i}",
        }
    ).encode()


def terminal(
    port: int, key: str, bodies: list[bytes], deadline: float, out: list[tuple[int, float]]
) -> None:
    """One terminal: its meals one after the other over one keep-alive connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Content-Type": "application/json", "X-Device-Key": key}
    for body in bodies:
        if time.monotonic() > deadline:
            break
        t0 = time.perf_counter()
        try:
            conn.request("POST", "/api/v1/meals", body, headers)
            resp = conn.getresponse()
            resp.read()
            status = resp.status
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            status = 0
        out.append((status, time.perf_counter() - t0))
    conn.close()


def run_phase(
    port: int, keys: list[str], jobs: list[list[bytes]], deadline: float
) -> dict[str, Any]:
    results: list[list[tuple[int, float]]] = [[] for _ in keys]
    t0 = time.perf_counter()
    with ThreadPoolExecutor(len(keys)) as pool:
        for i, key in enumerate(keys):
            pool.submit(terminal, port, key, jobs[i], deadline, results[i])
    wall = time.perf_counter() - t0
    shots = [r for rs in results for r in rs]
    lat = sorted(s for _, s in shots) or [0.0]
    statuses: dict[str, int] = {}
    for status, _ in shots:
        statuses[str(status)] = statuses.get(str(status), 0) + 1

    def pct(p: float) -> float:
        return round(lat[min(len(lat) - 1, int(p * len(lat)))] * 1000, 1)

    return {
        "requests": len(shots),
        "wall_s": round(wall, 1),
        "throughput_rps": round(len(shots) / wall, 1) if wall else 0,
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "mean_ms": round(statistics.fmean(lat) * 1000, 1),
        "statuses": statuses,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meals", type=int, default=100_000)
    parser.add_argument("--terminals", type=int, default=10)
    parser.add_argument("--elders", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--replays", type=int, default=1000)
    parser.add_argument("--timeout-s", type=float, default=3600)
    args = parser.parse_args()
    deadline = time.monotonic() + args.timeout_s
    url = create_database("bench_meals")
    proc: subprocess.Popen[bytes] | None = None
    tmp = Path(tempfile.mkdtemp(prefix="bench-meals-"))
    try:
        migrate(url)
        keys = seed(url, args.terminals, args.elders)
        port = free_port()
        with (tmp / "gunicorn.log").open("wb") as log:
            proc = start_gunicorn(
                server_env(url, tmp / "photos"),
                port,
                log,
                workers=args.workers,
                threads=args.threads,
            )
        wait_healthy(port, deadline)
        today = datetime.now(zone())
        bodies = [meal_body(i, args.elders, today) for i in range(args.meals)]
        # terminal t sends meals t, t + T, t + 2T, ...: every terminal serves every elder
        jobs = [bodies[t :: args.terminals] for t in range(args.terminals)]
        load_before = os.getloadavg()
        record = run_phase(port, keys, jobs, deadline)
        # the retry comes from the terminal that sent the meal (keys are per canteen)
        step = max(1, args.meals // max(1, args.replays))
        replay_jobs: list[list[bytes]] = [[] for _ in keys]
        for i in range(0, args.meals, step)[: args.replays]:
            replay_jobs[i % args.terminals].append(bodies[i])
        replay = run_phase(port, keys, replay_jobs, deadline)
        load_after = os.getloadavg()
        engine = create_engine(url)
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT count(*) FROM meals")).scalar_one()
            flagged = conn.execute(text("SELECT count(*) FROM meal_flags")).scalar_one()
        engine.dispose()
        result = {
            "bench": "meals_load",
            "meals": args.meals,
            "terminals": args.terminals,
            "elders": args.elders,
            "gunicorn": f"{args.workers} workers x {args.threads} threads",
            "record": record,
            "replay": replay,
            "meals_stored": int(stored),
            "flags": int(flagged),
            "load_before": [round(x, 1) for x in load_before],
            "load_after": [round(x, 1) for x in load_after],
        }
    finally:
        stop([proc])
        drop_database(url)
    print(json.dumps(result, indent=2))
    print(
        f"meals: {record['requests']:,} by {args.terminals} terminals in {record['wall_s']} s = "
        f"{record['throughput_rps']} meals/s, p95 {record['p95_ms']} ms; replays p95 "
        f"{replay['p95_ms']} ms; {stored:,} stored, {flagged} flags; load {load_before[0]:.1f}"
    )


if __name__ == "__main__":
    main()
