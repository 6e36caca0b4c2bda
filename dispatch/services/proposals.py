"""A day's proposal: solve a day's problem, store the proposal on the plan and its visits.

The core the plan lifecycle (``plans``), the split into district parts (``plan_parts``) and the
demo day (``demo_day``) share: ``solve_day`` runs the router on a loaded day (with one longer
retry when the search was cut short), ``store_proposal`` writes a solved plan at once (plan
JSON, and the assignments of visits not yet published), ``mark_failed`` records a failure
without writing anything else.
"""

from __future__ import annotations

import logging
import time as timer
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

import routing
from dispatch import audit, error_codes
from dispatch.db import utcnow
from dispatch.errors import DomainError
from dispatch.models import DayPlan, PlanStatus, Visit, VisitAssignment, VisitStatus
from dispatch.services import day_lock
from dispatch.services import problem as P
from dispatch.tenancy import SYSTEM

log = logging.getLogger(__name__)

MAX_RETRY_S = 90
# Plans a day's routes come from; a visit in one of these is edited together with the plan.
ACTIVE = (PlanStatus.proposed, PlanStatus.published)
# Visits whose routes no plan changes any more.
FINAL = (VisitStatus.in_progress, VisitStatus.completed, VisitStatus.missed, VisitStatus.cancelled)


# Why a plan failed: a catalogued error (``dispatch.error_codes``, "why a plan failed"), kept
# as ``DayPlan.error_code`` and ``error``; never an exception's own text (SQL, paths): that goes
# to the log.
PlanFailure = DomainError


def internal_failure(exc: BaseException) -> PlanFailure:
    """A job raised something unexpected: its type only; the details are in the worker's log."""
    return error_codes.PLAN_FAILED(error=type(exc).__name__)


def travel_model() -> routing.TravelModel:
    return routing.GeodesicTravel()


def solve_day(data: P.DayData, plan: DayPlan, time_limit_s: float | None = None) -> dict[str, Any]:
    """The plan's day solved: the plan JSON (routes, unassigned with reasons, KPIs, stats)."""
    options = plan.options or {}
    now = None
    if options.get("now"):
        now = datetime.fromisoformat(options["now"])
    built = P.build_problem(
        data,
        time_limit_s=time_limit_s or plan.time_limit_s,
        unavailable=options.get("unavailable_caregivers") or (),
        urgent=options.get("urgent_visits") or (),
        now=now,
    )
    t0 = timer.monotonic()
    solution = routing.solve(built.problem, travel_model())
    if cut_short(solution):
        # On a busy machine the first plan can take longer than the limit; one longer try
        # beats proposing a day with many visits left out only for lack of search time.
        retry = min(MAX_RETRY_S, 3 * built.problem.settings.time_limit_s)
        log.warning(
            "search cut short at %s s; retrying with %s s",
            built.problem.settings.time_limit_s,
            retry,
        )
        settings = replace(built.problem.settings, time_limit_s=retry)
        solution = routing.solve(replace(built.problem, settings=settings), travel_model())
    result = P.solution_json(data, solution, built.problem)
    result["stats"]["plan_s"] = round(timer.monotonic() - t0, 3)
    result["stats"]["caregivers_off"] = len(built.caregivers_off)
    return result


def cut_short(solution: routing.Solution) -> bool:
    """The search ended before it placed visits that fit (more than a tenth of the day)."""
    short = sum(1 for u in solution.unassigned if u.reason == routing.UnassignedReason.NOT_PLACED)
    total = solution.kpis.visits_assigned + len(solution.unassigned)
    return short > 0 and short * 10 > total


def store_proposal(
    session: Session,
    plan: DayPlan,
    visits: list[Visit],
    result: dict[str, Any],
    *,
    seen: Mapping[int, Sequence[Any]] | None = None,
) -> str:
    """The proposal, all at once, under the day's lock: plan JSON, and assignments of visits not
    yet published. ``seen``: each visit's ``signature`` as the solve read it (default: taken
    from ``visits``, the rows the solve loaded). Answers ``"proposed"``, or why nothing was
    stored: a stale version is refused (failed with ``PLAN_STALE``), a plan no longer optimizing
    is left alone."""
    if seen is None:
        seen = {v.id: signature(v) for v in visits}  # before the lock re-reads them
    day_plans = day_lock.lock(session, plan.provider_id, plan.date)
    if plan.status != PlanStatus.optimizing:
        return "nothing to do"  # another writer settled it (failed, lost) while it was solved
    published = next((p for p in day_plans if p.status == PlanStatus.published), None)
    # Once a day is published the caregivers' routes change only when a plan is published.
    fresh = day_lock.visits(session, [v.id for v in visits]) if published is None else []
    stale = stale_because(plan, day_plans, seen, fresh)
    if stale is not None:
        mark_failed(session, plan.id, stale)
        return "stale"
    plan.routes = result["routes"]
    plan.unassigned = result["unassigned"]
    plan.kpis = result["kpis"]
    plan.stats = result["stats"]
    plan.status = PlanStatus.proposed
    plan.finished_at = utcnow()
    plan.error = plan.error_zh = plan.error_code = None
    plan.progress = {"stage": "done", "percent": 100}
    for older in day_plans:
        if older.status == PlanStatus.proposed and older.id != plan.id:
            older.status = PlanStatus.superseded
    apply_routes(session, plan, fresh, VisitStatus.assigned)
    session.flush()
    audit.record(
        session,
        SYSTEM,
        "propose",
        plan,
        after={"assigned": plan.kpis["visits_assigned"], "unassigned": len(plan.unassigned)},
    )
    return "proposed"


