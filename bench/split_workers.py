"""A day split by street (街道) and solved by real ``rq worker`` processes, against PostgreSQL.

    .venv/bin/python bench/split_workers.py [--workers 2 --visits 1000 --caregivers 100 \
        --split 400 --time-limit 30]
    .venv/bin/python bench/split_workers.py --kill    # kill the only worker mid-solve

Creates its own PostgreSQL database (dropped at the end) and its own rq queue on Redis, seeds a
generated day, POSTs nothing but calls the same service as POST /api/v1/plans, starts the worker
processes, and polls the plan as GET /api/v1/plans/{id} does. With ``--kill`` it SIGKILLs the
worker while it solves and shows that the plan never holds partial routes and turns ``failed``.
Prints JSON and a one-line summary.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402
from plan_day import seed_generated  # noqa: E402
from rq.job import Job  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from dispatch import config, db, queue  # noqa: E402
from dispatch.models import DayPlan, Role  # noqa: E402
from dispatch.services import plans  # noqa: E402
from dispatch.services.visit_generation import generate_for_day  # noqa: E402
from dispatch.tenancy import SYSTEM, Actor  # noqa: E402

PG_ADMIN = os.environ.get(
    "BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
DAY = date(2030, 1, 7)


def admin(sql: str) -> None:
    engine = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(sql))
    engine.dispose()


def start_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    # Its own session: the worker and its work horse form one process group we can kill.
    return subprocess.Popen(
        [sys.executable, "-m", "dispatch.cli", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (from /proc)."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry.name))
    return out


def read_plan(plan_id: int) -> DayPlan:
    with db.session_scope() as session:
        plan = plans.refresh_status(session, session.get(DayPlan, plan_id))
        session.flush()
        return plan


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--visits", type=int, default=1000)
    ap.add_argument("--caregivers", type=int, default=100)
    ap.add_argument("--split", type=int, default=400)
    ap.add_argument("--time-limit", type=int, default=30)
    ap.add_argument("--kill", action="store_true")
    args = ap.parse_args()
    if args.kill:
        args.workers = 1

    name = f"cdbench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin(f'CREATE DATABASE "{name}"')
    url = make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
    queue_name = f"cdbench-{uuid.uuid4().hex[:8]}"
    config.use(config.Settings(database_url=url, redis_url=REDIS, queue_name=queue_name))
    db.configure(url)
    workers: list[subprocess.Popen[bytes]] = []
    out: dict[str, Any] = {"benchmark": "split by street, rq workers", **vars(args)}
    try:
        cfg = Config(str(ROOT / "alembic.ini"))
        cfg.set_main_option("script_location", str(ROOT / "migrations"))
        cfg.attributes["url"] = url
        cfg.attributes["configure_logging"] = False
        command.upgrade(cfg, "head")
        with db.session_scope() as session:
            pid = seed_generated(session, DAY, args.visits, args.caregivers, seed=7)
            generate_for_day(session, SYSTEM, pid, DAY)
        session = db.Session()
        actor = Actor(user_id=None, role=Role.dispatcher, provider_id=pid)
        plan = plans.create_plan(
            session,
            actor,
            DAY,
            None,
            args.time_limit,
            options={"max_visits_per_solve": args.split},
        )
        plan_id = plan.id
        session.commit()
        queue.flush_pending(session)
        db.Session.remove()
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "REDIS_URL": REDIS,
            "CAREDISPATCH_QUEUE": queue_name,
        }
        t0 = time.monotonic()
        workers = [start_worker(env) for _ in range(args.workers)]
        seen: list[dict[str, Any]] = []
        killed_at = None
        while time.monotonic() - t0 < 30 * args.time_limit + 300:
            plan = read_plan(plan_id)
            stage = (plan.progress or {}).get("stage")
            if not seen or seen[-1]["stage"] != stage or seen[-1]["status"] != plan.status.value:
                seen.append(
                    {
                        "t_s": round(time.monotonic() - t0, 1),
                        "status": plan.status.value,
                        "stage": stage,
                        "has_routes": plan.routes is not None,
                    }
                )
            if args.kill and killed_at is None and stage in ("solving", "parts"):
                time.sleep(1)
                for w in workers:
                    # rq runs each job in a forked work horse in its own session: kill it by
                    # its parent's pid too, as a crashing machine would.
                    for child in children(w.pid):
                        os.kill(child, signal.SIGKILL)
                    os.killpg(w.pid, signal.SIGKILL)
                killed_at = round(time.monotonic() - t0, 1)
                out["killed_at_s"] = killed_at
            if plan.status.value in ("proposed", "failed"):
                break
            time.sleep(1)
        wall = time.monotonic() - t0
        out["timeline"] = seen
        out["status"] = plan.status.value
        out["error"] = plan.error
        out["wall_s"] = round(wall, 1)
        out["routes_written"] = plan.routes is not None
        if plan.status.value == "proposed":
            out["kpis"] = {k: v for k, v in plan.kpis.items() if k != "travel_min_by_caregiver"}
            out["stats"] = plan.stats
            out["unassigned_by_reason"] = dict(Counter(u["reason"] for u in plan.unassigned))
            conn = queue.redis_connection()
            out["parts"] = [
                {**p, "worker": Job.fetch(p["job_id"], connection=conn).worker_name}
                for p in ((read_plan(plan_id).progress or {}).get("parts") or [])
            ]
            # The parts' progress is overwritten by "done"; ask rq which worker ran which.
            q = queue.get_queue(conn)
            finished = q.finished_job_registry.get_job_ids()
            out["jobs"] = [
                {
                    "description": j.description,
                    "worker": j.worker_name,
                    "s": round((j.ended_at - j.started_at).total_seconds(), 1),
                }
                for j in (Job.fetch(i, connection=conn) for i in finished)
            ]
    finally:
        for w in workers:
            if w.poll() is None:
                os.killpg(w.pid, signal.SIGTERM)
                try:
                    w.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(w.pid, signal.SIGKILL)
        db.Session.remove()
        db.forget_engine(url)
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(json.dumps(out, ensure_ascii=False, indent=2, default=str))
    if args.kill:
        print(
            f"killed the worker at {out.get('killed_at_s')} s: plan {out['status']} after "
            f"{out['wall_s']} s, routes written: {out['routes_written']} ({out['error']})"
        )
    else:
        k = out.get("kpis", {})
        print(
            f"{args.visits} visits / {args.caregivers} caregivers split above {args.split} on "
            f"{args.workers} rq workers: {out['status']} in {out['wall_s']} s, "
            f"{k.get('visits_assigned')} assigned, unassigned {out.get('unassigned_by_reason')}"
        )


if __name__ == "__main__":
    main()
