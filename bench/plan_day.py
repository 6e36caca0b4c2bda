"""Plan-time and KPI benchmark: the demo district's day and a generated day of 1,000 visits.

    .venv/bin/python bench/plan_day.py demo [--time-limit 15]
    .venv/bin/python bench/plan_day.py generated [--visits 1000 --caregivers 100 --time-limit 60]
    .venv/bin/python bench/plan_day.py generated --split 400   # by street, parts one after another

Each run uses a fresh SQLite database in a temporary directory (nothing else is touched), goes
through the same code as the rq job (rows -> routing dataclasses -> solve -> plan JSON), prints
one JSON document and a one-line summary.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import date, datetime
from datetime import time as dtime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402

from dispatch import config, db  # noqa: E402
from dispatch.models import (  # noqa: E402
    BillingUnit,
    Caregiver,
    CaregiverSkill,
    CarePlan,
    Client,
    DayPlan,
    Gender,
    PlanStatus,
    Provider,
    Recurrence,
    ServiceType,
    Shift,
    TravelMode,
)
from dispatch.services import demo_day, plan_parts, proposals  # noqa: E402
from dispatch.services import problem as P  # noqa: E402
from dispatch.services.visit_generation import generate_for_day  # noqa: E402
from dispatch.tenancy import SYSTEM  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
# Sub-districts (街道) of a generated city: name and (lat, lon) centre, ~3 km apart.
STREETS = [
    ("稠城街道", 29.309, 120.075),
    ("北苑街道", 29.337, 120.060),
    ("稠江街道", 29.290, 120.052),
    ("江东街道", 29.305, 120.108),
    ("后宅街道", 29.352, 120.085),
    ("福田街道", 29.330, 120.100),
    ("城西街道", 29.300, 120.030),
    ("廿三里街道", 29.360, 120.120),
]
# Durations of a check-on visit day: ten visits per caregiver fit in a 9-hour shift.
SERVICES = [
    ("CLEAN", "助洁", 60, "CLEAN", 1, False),
    ("BATH", "助浴", 60, "BATH", 2, False),
    ("WALK", "助行", 45, None, 1, False),
    ("MED", "助医", 60, "MED", 1, False),
    ("CHAT", "助聊", 30, None, 1, False),
    ("NURSE", "护理", 45, "NURSE", 1, False),
    ("VISIT", "探访", 20, None, 1, False),
]


def fresh_database() -> str:
    url = f"sqlite:///{tempfile.mkdtemp(prefix='cd-bench-')}/bench.sqlite3"
    config.use(config.Settings(database_url=url, demo=True))
    db.configure(url)
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.attributes["url"] = url
    cfg.attributes["configure_logging"] = False
    command.upgrade(cfg, "head")
    return url


def seed_generated(session: Any, day: date, n_visits: int, n_caregivers: int, seed: int) -> int:
    rng = random.Random(seed)
    services = {}
    for code, name, minutes, skill, needed, meal in SERVICES:
        st = ServiceType(
            code=code,
            name=name,
            default_duration_min=minutes,
            required_skill=skill,
            caregivers_needed=needed,
            photo_required=False,
            is_meal=meal,
            billing_unit=BillingUnit.hour,
            rate=40,
        )
        session.add(st)
        services[code] = st
    provider = Provider(code="BENCH", name="基准测试服务中心", district="义乌市")
    session.add(provider)
    session.flush()
    for i in range(n_caregivers):
        name, la, lo = STREETS[rng.randrange(len(STREETS))]
        skills = (
            ["CLEAN"] + (["BATH"] if i % 3 == 0 else []) + (["MED", "NURSE"] if i % 4 == 0 else [])
        )
        cg = Caregiver(
            provider_id=provider.id,
            code=f"G{i:03d}",
            name=f"护理员{i}",
            gender=Gender.female if i % 5 else Gender.male,
            home_lat=la + rng.uniform(-0.01, 0.01),
            home_lon=lo + rng.uniform(-0.01, 0.01),
            travel_mode=TravelMode.ebike,
            max_minutes_per_day=540,
            break_minutes=30,
            break_earliest=dtime(11, 30),
            break_latest=dtime(13, 30),
        )
        cg.skills = [CaregiverSkill(skill=s) for s in skills]
        cg.shifts = [Shift(weekday=d, start_time=dtime(8), end_time=dtime(18)) for d in range(7)]
        session.add(cg)
    # Service mix by visit count (a BATH visit needs two caregivers).
    mix = ["VISIT"] * 45 + ["CHAT"] * 15 + ["CLEAN"] * 12 + ["WALK"] * 10 + ["MED"] * 6
    mix += ["NURSE"] * 8 + ["BATH"] * 4
    windows = [
        (dtime(8), dtime(11)),
        (dtime(9), dtime(12)),
        (dtime(13), dtime(16)),
        (dtime(14), dtime(17)),
        (dtime(8), dtime(17)),
    ]
    for i in range(n_visits):
        name, la, lo = STREETS[rng.randrange(len(STREETS))]
        client = Client(
            provider_id=provider.id,
            code=f"K{i:04d}",
            name=f"老人{i}",
            address=f"{name} {i}号",
            street=name,
            lat=la + rng.uniform(-0.012, 0.012),
            lon=lo + rng.uniform(-0.012, 0.012),
        )
        session.add(client)
        session.flush()
        code = rng.choice(mix)
        w0, w1 = rng.choice(windows)
        session.add(
            CarePlan(
                provider_id=provider.id,
                client_id=client.id,
                service_type_id=services[code].id,
                recurrence=Recurrence.weekly,
                days_of_week=list(range(7)),
                start_date=date(2020, 1, 1),
                window_start=w0,
                window_end=w1,
                duration_min=services[code].default_duration_min,
            )
        )
    session.flush()
    return provider.id


def summarise(plan: DayPlan, wall_s: float) -> dict[str, Any]:
    reasons = Counter(u["reason"] for u in plan.unassigned or [])
    return {
        "provider_id": plan.provider_id,
        "status": plan.status.value,
        "wall_s": round(wall_s, 2),
        "visits": plan.kpis["visits_assigned"] + plan.kpis["visits_unassigned"],
        "assigned": plan.kpis["visits_assigned"],
        "unassigned_by_reason": dict(reasons),
        "travel_min": plan.kpis["travel_min"],
        "kpis": {k: v for k, v in plan.kpis.items() if k != "travel_min_by_caregiver"},
        "stats": plan.stats,
    }


def run_demo(args: argparse.Namespace) -> dict[str, Any]:
    from dispatch.demo import seed_demo

    fresh_database()
    day = args.date or datetime.now(TZ).date()
    with db.session_scope() as session:
        seed_demo(session, seed=args.seed, today=day)
    t0 = time.monotonic()
    with db.session_scope() as session:
        plans = demo_day.plan_demo_day(session, day, time_limit_s=args.time_limit)
        wall = time.monotonic() - t0
        out = [summarise(p, wall) for p in plans]
    return {
        "benchmark": "demo day",
        "date": day.isoformat(),
        "time_limit_s": args.time_limit,
        "wall_s_all_providers": round(wall, 2),
        "plans": out,
    }


def run_generated(args: argparse.Namespace) -> dict[str, Any]:
    fresh_database()
    day = args.date or date(2030, 1, 7)
    with db.session_scope() as session:
        pid = seed_generated(session, day, args.visits, args.caregivers, args.seed)
        generate_for_day(session, SYSTEM, pid, day)
    with db.session_scope() as session:
        plan = DayPlan(
            provider_id=pid,
            date=day,
            status=PlanStatus.optimizing,
            time_limit_s=int(args.time_limit),
            options={},
        )
        session.add(plan)
        session.flush()
        t0 = time.monotonic()
        data = P.load_day(session, pid, day)
        load_s = time.monotonic() - t0
        parts: list[dict[str, Any]] = []
        if args.split:
            split = plan_parts.split_by_street(data, args.split, args.time_limit)
            results = []
            for part in split.parts:
                t1 = time.monotonic()
                res = plan_parts.solve_part(
                    session, plan.id, part.visit_ids, part.caregiver_ids, args.time_limit
                )
                parts.append(
                    {
                        "name": part.name,
                        "visits": len(part.visit_ids),
                        "caregivers": len(part.caregiver_ids),
                        "wall_s": round(time.monotonic() - t1, 2),
                    }
                )
                results.append(res)
            plan_parts.store_merged(session, plan.id, results)
        else:
            result = proposals.solve_day(data, plan)
            proposals.store_proposal(session, plan, data.visits, result)
        wall = time.monotonic() - t0
        out = summarise(plan, wall)
    return {
        "benchmark": "generated day",
        "visits_requested": args.visits,
        "caregivers": args.caregivers,
        "time_limit_s": args.time_limit,
        "split_above": args.split,
        "load_s": round(load_s, 2),
        "parts": parts,
        # With one worker per part the day takes as long as its slowest part.
        "parallel_wall_s": max((p["wall_s"] for p in parts), default=None),
        **out,
    }


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("which", choices=["demo", "generated"])
    ap.add_argument("--time-limit", type=float, default=None)
    ap.add_argument("--visits", type=int, default=1000)
    ap.add_argument("--caregivers", type=int, default=100)
    ap.add_argument("--split", type=int, default=0, help="split by street above this many visits")
    ap.add_argument("--seed", type=int, default=None, help="default: the demo's own seed, or 7")
    ap.add_argument("--date", type=date.fromisoformat, default=None)
    args = ap.parse_args()
    if args.seed is None:
        from dispatch.cli import DEFAULT_SEED

        args.seed = DEFAULT_SEED if args.which == "demo" else 7
    if args.which == "demo":
        args.time_limit = args.time_limit or 20
        result = run_demo(args)
        line = "; ".join(
            f"provider {p['provider_id']}: {p['assigned']}/{p['visits']} assigned, "
            f"travel {p['travel_min']} min, unassigned {p['unassigned_by_reason']}"
            for p in result["plans"]
        )
        summary = f"demo day {result['date']} in {result['wall_s_all_providers']} s: {line}"
    else:
        args.time_limit = args.time_limit or 60
        result = run_generated(args)
        summary = (
            f"generated day: {result['assigned']}/{result['visits']} assigned with "
            f"{args.caregivers} caregivers in {result['wall_s']} s"
            + (f" (parallel {result['parallel_wall_s']} s)" if result["parts"] else "")
            + f", travel {result['travel_min']} min, unassigned {result['unassigned_by_reason']}"
        )
    print(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    print(summary)


if __name__ == "__main__":
    main()
