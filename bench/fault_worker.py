"""An rq worker killed (SIGKILL) in the middle of a solve: what was lost, how long recovery took.

    .venv/bin/python bench/fault_worker.py [--solve-s 30 --visits 80 --caregivers 8 --port 6391]

Starts a PRIVATE redis-server on --port (the shared one on 6379 is never touched), a fresh
PostgreSQL database on the shared server (dropped at the end) with one provider and two future
days of unplanned visits, gunicorn, and one worker (``python -m dispatch.cli worker``, in a
process group of its own). A dispatcher asks for a plan of day 1 (solved for --solve-s) and of
day 2 (queued behind it). Once day 1's solve is running, the whole worker (its rq loop, its work
horse and its periodic thread) is killed with SIGKILL, and a new worker is started, as a
supervisor would. Nobody opens the plans: the script reads their rows in the database.

Reports: the acknowledged (202) plan requests and what became of each (``lost``: neither
proposed nor failed with a code by the end; target 0), the seconds from the kill until the killed
plan read ``failed`` (target ≤ 180 s) and its ``error_code``, whether anything of it was written
onto the visits (target: nothing), whether the queued day was solved by the new worker, and the
seconds from the kill until a new version of day 1, asked for once the first read failed, was
proposed. Prints one JSON document and a one-line summary.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench._stack import (  # noqa: E402
    PASSWORD,
    create_database,
    descendants,
    drop_database,
    free_port,
    get_json,
    login,
    migrate,
    post_json,
    server_env,
    start_gunicorn,
    start_redis,
    start_worker,
    stop,
    wait_healthy,
)
from dispatch.models import (  # noqa: E402
    BillingUnit,
    Caregiver,
    Client,
    DayPlan,
    Gender,
    Provider,
    Role,
    ServiceType,
    Shift,
    User,
    Visit,
    VisitAssignment,
    VisitStatus,
)
from dispatch.security import hash_password  # noqa: E402

ZONE = ZoneInfo("Asia/Shanghai")


def seed(url: str, days: list[date], visits: int, caregivers: int) -> None:
    """One provider, ``caregivers`` caregivers on 08:00–18:00 shifts, ``visits`` unplanned
    one-hour visits on each day at clients spread over a few kilometres, and a dispatcher."""
    engine = create_engine(url)
    with Session(engine) as s:
        provider = Provider(code="FW", name="故障测试服务中心", district="义乌市")
        service = ServiceType(
            code="CLEAN", name="助洁", default_duration_min=60, photo_required=False,
            billing_unit=BillingUnit.hour, rate=Decimal("40.00"),
        )  # fmt: skip
        s.add_all([provider, service])
        s.flush()
        for c in range(caregivers):
            cg = Caregiver(
                provider_id=provider.id, code=f"FW{c:03d}", name=f"护理员{c}",
                gender=Gender.female, home_lat=29.30 + 0.004 * c, home_lon=120.06,
            )  # fmt: skip
            shift = {"start_time": clock(8), "end_time": clock(18)}
            cg.shifts = [Shift(weekday=d, **shift) for d in range(7)]
            s.add(cg)
        clients = []
        for i in range(visits):
            client = Client(
                provider_id=provider.id, code=f"FC{i:04d}", name="王秀英", address="宾王路 88号",
                lat=29.28 + 0.0007 * (i % 60), lon=120.04 + 0.0011 * (i // 60 + i % 7),
            )  # fmt: skip
            s.add(client)
            clients.append(client)
        s.flush()
        for day in days:
            for i, client in enumerate(clients):
                start = datetime.combine(day, clock(8 + (i % 8)), tzinfo=ZONE).astimezone(UTC)
                s.add(
                    Visit(
                        provider_id=provider.id, client_id=client.id, service_type_id=service.id,
                        date=day, window_start_at=start, window_end_at=start + timedelta(hours=3),
                        duration_min=60, status=VisitStatus.planned,
                    )
                )  # fmt: skip
        s.add(
            User(
                username="fault_dispatcher", password_hash=hash_password(PASSWORD),
                role=Role.dispatcher, provider_id=provider.id,
            )
        )  # fmt: skip
        s.commit()
    engine.dispose()


def rows(engine: Any, ids: list[int]) -> dict[int, dict[str, Any]]:
    with Session(engine) as s:
        return {
            p.id: {"status": p.status.value, "error_code": p.error_code, "date": p.date.isoformat()}
            for p in s.scalars(select(DayPlan).where(DayPlan.id.in_(ids)))
        }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--solve-s", type=int, default=30, help="the killed plan's solver time limit")
    ap.add_argument("--visits", type=int, default=80, help="visits per day")
    ap.add_argument("--caregivers", type=int, default=8)
    ap.add_argument("--port", type=int, default=6391, help="the private redis-server's port")
    ap.add_argument("--timeout-s", type=float, default=420, help="give up waiting after this")
    ap.add_argument("--log", help="keep the server and worker log at this path")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="cdfault-worker-"))
    url = create_database()
    redis = start_redis(args.port, tmp)
    procs: list[subprocess.Popen[bytes]] = []
    engine = create_engine(url)
    today = datetime.now(ZONE).date()
    day1, day2 = today + timedelta(days=30), today + timedelta(days=31)
    try:
        migrate(url)
        seed(url, [day1, day2], args.visits, args.caregivers)
        port = free_port()
        env = server_env(
            url,
            tmp / "photos",
            redis_url=f"redis://127.0.0.1:{args.port}/0",
            queue=f"fault-{uuid.uuid4().hex[:8]}",
        )
        log = Path(args.log or tmp / "server.log").open("wb")  # noqa: SIM115
        procs.append(start_gunicorn(env, port, log, workers=1))
        # A session (process group) of its own: the kill takes the rq loop, its work horse and
        # the periodic thread at once, as a machine or container dying would.
        first_worker = start_worker(env, log, own_session=True)
        wait_healthy(port, time.monotonic() + 60)
        token = login(port, "fault_dispatcher")
        load = os.getloadavg()[0]
        acknowledged: list[int] = []
        for day, limit in ((day1, args.solve_s), (day2, 5)):
            status, body = post_json(
                port, "/api/v1/plans", token, {"date": day.isoformat(), "time_limit_s": limit}
            )
            if status != 202:
                raise RuntimeError(f"plan request answered {status}: {body}")
            acknowledged.append(int(body["id"]))
        killed_plan = acknowledged[0]
        # Kill once the solve is under way (the job reports its stage to rq while it runs).
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            _s, plan = get_json(port, f"/api/v1/plans/{killed_plan}", token)
            if (plan.get("progress") or {}).get("stage") == "solving":
                break
            time.sleep(0.2)
        else:
            raise RuntimeError("the first plan's solve never started")
        time.sleep(min(3.0, args.solve_s / 4))
        # rq's work horse runs in a session of its own: kill it with its worker, as a machine
        # (or container) dying would.
        horses = descendants(first_worker.pid)
        for pid in [first_worker.pid, *horses]:
            os.kill(pid, signal.SIGKILL)
        first_worker.wait()
        killed_at = time.monotonic()
        procs.append(start_worker(env, log, own_session=True))  # what a supervisor does

        failed_after = replan_id = proposed_after = None
        timeline: list[dict[str, Any]] = []
        while time.monotonic() - killed_at < args.timeout_s:
            now = round(time.monotonic() - killed_at, 1)
            state = rows(engine, [*acknowledged, *([replan_id] if replan_id else [])])
            if not timeline or timeline[-1]["plans"] != state:
                timeline.append({"t_s": now, "plans": state})
            if failed_after is None and state[killed_plan]["status"] != "optimizing":
                failed_after = now
                status, body = post_json(
                    port, "/api/v1/plans", token,
                    {"date": day1.isoformat(), "time_limit_s": args.solve_s},
                )  # fmt: skip
                if status == 202:
                    replan_id = int(body["id"])
                    acknowledged.append(replan_id)
            if replan_id and state.get(replan_id, {}).get("status") == "proposed":
                proposed_after = now
            if proposed_after is not None and all(
                p["status"] != "optimizing" for p in state.values()
            ):
                break
            time.sleep(0.5)
        final = rows(engine, acknowledged)
        with Session(engine) as s:
            written = s.scalar(
                select(func.count())
                .select_from(Visit)
                .where(Visit.plan_id == killed_plan)
            ) or 0  # fmt: skip
            assigned_by_killed = s.scalar(
                select(func.count())
                .select_from(VisitAssignment)
                .join(Visit, Visit.id == VisitAssignment.visit_id)
                .where(Visit.plan_id == killed_plan)
            ) or 0  # fmt: skip
        # Lost: still waiting at the end, or failed without saying why. A stored version that
        # a newer one superseded was not lost.
        lost = [
            pid
            for pid, p in final.items()
            if p["status"] in ("draft", "optimizing")
            or (p["status"] == "failed" and not p["error_code"])
        ]
        result = {
            "benchmark": "fault_worker",
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": {"cpus": os.cpu_count(), "load_avg_1m": round(load, 2)},
            "config": vars(args),
            "acknowledged_plans": len(acknowledged),
            "final": {str(k): v for k, v in final.items()},
            "acknowledged_lost": len(lost),
            "killed_plan": {
                "id": killed_plan,
                "work_horses_killed": len(horses),
                "reads_failed_after_s": failed_after,
                "error_code": final[killed_plan]["error_code"],
                "visits_written": written + assigned_by_killed,
            },
            "queued_plan_solved_by_new_worker": final[acknowledged[1]]["status"] == "proposed",
            "replan_proposed_after_kill_s": proposed_after,
            "timeline": timeline,
        }
    finally:
        stop(procs)
        redis.kill()
        redis.wait()
        engine.dispose()
        drop_database(url)
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    k = result["killed_plan"]
    print(
        f"fault_worker: worker SIGKILLed mid-solve; {result['acknowledged_plans']} plans "
        f"acknowledged, lost {result['acknowledged_lost']}; the killed plan read "
        f"{final[killed_plan]['status']} ({k['error_code']}) {k['reads_failed_after_s']} s after "
        f"the kill, {k['visits_written']} visit rows written by it; the queued plan solved by "
        f"the new worker: {result['queued_plan_solved_by_new_worker']}; day re-planned and "
        f"proposed {result['replan_proposed_after_kill_s']} s after the kill; load "
        f"{result['machine']['load_avg_1m']}"
    )


if __name__ == "__main__":
    main()
