"""PostgreSQL restarted during a stream of check-ins: nothing acknowledged is lost, failures
are coded 503s the phone retries, and requests succeed again soon after, without restarting
gunicorn.

    .venv/bin/python bench/fault_postgres.py [--rate 20 --duration-s 40 --down-s 3 --port 55432]

Starts a PRIVATE PostgreSQL cluster (initdb into a temporary directory, run as the postgres
user, on --port; the shared server on 5432 is never touched), migrates and seeds it, starts
gunicorn on it, then sends check-ins (each with its own photo) at --rate per second, open loop.
At a third of the run it stops the private cluster (fast shutdown), waits --down-s, and starts
it again. Every check-in answered 503 is retried like the phone does (same idempotency key)
until it is acknowledged or the run ends. Afterwards every acknowledged key is looked up.
Prints one JSON document and a one-line summary; the cluster and its files are removed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


def as_postgres(*cmd: str) -> list[str]:
    """initdb and pg_ctl refuse to run as root: run them as the postgres user when we are."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else list(cmd)


class PrivateCluster:
    """A throw-away PostgreSQL cluster on its own port and directory."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.dir = Path(tempfile.mkdtemp(prefix="cdfault-pg-"))
        shutil.chown(self.dir, "postgres") if os.geteuid() == 0 else None
        self.data = self.dir / "data"

    def ctl(self, *args: str) -> None:
        subprocess.run(
            as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), *args),
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def init(self) -> None:
        subprocess.run(
            as_postgres(
                str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres"
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        self.start()

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1"
        self.ctl("-o", opts, "-l", str(self.dir / "log"), "-w", "start")

    def stop(self) -> None:
        self.ctl("-m", "fast", "-w", "stop")

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


async def stream(
    port: int, requests: list[bytes], rate: float, fault: Any, run_s: float
) -> dict[str, Any]:
    from bench._stack import Pool

    pool = Pool(port)
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.5
    log: list[dict[str, Any]] = []  # one entry per attempt
    acked: set[int] = set()

    async def one(i: int, raw: bytes) -> None:
        await asyncio.sleep(max(0.0, start + i / rate - loop.time()))
        while loop.time() < start + run_s:
            sent = loop.time()
            try:
                status = await pool.request(raw)
            except (OSError, asyncio.IncompleteReadError, ValueError):
                status = 0
            log.append({"i": i, "t": round(sent - start, 3), "status": status})
            if status in (200, 201):
                acked.add(i)
                return
            if status not in (0, 503):
                return  # not retryable: counted below
            await asyncio.sleep(0.5)  # the phone waits (Retry-After); shortened to measure

    tasks = [asyncio.create_task(one(i, raw)) for i, raw in enumerate(requests)]
    fault_task = asyncio.create_task(fault(start))
    await asyncio.wait(tasks, timeout=run_s + 5)
    times = await fault_task
    return {"log": log, "acked": acked, "fault": times}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rate", type=float, default=20.0)
    ap.add_argument("--duration-s", type=float, default=40.0)
    ap.add_argument("--down-s", type=float, default=3.0)
    ap.add_argument("--port", type=int, default=55432)
    ap.add_argument("--caregivers", type=int, default=40)
    args = ap.parse_args()

    cluster = PrivateCluster(args.port)
    cluster.init()
    os.environ["BENCH_PG_ADMIN_URL"] = (
        f"postgresql+psycopg://postgres@127.0.0.1:{args.port}/postgres"
    )
    from sqlalchemy import create_engine, select
    from sqlalchemy.orm import Session

    from bench._stack import (
        checkin_requests,
        create_database,
        free_port,
        login,
        migrate,
        seed_checkins,
        server_env,
        start_gunicorn,
        stop,
        wait_healthy,
    )
    from dispatch.models import VisitEvent

    tmp = Path(tempfile.mkdtemp(prefix="cdfault-"))
    proc: subprocess.Popen[bytes] | None = None
    try:
        url = create_database()
        migrate(url)
        total = int(args.rate * args.duration_s)
        per = -(-total // args.caregivers)
        routes = seed_checkins(url, args.caregivers, per)
        port = free_port()
        gunicorn_log = (tmp / "gunicorn.log").open("wb")
        proc = start_gunicorn(server_env(url, tmp / "photos"), port, gunicorn_log)
        wait_healthy(port, time.monotonic() + 60)
        tokens = {u: login(port, u) for u, _ in routes}
        requests, keys = checkin_requests(routes, tokens, total)

        async def fault(start: float) -> dict[str, float]:
            loop = asyncio.get_running_loop()
            await asyncio.sleep(max(0.0, start + args.duration_s / 3 - loop.time()))
            stopped = loop.time() - start
            await asyncio.to_thread(cluster.stop)
            await asyncio.sleep(args.down_s)
            await asyncio.to_thread(cluster.start)
            return {"stop_at_s": round(stopped, 2), "back_at_s": round(loop.time() - start, 2)}

        load = os.getloadavg()[0]
        out = asyncio.run(stream(port, requests, args.rate, fault, args.duration_s + 30))
        engine = create_engine(url)
        with Session(engine) as s:
            stored = set(s.scalars(select(VisitEvent.idempotency_key)))
        engine.dispose()
        log, acked, times = out["log"], out["acked"], out["fault"]
        statuses: dict[str, int] = {}
        for entry in log:
            statuses[str(entry["status"])] = statuses.get(str(entry["status"]), 0) + 1
        first_ok_after = min(
            (e["t"] for e in log if e["status"] == 201 and e["t"] >= times["back_at_s"]),
            default=None,
        )
        lost = [keys[i] for i in acked if keys[i] not in stored]
        result = {
            "benchmark": "fault_postgres",
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": {"cpus": os.cpu_count(), "load_avg_1m": round(load, 2)},
            "config": vars(args),
            "fault": times,
            "check_ins": len(requests),
            "acknowledged": len(acked),
            "stored": len(stored),
            "acknowledged_lost": len(lost),
            "attempts_by_status": statuses,
            "server_errors_500": statuses.get("500", 0),
            "recovered_after_s": (
                None if first_ok_after is None else round(first_ok_after - times["back_at_s"], 2)
            ),
        }
    finally:
        stop([proc])
        cluster.remove()
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(result, indent=2))
    print(
        f"fault_postgres: stopped at {times['stop_at_s']} s for {args.down_s:g} s; "
        f"{result['acknowledged']}/{result['check_ins']} acknowledged, lost "
        f"{result['acknowledged_lost']}, 500s {result['server_errors_500']}, 503s "
        f"{statuses.get('503', 0)}, first success {result['recovered_after_s']} s after the "
        f"database was back (no gunicorn restart); load {result['machine']['load_avg_1m']}"
    )


if __name__ == "__main__":
    main()
