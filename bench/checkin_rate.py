"""Check-ins with a photo at a target rate, open loop, through gunicorn + PostgreSQL.

    .venv/bin/python bench/checkin_rate.py [--rate 100 --duration-s 30 --workers 2
                                            --threads 4 --worker-class gthread]

Seeds a fresh PostgreSQL database (dropped at the end) with one provider and enough published
visits for ``rate × duration`` check-ins, starts gunicorn on a free port, logs every caregiver
in, builds every request beforehand (multipart: event JSON + its own ≈34 KiB JPEG), then sends
request i at start + i / rate whatever the earlier ones are doing (open loop: a slow server
does not slow the arrivals). Latency is measured from the scheduled send time, so queueing in
the generator counts against the server, not for it. The generator is one asyncio thread with
hand-written HTTP/1.1 over keep-alive connections (a new one whenever all are busy), so it
takes little of the two cores it shares with the server. Prints one JSON document and a
one-line summary; bounded by --duration-s plus a drain of --drain-s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench._stack import (  # noqa: E402
    CpuMeter,
    Pool,
    checkin_requests,
    create_database,
    drop_database,
    free_port,
    login,
    migrate,
    seed_checkins,
    server_env,
    start_gunicorn,
    stop,
    wait_healthy,
)
from dispatch.models import VisitEvent  # noqa: E402


async def open_loop(
    port: int, requests: list[bytes], rate: float, drain_s: float
) -> tuple[list[tuple[int, float]], float, int]:
    pool = Pool(port)
    results: list[tuple[int, float]] = []
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.5

    async def one(i: int, raw: bytes) -> None:
        scheduled = start + i / rate
        await asyncio.sleep(max(0.0, scheduled - loop.time()))
        try:
            status = await pool.request(raw)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            status = 0
        results.append((status, (loop.time() - scheduled) * 1000))

    tasks = [asyncio.create_task(one(i, raw)) for i, raw in enumerate(requests)]
    _done, pending = await asyncio.wait(tasks, timeout=len(requests) / rate + 0.5 + drain_s)
    for task in pending:
        task.cancel()
    wall = loop.time() - start
    return results, wall, pool.opened


def percentile(sorted_ms: list[float], q: float) -> float:
    if not sorted_ms:
        return 0.0
    return round(sorted_ms[min(len(sorted_ms) - 1, int(q * len(sorted_ms)))], 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rate", type=float, default=100.0, help="check-ins per second")
    ap.add_argument("--duration-s", type=float, default=30.0)
    ap.add_argument("--drain-s", type=float, default=30.0)
    ap.add_argument("--caregivers", type=int, default=100)
    ap.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    ap.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    ap.add_argument("--worker-class", default="gthread")
    ap.add_argument("--log", help="keep gunicorn's log at this path (default: discarded)")
    args = ap.parse_args()
    total = int(args.rate * args.duration_s)
    per_caregiver = -(-total // args.caregivers)

    url = create_database()
    tmp = Path(tempfile.mkdtemp(prefix="cdrate-"))
    proc: subprocess.Popen[bytes] | None = None
    log = Path(args.log or tmp / "gunicorn.log").open("wb")  # noqa: SIM115  (closed below)
    try:
        migrate(url)
        routes = seed_checkins(url, args.caregivers, per_caregiver)
        port = free_port()
        proc = start_gunicorn(
            server_env(url, tmp / "photos"),
            port,
            log,
            workers=args.workers,
            threads=args.threads,
            worker_class=args.worker_class,
        )
        wait_healthy(port, time.monotonic() + 60)
        tokens = {username: login(port, username) for username, _ in routes}
        requests, _keys = checkin_requests(routes, tokens, total)
        meter = CpuMeter(proc.pid, url)
        meter.start()
        load_before = os.getloadavg()[0]
        results, wall, connections = asyncio.run(open_loop(port, requests, args.rate, args.drain_s))
        cpu = meter.stop()
        ok = [ms for status, ms in results if status == 201]
        ok.sort()
        engine = create_engine(url)
        with Session(engine) as s:
            stored = s.scalar(select(func.count()).select_from(VisitEvent))
        engine.dispose()
        result: dict[str, Any] = {
            "benchmark": "checkin_rate",
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": {
                "cpus": os.cpu_count(),
                "load_avg_1m_before": round(load_before, 2),
                "load_avg_1m_after": round(os.getloadavg()[0], 2),
            },
            "config": {**vars(args), "requests": total},
            "sent": len(requests),
            "answered": len(results),
            "created": len(ok),
            "statuses": {
                str(c): sum(1 for r in results if r[0] == c) for c in {r[0] for r in results}
            },
            "throughput_rps": round(len(ok) / wall, 1) if wall else 0,
            "latency_ms": {
                "p50": percentile(ok, 0.50),
                "p95": percentile(ok, 0.95),
                "p99": percentile(ok, 0.99),
                "mean": round(statistics.mean(ok), 1) if ok else 0,
            },
            "connections_opened": connections,
            # Where the two cores went: CPU seconds of the run per part, and per check-in.
            "cpu_s": cpu,
            "cpu_ms_per_checkin": {
                k: round(1000 * v / max(1, len(results)), 2) for k, v in cpu.items()
            },
            "events_stored": stored,
            "acknowledged_lost": max(0, len(ok) - (stored or 0)),
        }
    finally:
        stop([proc])
        log.close()
        drop_database(url)
        for p in sorted(tmp.rglob("*"), reverse=True):
            p.unlink() if p.is_file() else p.rmdir()
        tmp.rmdir()
    print(json.dumps(result, indent=2, ensure_ascii=False))
    lat, per = result["latency_ms"], result["cpu_ms_per_checkin"]
    print(
        f"checkin_rate: target {args.rate:g}/s for {args.duration_s:g} s → {result['created']}/"
        f"{total} created at {result['throughput_rps']} req/s, p50 {lat['p50']} ms, p95 "
        f"{lat['p95']} ms, p99 {lat['p99']} ms; lost {result['acknowledged_lost']}; CPU per "
        f"check-in {sum(per.values()):.1f} ms (gunicorn {per['gunicorn']}, PostgreSQL "
        f"{per['postgres']}, generator {per['generator']}); load "
        f"{result['machine']['load_avg_1m_before']} before, "
        f"{result['machine']['load_avg_1m_after']} after"
    )


if __name__ == "__main__":
    main()