def signature(v: Visit) -> list[Any]:
    """What a hand edit changes on a visit (status, pin, start, caregivers), as plain JSON."""
    start = v.planned_start_at.isoformat() if v.planned_start_at else None
    return [v.status.value, bool(v.pinned), start, sorted(a.caregiver_id for a in v.assignments)]


def stale_because(
    plan: DayPlan,
    day_plans: list[DayPlan],
    seen: Mapping[int, Sequence[Any]],
    fresh: list[Visit],
) -> PlanFailure | None:
    """Why ``plan`` may no longer be stored (call under the day's lock, with ``fresh`` the
    visits it would write as stored now), or None.

    Stale: a newer version of the day was requested (and is being solved, proposed or
    published), or a visit it would write was changed (moved, pinned, cancelled by hand) since
    its solve read the day: storing it would undo that edit. Visits that started or ended since
    are not written at all, so they do not count."""
    newer = [
        p.version
        for p in day_plans
        if p.version > plan.version
        and p.status in (PlanStatus.optimizing, PlanStatus.proposed, PlanStatus.published)
    ]
    if newer:
        return error_codes.PLAN_STALE(newer=max(newer), version=plan.version)
    for v in fresh:
        if v.status not in FINAL and v.id in seen and list(seen[v.id]) != signature(v):
            return error_codes.PLAN_STALE("edited", visit=v.id)
    return None


def apply_routes(session: Session, plan: DayPlan, visits: list[Visit], status: VisitStatus) -> None:
    """Write a plan's routes onto its visits: assignments, start, sequence, status."""
    legs: dict[int, list[tuple[int, int, dict[str, Any]]]] = {}
    for r in plan.routes or []:
        seq = 0
        for s in r["stops"]:
            if s.get("kind", "visit") != "visit" or s.get("visit_id") is None:
                continue
            seq += 1
            legs.setdefault(s["visit_id"], []).append((r["caregiver_id"], seq, s))
    reasons = {u["visit_id"]: u["reason"] for u in plan.unassigned or []}
    for v in visits:
        if v.status in FINAL:
            continue
        v.plan_id = plan.id
        mine = sorted(legs.get(v.id, []), key=lambda x: bool(x[2].get("second_caregiver")))
        if not mine:
            v.assignments.clear()
            v.planned_start_at = None
            v.sequence = None
            v.status = VisitStatus.planned
            v.unassigned_reason = reasons.get(v.id)
            continue
        want = {cg: (seq, s) for cg, seq, s in mine}
        for a in list(v.assignments):
            if a.caregiver_id not in want:
                v.assignments.remove(a)
        have = {a.caregiver_id: a for a in v.assignments}
        for cg, (seq, s) in want.items():
            a = have.get(cg)
            if a is None:
                a = VisitAssignment(caregiver_id=cg)
                v.assignments.append(a)
            a.sequence = seq
            a.planned_arrival_at = _instant(s.get("arrival"))
            a.planned_start_at = _instant(s.get("start"))
            a.travel_min = s.get("travel_min")
        first = mine[0]
        v.planned_start_at = _instant(first[2].get("start"))
        v.sequence = first[1]
        v.unassigned_reason = None
        v.status = status


def _instant(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value).astimezone(UTC) if value else None


def mark_failed(session: Session, plan_id: int, failure: PlanFailure) -> None:
    """The plan failed: status, code and message only; routes stay empty (nothing half-written).
    A plan no longer optimizing (stored, or failed already) is left as it is: the status is
    read again under the day's lock, so a failure never overwrites a result stored meanwhile."""
    plan = session.get(DayPlan, plan_id)
    if plan is None:
        return
    day_lock.lock(session, plan.provider_id, plan.date)
    if plan.status != PlanStatus.optimizing:
        return
    plan.status = PlanStatus.failed
    plan.error_code = failure.code
    plan.error = failure.message[:2000]
    plan.error_zh = failure.message_zh[:2000]
    plan.finished_at = utcnow()
    plan.progress = {"stage": "failed", "percent": 100}
    session.flush()
    audit.record(
        session, SYSTEM, "plan_failed", plan, after={"code": failure.code, "error": plan.error}
    )
