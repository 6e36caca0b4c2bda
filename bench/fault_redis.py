"""Redis stopped and started again under a stream of check-ins, with an rq worker running.

    .venv/bin/python bench/fault_redis.py [--rate 10 --duration-s 30 --down-s 8 --port 6391]

Starts a PRIVATE redis-server on --port (the shared one on 6379 is never touched), a fresh
PostgreSQL database on the shared server (dropped at the end), gunicorn and one worker
(``python -m dispatch.cli worker``) on that Redis. Sends check-ins at --rate per second, open
loop, and every second asks for a plan (``POST /api/v1/plans``) and the health. At a third of
the run it kills the private Redis for --down-s seconds, then starts it again. Reports: check-ins
acknowledged and lost, the answers to the plan requests during the outage (expected: 503
``QUEUE_UNAVAILABLE``, never 500, and no plan row left by them), the seconds until a plan is
accepted again after Redis is back (no gunicorn restart), and whether the worker survived and
solved a plan after the outage. Prints one JSON document and a one-line summary.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench._stack import (  # noqa: E402
    Pool,
    checkin_requests,
    create_database,
    drop_database,
    free_port,
    get_json,
    login,
    migrate,
    post_json,
    seed_checkins,
    server_env,
    start_gunicorn,
    start_redis,
    start_worker,
    stop,
    wait_healthy,
)
from dispatch.models import DayPlan, Role, User, VisitEvent  # noqa: E402
from dispatch.security import hash_password  # noqa: E402

DISPATCHER_PASSWORD = os.environ.get("BENCH_PW", "fault-dispatcher")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rate", type=float, default=10.0)
    ap.add_argument("--duration-s", type=float, default=30.0)
    ap.add_argument("--down-s", type=float, default=8.0)
    ap.add_argument("--port", type=int, default=6391)
    ap.add_argument("--caregivers", type=int, default=30)
    ap.add_argument("--log", help="keep the server and worker log at this path")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="cdfault-redis-"))
    redis_url = f"redis://127.0.0.1:{args.port}/0"
    url = create_database()
    procs: list[subprocess.Popen[bytes]] = []
    redis = start_redis(args.port, tmp)
    try:
        migrate(url)
        total = int(args.rate * args.duration_s)
        per = -(-total // args.caregivers)
        routes = seed_checkins(url, args.caregivers, per)
        engine = create_engine(url)
        with Session(engine) as s:
            caregiver = s.scalar(select(User).where(User.username == routes[0][0]))
            assert caregiver is not None
            s.add(
                User(
                    username="fault_dispatcher",
                    password_hash=hash_password(DISPATCHER_PASSWORD),
                    role=Role.dispatcher,
                    provider_id=caregiver.provider_id,
                )
            )
            s.commit()
        port = free_port()
        env = server_env(
            url, tmp / "photos", redis_url=redis_url, queue=f"fault-{uuid.uuid4().hex[:8]}"
        )
        logs = Path(args.log or tmp / "server.log").open("wb")  # noqa: SIM115
        procs.append(start_gunicorn(env, port, logs))
        worker = start_worker(env, logs)
        procs.append(worker)
        wait_healthy(port, time.monotonic() + 60)
        tokens = {u: login(port, u) for u, _ in routes}
        dispatcher = login(port, "fault_dispatcher", DISPATCHER_PASSWORD)
        requests, keys = checkin_requests(routes, tokens, total)
        # A day with no visits: planning it does not touch the visits being checked into.
        day = (datetime.now(UTC).date() + timedelta(days=60)).isoformat()
        probes: list[dict[str, Any]] = []
        fault: dict[str, float] = {}
        answers: dict[str, int] = {}

        async def run() -> set[int]:
            pool = Pool(port)
            loop = asyncio.get_running_loop()
            start = loop.time() + 0.5
            acked: set[int] = set()

            async def one(i: int, raw: bytes) -> None:
                nonlocal answers
                await asyncio.sleep(max(0.0, start + i / args.rate - loop.time()))
                for _ in range(20):
                    try:
                        status = await pool.request(raw)
                    except (OSError, asyncio.IncompleteReadError, ValueError):
                        status = 0
                    answers[str(status)] = answers.get(str(status), 0) + 1
                    if status in (200, 201):
                        acked.add(i)
                        return
                    await asyncio.sleep(0.5)

            async def probe() -> None:
                while loop.time() < start + args.duration_s + 15:
                    t = round(loop.time() - start, 2)
                    status, body = await asyncio.to_thread(
                        post_json,
                        port,
                        "/api/v1/plans",
                        dispatcher,
                        {"date": day, "time_limit_s": 2},
                    )
                    health, hbody = await asyncio.to_thread(get_json, port, "/api/v1/health")
                    probes.append(
                        {"t": t, "plan": status, "code": body.get("code"),
                         "plan_id": body.get("id"), "health": health,
                         "queue": hbody.get("queue")}
                    )  # fmt: skip
                    await asyncio.sleep(1.0)

            async def outage() -> None:
                nonlocal redis
                await asyncio.sleep(max(0.0, start + args.duration_s / 3 - loop.time()))
                fault["stop_at_s"] = round(loop.time() - start, 2)
                redis.kill()
                await asyncio.to_thread(redis.wait)
                await asyncio.sleep(args.down_s)
                redis = await asyncio.to_thread(start_redis, args.port, tmp)
                fault["back_at_s"] = round(loop.time() - start, 2)

            tasks = [asyncio.create_task(one(i, raw)) for i, raw in enumerate(requests)]
            await asyncio.gather(
                probe(), outage(), asyncio.wait(tasks, timeout=args.duration_s + 20)
            )
            return acked

        load = os.getloadavg()[0]
        acked = asyncio.run(run())
        # The worker solves what was accepted after the outage (it must have survived it).
        deadline = time.monotonic() + 120
        accepted_after = [
            p["plan_id"] for p in probes if p["plan"] == 202 and p["t"] > fault["back_at_s"]
        ]
        solved_after = None
        while accepted_after and time.monotonic() < deadline:
            _status, plan = get_json(port, f"/api/v1/plans/{accepted_after[0]}", dispatcher)
            if plan.get("status") not in (None, "optimizing", "draft"):
                solved_after = plan.get("status")
                break
            time.sleep(1)
        with Session(engine) as s:
            stored = set(s.scalars(select(VisitEvent.idempotency_key)))
            plan_rows = s.scalar(select(func.count()).select_from(DayPlan)) or 0
            plan_statuses = {
                str(status): n
                for status, n in s.execute(
                    select(DayPlan.status, func.count()).group_by(DayPlan.status)
                )
            }
        engine.dispose()
        during = [p for p in probes if fault["stop_at_s"] < p["t"] < fault["back_at_s"]]
        first_ok = min(
            (p["t"] for p in probes if p["plan"] == 202 and p["t"] >= fault["back_at_s"]),
            default=None,
        )
        result = {
            "benchmark": "fault_redis",
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": {"cpus": os.cpu_count(), "load_avg_1m": round(load, 2)},
            "config": vars(args),
            "fault": fault,
            "check_ins": len(requests),
            "acknowledged": len(acked),
            "check_in_answers": answers,
            "acknowledged_lost": sum(1 for i in acked if keys[i] not in stored),
            "plan_requests_during_outage": [(p["plan"], p["code"]) for p in during],
            "health_during_outage": sorted({(p["health"], p["queue"]) for p in during}),
            "plans_accepted": sum(1 for p in probes if p["plan"] == 202),
            "plan_rows": plan_rows,
            "plan_statuses_at_end": plan_statuses,
            "server_errors_500": sum(1 for p in probes if p["plan"] == 500),
            "plan_accepted_again_after_s": (
                None if first_ok is None else round(first_ok - fault["back_at_s"], 2)
            ),
            "worker_alive": worker.poll() is None,
            "plan_after_outage": solved_after,
        }
    finally:
        stop(procs)
        redis.kill()
        redis.wait()
        drop_database(url)
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(result, indent=2))
    print(
        f"fault_redis: Redis down {args.down_s:g} s at {fault['stop_at_s']} s; check-ins "
        f"{result['acknowledged']}/{result['check_ins']} acknowledged, lost "
        f"{result['acknowledged_lost']}; plan requests during the outage "
        f"{sorted({tuple(x) for x in result['plan_requests_during_outage']})}, 500s "
        f"{result['server_errors_500']}; plans accepted again "
        f"{result['plan_accepted_again_after_s']} s after Redis was back; worker alive "
        f"{result['worker_alive']}, a plan after the outage: {result['plan_after_outage']}; "
        f"load {result['machine']['load_avg_1m']}"
    )


if __name__ == "__main__":
    main()
