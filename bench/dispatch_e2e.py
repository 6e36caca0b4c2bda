"""End to end through HTTP with a real ``rq worker`` process, PostgreSQL and Redis (demo district).

    .venv/bin/python bench/dispatch_e2e.py

Creates and drops its own database and queue. The HTTP calls go through the Flask app (test
client); the optimisation runs in a separate ``python -m dispatch.cli worker`` process: generate,
plan (progress while it runs), move and pin a visit, re-plan without a caregiver, publish, and
the caregiver's GET /me/visits. Prints each step, then JSON and a one-line summary.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402
from split_workers import PG_ADMIN, REDIS, admin, children, start_worker  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from api import create_app  # noqa: E402
from dispatch import config, db  # noqa: E402
from dispatch.models import User  # noqa: E402

DAY = date(2026, 11, 25)
SECRET = "e2e-" + "x" * 44


def wait(c: Any, h: dict[str, str], plan_id: int) -> dict[str, Any]:
    while True:
        plan = c.get(f"/api/v1/plans/{plan_id}", headers=h).json
        print("  ", plan["status"], plan["progress"])
        if plan["status"] != "optimizing":
            return plan
        time.sleep(3)


def main() -> None:
    name = f"cde2e_{uuid.uuid4().hex[:6]}"
    admin(f'CREATE DATABASE "{name}"')
    url = make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
    qn = f"cde2e-{uuid.uuid4().hex[:6]}"
    settings = config.Settings(database_url=url, redis_url=REDIS, queue_name=qn, secret_key=SECRET)
    worker = None
    try:
        cfg = Config(str(ROOT / "alembic.ini"))
        cfg.set_main_option("script_location", str(ROOT / "migrations"))
        cfg.attributes["url"] = url
        cfg.attributes["configure_logging"] = False
        command.upgrade(cfg, "head")
        app = create_app(settings)
        from dispatch.demo import seed_demo

        with db.session_scope() as s:
            seed_demo(s, 20261123, DAY)
        c = app.test_client()

        def login(username: str) -> dict[str, str]:
            r = c.post("/api/v1/auth/login", json={"username": username, "password": "demo"})
            assert r.status_code == 200, r.json
            return {"Authorization": "Bearer " + r.json["access_token"]}

        h = login("dispatcher2")
        gen = c.post(f"/api/v1/days/{DAY}/visits:generate", json={}, headers=h).json
        print("generate", gen)
        r = c.post("/api/v1/plans", json={"date": str(DAY), "time_limit_s": 10}, headers=h)
        print("plan", r.status_code, r.json["status"], r.json["job_id"])
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "REDIS_URL": REDIS,
            "CAREDISPATCH_QUEUE": qn,
            "SECRET_KEY": SECRET,
        }
        worker = start_worker(env)
        plan = wait(c, h, r.json["id"])
        route = next(x for x in plan["routes"] if len(x["stops"]) > 2)
        gone = route["caregiver_id"]
        vid = route["stops"][1]["visit_id"]
        other = None
        for x in plan["routes"]:
            if x["caregiver_id"] == gone:
                continue
            resp = c.patch(
                f"/api/v1/visits/{vid}", json={"caregiver_id": x["caregiver_id"]}, headers=h
            )
            print("move", vid, "to", x["caregiver_id"], resp.status_code, resp.json.get("code"))
            if resp.status_code == 200:
                other = x["caregiver_id"]
                break
        body = {"unavailable_caregivers": [gone], "time_limit_s": 10}
        r = c.post(f"/api/v1/plans/{plan['id']}/replan", json=body, headers=h)
        print("replan", r.status_code)
        plan2 = wait(c, h, r.json["id"])
        owner = {
            s["visit_id"]: x["caregiver_id"]
            for x in plan2["routes"]
            for s in x["stops"]
            if s["kind"] == "visit"
        }
        print("publish", c.post(f"/api/v1/plans/{plan2['id']}/publish", headers=h).status_code)
        with db.session_scope() as s:
            username = s.query(User).filter(User.caregiver_id == other).first().username
        me = c.get(f"/api/v1/me/visits?date={DAY}", headers=login(username)).json
        out = {
            "generated": gen,
            "plan": {k: plan["kpis"][k] for k in ("visits_assigned", "visits_unassigned")},
            "unassigned": [u["reason"] for u in plan["unassigned"]],
            "replan": {
                "status": plan2["status"],
                "pin_kept": owner.get(vid) == other,
                "dropped_caregiver_has_route": any(
                    x["caregiver_id"] == gone for x in plan2["routes"]
                ),
                "assigned": plan2["kpis"]["visits_assigned"],
            },
            "caregiver": username,
            "caregiver_route": [v["id"] for v in me],
        }
        print(json.dumps(out, ensure_ascii=False))
        print(
            f"e2e: {out['plan']['visits_assigned']} visits planned on a real rq worker; re-planned "
            f"without caregiver {gone} (pin kept: {out['replan']['pin_kept']}); published; "
            f"{username} sees {len(me)} visits, the moved one: {vid in out['caregiver_route']}"
        )
    finally:
        if worker is not None:
            for child in children(worker.pid):
                os.kill(child, signal.SIGKILL)
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=20)
        db.Session.remove()
        db.forget_engine(url)
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
