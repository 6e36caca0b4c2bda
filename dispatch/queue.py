"""Background jobs: an rq queue on REDIS_URL, or the same job functions run in-process.

Jobs are enqueued only after the commit that created what they read: ``enqueue`` puts the
job on the session's pending list and ``flush_pending`` (called right after the commit by the
request boundary or the job runner) sends it to rq, or runs it in-process when no Redis is set.
Services name a job by its dotted path (``"dispatch.jobs.plan_day"``): jobs import services,
services never import jobs.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from rq.utils import import_attribute
from sqlalchemy.orm import Session

from dispatch import config

log = logging.getLogger(__name__)
PENDING_KEY = "caredispatch.pending_jobs"


Job = str | Callable[..., Any]  # a job function, or its dotted name


@dataclass
class PendingJob:
    func: Job
    args: tuple[Any, ...]
    job_id: str
    timeout_s: int = 600
    description: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


def redis_connection() -> Redis | None:
    url = config.current().redis_url
    return Redis.from_url(url) if url else None


def get_queue(connection: Redis | None = None) -> Queue:
    conn = connection or redis_connection()
    if conn is None:
        raise RuntimeError("no REDIS_URL configured")
    return Queue(config.current().queue_name, connection=conn)


def mode() -> str:
    """``"rq"`` when jobs go to Redis, ``"inline"`` when they run in this process."""
    return "rq" if config.current().redis_url else "inline"


def enqueue(
    session: Session,
    func: Job,
    *args: Any,
    timeout_s: int = 600,
    description: str | None = None,
) -> str:
    """Schedule ``func(*args)`` to run after ``session`` commits; returns the job id. ``func``
    is the job's dotted name (from a service) or the function itself (from a job)."""
    job = PendingJob(func, args, uuid.uuid4().hex, timeout_s, description)
    session.info.setdefault(PENDING_KEY, []).append(job)
    return job.job_id


def flush_pending(session: Session) -> None:
    """Send (or run) the jobs scheduled on ``session``; call right after its commit."""
    pending: list[PendingJob] = session.info.pop(PENDING_KEY, [])
    if not pending:
        return
    if mode() == "rq":
        queue = get_queue()
        for job in pending:
            queue.enqueue(
                job.func,
                *job.args,
                job_id=job.job_id,
                job_timeout=job.timeout_s,
                result_ttl=int(timedelta(days=1).total_seconds()),
                failure_ttl=int(timedelta(days=7).total_seconds()),
                description=job.description,
            )
        return
    for job in pending:
        log.info("running job %s inline: %s", job.job_id, job.description or job.func)
        try:
            function(job.func)(*job.args)
        except Exception:
            # Same contract as a failed rq job: the job itself records the failure.
            log.exception("inline job %s failed", job.job_id)


def function(job: Job) -> Callable[..., Any]:
    """The job function a dotted name names (rq resolves names the same way)."""
    return import_attribute(job) if isinstance(job, str) else job


def discard_pending(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)


# --- Reliability (#14): refuse a request whose jobs could not be queued -----------------------


def has_pending(session: Session) -> bool:
    """Whether ``session`` holds jobs to queue when it commits."""
    return bool(session.info.get(PENDING_KEY))


def reachable(timeout_s: float = 2.0) -> bool:
    """Whether a job can be queued now: always in-process; a Redis that answers PING in time."""
    url = config.current().redis_url
    if not url:
        return True
    try:
        conn = Redis.from_url(url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s)
        try:
            return bool(conn.ping())
        finally:
            conn.close()
    except RedisError as exc:
        log.warning("the job queue is unreachable: %s", exc)
        return False
