"""Background jobs: take ids, reload, call a service, commit; progress goes to rq's job.meta."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from rq import get_current_job
from rq.job import Dependency, Job

from dispatch import audit, queue
from dispatch.db import Session, session_scope
from dispatch.models import Role
from dispatch.tenancy import Actor
from dispatch.validation import engine

log = logging.getLogger(__name__)

# A day's solve is bounded by its own time limit; this is the hard stop for the whole job
# (loading, matrices, solving, writing), after which rq kills it and the plan reads as failed.
JOB_TIMEOUT_S = 900
RESULT_TTL_S = int(timedelta(days=1).total_seconds())
FAILURE_TTL_S = int(timedelta(days=7).total_seconds())


def job_timeout(time_limit_s: float) -> int:
    return int(max(JOB_TIMEOUT_S, 4 * time_limit_s + 120))


def report(stage: str, percent: int, **extra: Any) -> None:
    """Progress of the running rq job, readable by GET /plans/<id> while it runs."""
    job = get_current_job()
    if job is None:
        return
    job.meta["progress"] = {"stage": stage, "percent": percent, **extra}
    job.save_meta()


def _fail(plan_id: int, exc: BaseException) -> None:
    from dispatch.services import planning

    with session_scope() as session:
        planning.mark_failed(session, plan_id, f"{type(exc).__name__}: {exc}")


def plan_day(plan_id: int) -> str:
    """Solve a plan (or split it into district parts); everything is written in one commit."""
    from dispatch.services import planning

    try:
        with session_scope() as session:
            outcome = planning.run_plan(session, plan_id, report)
        if isinstance(outcome, planning.Split):
            return _dispatch_parts(plan_id, outcome)
        return outcome
    except Exception as exc:
        log.exception("plan %s failed", plan_id)
        _fail(plan_id, exc)
        raise


def _dispatch_parts(plan_id: int, split: Any) -> str:
    """Parts go to rq for parallel workers, or run one after another in-process."""
    if queue.mode() != "rq":
        results = [
            solve_part(plan_id, i, p.visit_ids, p.caregiver_ids, p.time_limit_s)
            for i, p in enumerate(split.parts)
        ]
        return _merge(plan_id, results)
    q = queue.get_queue()
    timeout = job_timeout(split.parts[0].time_limit_s if split.parts else 10)
    subs: list[Job] = [
        q.enqueue(
            solve_part,
            plan_id,
            i,
            p.visit_ids,
            p.caregiver_ids,
            p.time_limit_s,
            job_timeout=timeout,
            result_ttl=RESULT_TTL_S,
            failure_ttl=FAILURE_TTL_S,
            description=f"plan {plan_id} part {i} ({p.name})",
        )
        for i, p in enumerate(split.parts)
    ]
    merge = q.enqueue(
        merge_parts,
        plan_id,
        [j.id for j in subs],
        depends_on=Dependency(jobs=subs, allow_failure=True),
        job_timeout=JOB_TIMEOUT_S,
        result_ttl=RESULT_TTL_S,
        failure_ttl=FAILURE_TTL_S,
        description=f"plan {plan_id} merge",
    )
    from dispatch.services import planning

    with session_scope() as session:
        planning.record_parts(session, plan_id, [j.id for j in subs], merge.id, split)
    return f"split into {len(subs)} parts"


def solve_part(
    plan_id: int, index: int, visit_ids: list[int], caregiver_ids: list[int], time_limit_s: float
) -> dict[str, Any]:
    """One district's solve; reads only, answers the part's plan JSON (kept as the job result)."""
    from dispatch.services import planning

    report("solving", 10, part=index)
    session = Session()
    try:
        result = planning.solve_part(session, plan_id, visit_ids, caregiver_ids, time_limit_s)
        session.rollback()
    finally:
        Session.remove()
    report("solved", 100, part=index)
    return result


def merge_parts(plan_id: int, job_ids: list[str]) -> str:
    """Collect the parts' results; any failed part fails the whole plan (nothing half-written)."""
    conn = queue.redis_connection()
    results: list[dict[str, Any] | None] = []
    for jid in job_ids:
        job = Job.fetch(jid, connection=conn)
        results.append(job.return_value() if job.is_finished else None)
    return _merge(plan_id, results)


def _merge(plan_id: int, results: list[dict[str, Any] | None]) -> str:
    from dispatch.services import planning

    missing = [i for i, r in enumerate(results) if r is None]
    if missing:
        with session_scope() as session:
            planning.mark_failed(session, plan_id, f"district part(s) {missing} failed")
        return "failed"
    try:
        with session_scope() as session:
            return planning.store_merged(session, plan_id, results)  # type: ignore[arg-type]
    except Exception as exc:
        log.exception("merging plan %s failed", plan_id)
        _fail(plan_id, exc)
        raise


def revalidate_period(
    start_iso: str,
    end_iso: str,
    provider_id: int | None,
    user_id: int | None = None,
    role: str = "admin",
) -> dict[str, Any]:
    """Re-evaluate every open order of the period; answers (and audits) the counts."""
    actor = Actor(user_id=user_id, role=Role(role))
    start, end = datetime.fromisoformat(start_iso), datetime.fromisoformat(end_iso)
    with session_scope() as session:
        stats = engine.validate_period(session, start, end, provider_id, actor=actor)
        summary = stats.as_dict()
        audit.record(
            session,
            actor,
            "validation.batch_done",
            entity_type="work_orders",
            after={"from": start_iso, "to": end_iso, "provider_id": provider_id, **summary},
        )
    log.info("batch validation %s..%s provider=%s: %s", start_iso, end_iso, provider_id, summary)
    return summary
