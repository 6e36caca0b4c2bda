"""Urgent insertion: the best caregiver and arrival time for one visit in a day's routes."""

from __future__ import annotations

import time as timer
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

import routing
from dispatch import config, error_codes
from dispatch.db import utcnow
from dispatch.models import DayPlan, Visit
from dispatch.services import problem as P
from dispatch.services.plans import PLAN_WRITE
from dispatch.services.proposals import ACTIVE, travel_model
from dispatch.tenancy import Actor, get_scoped


def urgent_insertion(
    session: Session,
    actor: Actor,
    plan_id: int,
    visit_id: int,
    now: datetime | None = None,
    *,
    caregiver_id: int | None = None,
) -> dict[str, Any]:
    """Best caregiver and arrival for one visit in this plan's routes; changes nothing.

    ``caregiver_id``: only that caregiver is tried (a dispatcher picked someone else).
    """
    actor.require(*PLAN_WRITE)
    t0 = timer.monotonic()
    plan = get_scoped(session, DayPlan, plan_id, actor)
    if plan.status not in ACTIVE:
        raise error_codes.PLAN_NOT_ACTIVE(status=plan.status.value)
    visit = session.get(Visit, visit_id)
    if visit is None or visit.provider_id != plan.provider_id or visit.date != plan.date:
        raise error_codes.REFERENCE_NOT_FOUND(
            "visit_on_day", id=visit_id, day=plan.date.isoformat(), field="visit_id"
        )
    if visit.caregivers_needed > 1:
        raise error_codes.URGENT_DOUBLE_STAFFED()
    data = P.load_day(session, plan.provider_id, plan.date)
    today = datetime.now(config.zone()).date()
    if now is None and plan.date == today:
        now = utcnow()
    built = P.build_problem(data)
    solution = P.solution_from_json(data, (plan.routes and {"routes": plan.routes}) or {})
    target = next(v for v in built.problem.visits if v.id == visit.id)
    target = routing.Visit(**{**target.__dict__, "priority": P.URGENT_PRIORITY})
    if caregiver_id is not None:
        allowed = frozenset({caregiver_id}) & (target.allowed_caregivers or {caregiver_id})
        target = routing.Visit(**{**target.__dict__, "allowed_caregivers": allowed})
    # The visit may already sit in the routes (a re-check): take it out first.
    routes = tuple(
        routing.Route(
            **{**r.__dict__, "stops": tuple(s for s in r.stops if s.visit_id != visit.id)}
        )
        for r in solution.routes
    )
    solution = routing.Solution(routes, (), solution.kpis, {})
    now_s = P.seconds(data.origin, now) if now else None
    ins = routing.insert_urgent(built.problem, solution, target, travel_model(), now_s=now_s)
    if ins.possible and now_s is not None:
        ins = _leaving_now(built.problem, routes, ins, target, now_s)
    answer: dict[str, Any] = {
        "visit_id": visit.id,
        "possible": ins.possible,
        "caregiver_id": ins.caregiver_id,
        "position": ins.position,
        "arrival": P.iso(data.origin, ins.arrival_s),
        "start": P.iso(data.origin, ins.start_s),
        "added_travel_min": None if ins.added_travel_s is None else round(ins.added_travel_s / 60),
        "reason": ins.reason.value if ins.reason else None,
        "detail": ins.detail,
        "took_ms": round((timer.monotonic() - t0) * 1000),
    }
    if ins.reason:
        answer.update(
            {
                k: v
                for k, v in P.unassigned_entry(visit.id, ins.reason.value).items()
                if k.startswith("action")
            }
        )
    return answer


def _leaving_now(
    problem: routing.Problem,
    routes: tuple[routing.Route, ...],
    ins: routing.Insertion,
    target: routing.Visit,
    now_s: int,
) -> routing.Insertion:
    """Arrival counted from now: the router has the caregiver leave the previous stop as soon
    as it ends, which for a stop that ended an hour ago is an arrival in the past."""
    cg = next(c for c in problem.caregivers if c.id == ins.caregiver_id)
    route = next((r for r in routes if r.caregiver_id == ins.caregiver_id), None)
    stops = route.stops if route is not None else ()
    prev = stops[ins.position - 1] if ins.position and ins.position <= len(stops) else None
    if prev is None:
        origin, free_s = cg.start, cg.shift_start_s
    else:
        free_s = prev.end_s
        if prev.kind == "visit":
            origin = next((v.location for v in problem.visits if v.id == prev.visit_id), None)
        else:  # a kitchen pickup (or a stop this model does not place): where it happened
            origin = next((k.location for k in problem.kitchens if k.id == prev.kitchen_id), None)
    leg_s = 0  # nowhere to measure from: at least not before now
    if origin is not None:
        leg = travel_model().matrix([origin], [target.location], cg.travel_mode)
        leg_s = int(leg.seconds[0][0])
    arrival_s = max(ins.arrival_s or 0, max(now_s, free_s) + leg_s)
    return replace(ins, arrival_s=arrival_s, start_s=max(ins.start_s or 0, arrival_s))
