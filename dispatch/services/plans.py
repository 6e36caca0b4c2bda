"""Day plans: a version is created and solved in a job, read while it runs, published, re-planned.

The lifecycle: ``create_plan`` stores an ``optimizing`` version and enqueues the job
``dispatch.jobs.plan_day`` (by name: services never import jobs), which calls ``run_plan``: the
day is solved in one go (``proposals``) or split into district parts (``plan_parts``).
``get_plan`` refreshes an optimizing plan from its jobs' states (``queue.states``): a job that
died reads as failed. ``publish`` writes the routes onto the visits; ``replan`` starts a new
version from the current state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch import audit, config, error_codes, queue
from dispatch.db import utcnow
from dispatch.models import Caregiver, DayPlan, PlanStatus, Role, Visit, VisitStatus
from dispatch.queue import JobStatus
from dispatch.services import day_lock, plan_parts, proposals
from dispatch.services import problem as P
from dispatch.services.pages import page_of
from dispatch.tenancy import Actor, get_scoped, resolve_provider, scoped

PLAN_READ = (Role.dispatcher, Role.provider_admin, Role.admin, Role.finance)
PLAN_WRITE = (Role.dispatcher, Role.provider_admin, Role.admin)
DEFAULT_TIME_LIMIT_S = 30
# The job that solves a plan (``dispatch.jobs.plan_day``), enqueued by name.
PLAN_JOB = "dispatch.jobs.plan_day"
# A day's solve is bounded by its own time limit; this is the hard stop for the whole job
# (loading, matrices, solving, writing), after which rq kills it and the plan reads as failed.
JOB_TIMEOUT_S = 900
Progress = Callable[..., None]


def job_timeout(time_limit_s: float) -> int:
    """The plan job's hard stop for a solve of ``time_limit_s``."""
    return int(max(JOB_TIMEOUT_S, 4 * time_limit_s + 120))


def create_plan(
    session: Session,
    actor: Actor,
    day: date,
    provider_id: int | None = None,
    time_limit_s: int | None = None,
    *,
    options: dict[str, Any] | None = None,
    parent: DayPlan | None = None,
) -> DayPlan:
    """A new plan version, ``optimizing``; the solve runs in a job after the commit."""
    pid = resolve_provider(actor, provider_id)
    latest = session.scalar(
        select(func.max(DayPlan.version)).where(DayPlan.provider_id == pid, DayPlan.date == day)
    )
    limit = time_limit_s or DEFAULT_TIME_LIMIT_S
    plan = DayPlan(
        provider_id=pid,
        date=day,
        version=(latest or 0) + 1,
        status=PlanStatus.optimizing,
        parent_id=parent.id if parent else None,
        time_limit_s=limit,
        options=options or {},
        progress={"stage": "queued", "percent": 0},
        created_by=actor.user_id,
    )
    session.add(plan)
    session.flush()
    plan.job_id = queue.enqueue(
        session,
        PLAN_JOB,
        plan.id,
        timeout_s=job_timeout(limit),
        description=f"plan {pid} {day} v{plan.version}",
    )
    session.flush()
    audit.record(session, actor, "optimize", plan, after={"version": plan.version, "date": day})
    return plan


def run_plan(session: Session, plan_id: int, progress: Progress) -> str | plan_parts.Split:
    """Solve a plan in one go, or answer how to split it; writes only at the end."""
    plan = session.get(DayPlan, plan_id)
    if plan is None or plan.status != PlanStatus.optimizing:
        return "nothing to do"
    progress("loading", 5)
    data = P.load_day(session, plan.provider_id, plan.date)
    options = plan.options or {}
    limit = int(options.get("max_visits_per_solve") or plan_parts.SPLIT_ABOVE)
    if len(data.visits) > limit:
        split = plan_parts.split_by_street(data, limit, plan.time_limit_s)
        if len(split.parts) > 1:
            return split
    progress("solving", 10, visits=len(data.visits), since=utcnow().isoformat())
    result = proposals.solve_day(data, plan)
    progress("storing", 95)
    return proposals.store_proposal(session, plan, data.visits, result)


# ---------------------------------------------------------------- reading plans


# A plan's first job may not be in Redis yet for a moment after the commit (it is queued right
# after it): only after this long does a job rq does not know count as lost.
MISSING_GRACE_S = 60


def refresh_status(session: Session, plan: DayPlan) -> DayPlan:
    """An optimizing plan's progress from its jobs; one whose job died (worker killed, Redis
    flushed, a part failed) or that is past its hard stop turns failed with ``PLAN_JOB_LOST``."""
    if plan.status != PlanStatus.optimizing:
        return plan
    progress = plan.progress or {}
    part_ids = [p["job_id"] for p in progress.get("parts", [])]
    ids = [plan.job_id, *part_ids]
    if progress.get("merge_job_id"):
        ids.append(progress["merge_job_id"])
    states = queue.states(ids)
    problem = lost_because(plan, states)
    if problem is not None:
        proposals.mark_failed(session, plan.id, problem)
    elif part_ids:
        done = sum(1 for j in part_ids if j in states and states[j].status == JobStatus.finished)
        share = done / len(part_ids)
        plan.progress = {**progress, "parts_done": done, "percent": 10 + int(85 * share)}
    elif plan.job_id and plan.job_id in states and states[plan.job_id].progress:
        plan.progress = _estimate(states[plan.job_id].progress or {}, plan.time_limit_s)
    return plan


