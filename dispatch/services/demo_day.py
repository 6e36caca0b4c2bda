"""The demo day: generate, solve in-process and publish a day for every provider (``make demo``)."""

from __future__ import annotations

import logging
import math
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.models import DayPlan, PlanStatus
from dispatch.services import problem as P
from dispatch.services import proposals
from dispatch.services.plans import publish
from dispatch.services.visit_generation import generate_for_day, provider_ids
from dispatch.tenancy import SYSTEM

log = logging.getLogger(__name__)


def plan_demo_day(session: Session, day: date, time_limit_s: float = 20) -> list[DayPlan]:
    """Generate, solve in-process and publish ``day`` for every provider (``make demo``).

    ``time_limit_s`` is shared among the providers by their number of visits (at least 5 s
    each: below that the first plan of a day with kitchen runs may not be found on a busy box).
    """
    pids = provider_ids(session)
    generate_for_day(session, SYSTEM, None, day)
    session.flush()
    days = [(pid, P.load_day(session, pid, day)) for pid in pids]
    days = [(pid, data) for pid, data in days if data.visits]
    total = sum(len(data.visits) for _, data in days) or 1
    plans = []
    for pid, data in days:
        limit = max(5.0, time_limit_s * len(data.visits) / total)
        latest = session.scalar(
            select(func.max(DayPlan.version)).where(DayPlan.provider_id == pid, DayPlan.date == day)
        )
        plan = DayPlan(
            provider_id=pid,
            date=day,
            version=(latest or 0) + 1,
            status=PlanStatus.optimizing,
            time_limit_s=math.ceil(limit),
            options={},
            progress={"stage": "solving", "percent": 10},
        )
        session.add(plan)
        session.flush()
        result = proposals.solve_day(data, plan, limit)
        proposals.store_proposal(session, plan, data.visits, result)
        publish(session, SYSTEM, plan.id)
        log.info(
            "demo day %s provider %s: %s assigned, %s unassigned",
            day,
            pid,
            plan.kpis["visits_assigned"],
            plan.kpis["visits_unassigned"],
        )
        plans.append(plan)
    return plans
