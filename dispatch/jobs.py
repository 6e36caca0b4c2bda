"""Background jobs: take ids, reload, call a service, commit; progress goes to the queue.

Every job is a function here, enqueued by its dotted name (``"dispatch.jobs.plan_day"``) through
``dispatch.queue``: jobs import services, services never import jobs. To add one: a function
that takes plain ids, opens ``session_scope()`` (commit at its end) and calls one service; the
service enqueues it with ``queue.enqueue(session, "dispatch.jobs.<name>", ...)``.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select

from dispatch import audit, error_codes, periodic, queue
from dispatch.db import Session, session_scope
from dispatch.errors import DomainError
from dispatch.models import Role, WorkOrder
from dispatch.services import call_dispatch, plan_parts, plans, proposals, timesheets
from dispatch.tenancy import Actor
from dispatch.validation import engine

log = logging.getLogger(__name__)


# ---------------------------------------------------------------- day plans


def plan_day(plan_id: int) -> str:
    """Solve a plan (or split it into district parts); everything is written in one commit."""
    try:
        with session_scope() as session:
            outcome = plans.run_plan(session, plan_id, queue.report_progress)
        if isinstance(outcome, plan_parts.Split):
            return _dispatch_parts(plan_id, outcome)
        return outcome
    except Exception as exc:
        log.exception("plan %s failed", plan_id)
        _fail(plan_id, exc)
        raise


def _fail(plan_id: int, exc: BaseException) -> None:
    """Record a job's failure on its plan: a domain error's code and message; anything else a
    generic ``PLAN_FAILED`` (the exception, SQL and all, stays in the log)."""
    failure = exc if isinstance(exc, DomainError) else proposals.internal_failure(exc)
    with session_scope() as session:
        proposals.mark_failed(session, plan_id, failure)


def _dispatch_parts(plan_id: int, split: plan_parts.Split) -> str:
    """Parts go to rq for parallel workers, or run one after another in-process."""
    if queue.mode() != "rq":
        results = [
            solve_part(plan_id, i, p.visit_ids, p.caregiver_ids, p.time_limit_s)
            for i, p in enumerate(split.parts)
        ]
        return _merge(plan_id, results)
    timeout = plans.job_timeout(split.parts[0].time_limit_s if split.parts else 10)
    part_ids = [
        queue.submit(
            solve_part,
            plan_id,
            i,
            p.visit_ids,
            p.caregiver_ids,
            p.time_limit_s,
            timeout_s=timeout,
            description=f"plan {plan_id} part {i} ({p.name})",
        )
        for i, p in enumerate(split.parts)
    ]
    merge_id = queue.submit(
        merge_parts,
        plan_id,
        part_ids,
        timeout_s=plans.JOB_TIMEOUT_S,
        description=f"plan {plan_id} merge",
        after=part_ids,
    )
    with session_scope() as session:
        plan_parts.record_parts(session, plan_id, part_ids, merge_id, split)
    return f"split into {len(part_ids)} parts"


def solve_part(
    plan_id: int, index: int, visit_ids: list[int], caregiver_ids: list[int], time_limit_s: float
) -> dict[str, Any]:
    """One district's solve; reads only, answers the part's plan JSON (kept as the job result)."""
    queue.report_progress("solving", 10, part=index)
    session = Session()
    try:
        result = plan_parts.solve_part(session, plan_id, visit_ids, caregiver_ids, time_limit_s)
        session.rollback()
    finally:
        Session.remove()
    queue.report_progress("solved", 100, part=index)
    return result


def merge_parts(plan_id: int, job_ids: list[str]) -> str:
    """Collect the parts' results; any failed part fails the whole plan (nothing half-written)."""
    return _merge(plan_id, queue.results(job_ids))


def _merge(plan_id: int, results: list[dict[str, Any] | None]) -> str:
    missing = [i for i, r in enumerate(results) if r is None]
    if missing:
        with session_scope() as session:
            failure = error_codes.PLAN_PART_FAILED(parts=", ".join(map(str, missing)))
            proposals.mark_failed(session, plan_id, failure)
        return "failed"
    try:
        with session_scope() as session:
            return plan_parts.store_merged(session, plan_id, results)  # type: ignore[arg-type]
    except Exception as exc:
        log.exception("merging plan %s failed", plan_id)
        _fail(plan_id, exc)
        raise


@periodic.task(every_s=30)
def sweep_lost_jobs() -> None:
    """The lost-job sweep: every optimizing plan is settled from its jobs' states whether or
    not anyone opens it. A job whose worker was killed is marked failed by rq's registry
    cleanup once its heartbeat lapses (90 s); the plan then turns failed (``PLAN_JOB_LOST``)
    at this task's next run: within about two minutes of the worker's death."""
    with session_scope() as session:
        failed = plans.sweep_optimizing(session)
    if failed:
        log.warning("lost-job sweep: %s optimizing plan(s) turned failed", failed)
    # The same for big timesheet uploads: a lost validation job is queued once more.
    with session_scope() as session:
        uploads = timesheets.sweep_validation(session)
    queue.flush_pending(session)  # the re-queued jobs go to rq once their ids are committed
    if uploads:
        log.warning("lost-job sweep: %s upload validation(s) re-queued or given up", uploads)


# ---------------------------------------------------------------- validation


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


def validate_upload(upload_id: int) -> None:
    """Run the rules on every order of one timesheet upload (big uploads only)."""
    with session_scope() as session:
        ids = list(session.scalars(select(WorkOrder.id).where(WorkOrder.upload_id == upload_id)))
        engine.validate_orders(session, ids)
        timesheets.validated(session, upload_id)
        log.info("validated %s orders of upload %s", len(ids), upload_id)


# ---------------------------------------------------------------- calls


def propose_call(call_id: int) -> dict[str, Any] | None:
    """Urgent insertion's proposal for a new call (caregiver and arrival), stored on the call."""
    with session_scope() as session:
        return call_dispatch.propose(session, call_id)