def lost_because(
    plan: DayPlan, states: Mapping[str, queue.JobState], now: datetime | None = None
) -> proposals.PlanFailure | None:
    """Why an optimizing plan's jobs can no longer finish it, or None while they still may."""
    now = now or utcnow()
    age_s = (now - plan.created_at).total_seconds()
    for jid, state in states.items():
        if state.status in queue.ENDED_BADLY:
            return error_codes.PLAN_JOB_LOST(job=jid, status=state.status.value)
        if state.status == JobStatus.missing and (jid != plan.job_id or age_s > MISSING_GRACE_S):
            return error_codes.PLAN_JOB_LOST("gone", job=jid)
    if age_s > 2 * job_timeout(plan.time_limit_s):
        return error_codes.PLAN_JOB_LOST("timeout")
    return None


def sweep_optimizing(session: Session) -> int:
    """Settle every optimizing plan from its jobs (``refresh_status``) whether or not anyone
    looks at it: the periodic lost-job sweep. Answers how many plans it turned failed."""
    failed = 0
    for plan in session.scalars(select(DayPlan).where(DayPlan.status == PlanStatus.optimizing)):
        failed += refresh_status(session, plan).status == PlanStatus.failed
    return failed


def _estimate(live: dict[str, Any], time_limit_s: int) -> dict[str, Any]:
    """While the solver runs, its time limit is the best clock there is: 10 % .. 95 %."""
    if live.get("stage") != "solving" or not live.get("since"):
        return live
    elapsed = (utcnow() - datetime.fromisoformat(live["since"])).total_seconds()
    share = min(1.0, max(0.0, elapsed / max(1, time_limit_s)))
    return {**live, "percent": 10 + int(85 * share), "elapsed_s": round(elapsed, 1)}


def get_plan(session: Session, actor: Actor, plan_id: int) -> DayPlan:
    actor.require(*PLAN_READ)
    plan = get_scoped(session, DayPlan, plan_id, actor)
    return refresh_status(session, plan)


def list_plans(
    session: Session, actor: Actor, filters: Mapping[str, Any], page: int, page_size: int
) -> tuple[list[DayPlan], int]:
    actor.require(*PLAN_READ)
    stmt = scoped(select(DayPlan), DayPlan, actor)
    if filters.get("date"):
        stmt = stmt.where(DayPlan.date == filters["date"])
    if filters.get("status"):
        stmt = stmt.where(DayPlan.status == filters["status"])
    if filters.get("provider_id"):
        stmt = stmt.where(DayPlan.provider_id == filters["provider_id"])
    stmt = stmt.order_by(DayPlan.date.desc(), DayPlan.provider_id, DayPlan.version.desc())
    return page_of(session, stmt, page, page_size)


# ---------------------------------------------------------------- publishing and re-planning


def publish(session: Session, actor: Actor, plan_id: int) -> DayPlan:
    """Visits become ``published`` with their assignments; older published versions step down."""
    actor.require(*PLAN_WRITE)
    plan = get_scoped(session, DayPlan, plan_id, actor)
    day_plans = day_lock.lock(session, plan.provider_id, plan.date)
    if plan.status == PlanStatus.published:
        return plan
    if plan.status != PlanStatus.proposed:
        raise error_codes.PLAN_NOT_PROPOSED(status=plan.status.value)
    ids = [s["visit_id"] for r in plan.routes or [] for s in r["stops"] if s.get("visit_id")]
    ids += [u["visit_id"] for u in plan.unassigned or []]
    visits = day_lock.visits(session, ids)
    for other in day_plans:
        if other.status in proposals.ACTIVE and other.id != plan.id:
            other.status = PlanStatus.superseded
    proposals.apply_routes(session, plan, visits, VisitStatus.published)
    plan.status = PlanStatus.published
    plan.published_at = utcnow()
    session.flush()
    audit.record(
        session,
        actor,
        "publish",
        plan,
        before={"status": PlanStatus.proposed.value},
        after={
            "status": PlanStatus.published.value,
            "visits": sum(1 for v in visits if v.status == VisitStatus.published),
        },
    )
    return plan


def replan(
    session: Session,
    actor: Actor,
    plan_id: int,
    unavailable: list[int],
    urgent: list[int],
    time_limit_s: int | None = None,
    now: datetime | None = None,
) -> DayPlan:
    """A new version from the current state: started visits stay, dropped-out caregivers leave."""
    actor.require(*PLAN_WRITE)
    base = get_scoped(session, DayPlan, plan_id, actor)
    problems: dict[str, list[str]] = {}
    for cid in unavailable:
        cg = session.get(Caregiver, cid)
        if cg is None or cg.provider_id != base.provider_id:
            problems.setdefault("unavailable_caregivers", []).append(f"No caregiver with id {cid}.")
    for vid in urgent:
        v = session.get(Visit, vid)
        if v is None or v.provider_id != base.provider_id or v.date != base.date:
            problems.setdefault("urgent_visits", []).append(
                f"No visit with id {vid} on {base.date.isoformat()}."
            )
        else:
            v.urgent = True
    if problems:
        raise error_codes.REFERENCE_NOT_FOUND("day_ids", errors=problems)
    today = datetime.now(config.zone()).date()
    if now is None and base.date == today:
        now = utcnow()
    options = {
        "replan_of": base.id,
        "unavailable_caregivers": sorted(set(unavailable)),
        "urgent_visits": sorted(set(urgent)),
        "now": now.isoformat() if now else None,
    }
    return create_plan(
        session,
        actor,
        base.date,
        base.provider_id if actor.platform_level else None,
        time_limit_s or base.time_limit_s,
        options=options,
        parent=base,
    )
