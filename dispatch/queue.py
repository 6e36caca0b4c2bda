"""Background jobs: an rq queue on REDIS_URL, or the same job functions run in-process.

The contract, for services and jobs alike (nothing else touches rq):

- ``enqueue(session, "dispatch.jobs.<name>", *args)``: run a job after ``session`` commits.
  Services name a job by its dotted path: jobs import services, services never import jobs.
  ``flush_pending`` (called right after the commit by the request boundary or the job runner)
  sends the session's jobs to rq, or runs them in-process when no Redis is set; a rolled-back
  session's jobs are dropped (``discard_pending``).
- ``submit(job, *args, after=[ids])``: enqueue at once, from a running job whose own writes are
  committed (a day's district parts and their merge); rq only.
- ``states(ids)``: what became of jobs (``JobState``: status, progress), ``results(ids)``:
  finished jobs' return values, ``report_progress(...)``: a running job's progress.
- ``mode()``: ``"rq"`` or ``"inline"``; ``has_pending(session)`` and ``reachable()``: the request
  boundary refuses (503) a request whose jobs could not be queued (Reliability).
- ``Worker`` / ``SimpleWorker``: rq's workers (the ``worker`` command; tests and benches run
  jobs with the simple one), stopping within about half a second (``PUBSUB_WAKE_S``).
"""

from __future__ import annotations

import enum
import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import rq
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, get_current_job
from rq.exceptions import NoSuchJobError
from rq.job import Dependency, Job
from rq.registry import StartedJobRegistry
from rq.utils import import_attribute
from sqlalchemy.orm import Session

from dispatch import config

log = logging.getLogger(__name__)
PENDING_KEY = "caredispatch.pending_jobs"
RESULT_TTL_S = int(timedelta(days=1).total_seconds())
FAILURE_TTL_S = int(timedelta(days=7).total_seconds())

JobRef = str | Callable[..., Any]  # a job function, or its dotted name

# rq hears its commands (shutdown, stop a job) on a pub/sub thread that waits up to 60 s for a
# message; redis-py 8 joins that thread with no timeout when the worker stops (rq joins with
# timeout=1, rq/rq#1613), so a stopping worker -- every burst run in the tests -- could sit for
# a minute when the thread was between two waits. Ours wakes every half second (rq 2 woke
# every 0.2 s).
PUBSUB_WAKE_S = 0.5


class _QuickStop:
    """rq's ``subscribe`` with a short pub/sub wait (``PUBSUB_WAKE_S``) instead of 60 s."""

    connection: Redis
    pubsub_channel_name: str

    def subscribe(self) -> None:
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})  # type: ignore[attr-defined]
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=PUBSUB_WAKE_S,
            daemon=True,
            exception_handler=getattr(self, "_pubsub_exception_handler", None),
        )


class Worker(_QuickStop, rq.Worker):
    """The queue's worker (forks a work horse per job)."""


class SimpleWorker(_QuickStop, rq.SimpleWorker):
    """The queue's worker running jobs in its own process (tests, benches)."""


class JobStatus(enum.StrEnum):
    """rq's job statuses, and ``missing``: rq no longer knows the job (expired, or lost)."""

    queued = "queued"
    deferred = "deferred"
    scheduled = "scheduled"
    started = "started"
    finished = "finished"
    failed = "failed"
    stopped = "stopped"
    canceled = "canceled"
    missing = "missing"


ENDED_BADLY = (JobStatus.failed, JobStatus.stopped, JobStatus.canceled)


@dataclass(frozen=True)
class JobState:
    status: JobStatus
    progress: dict[str, Any] | None = None  # what the job last reported (``report_progress``)


@dataclass
class PendingJob:
    func: JobRef
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


def function(job: JobRef) -> Callable[..., Any]:
    """The job function a dotted name names (rq resolves names the same way)."""
    return import_attribute(job) if isinstance(job, str) else job


def enqueue(
    session: Session,
    func: JobRef,
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
                result_ttl=RESULT_TTL_S,
                failure_ttl=FAILURE_TTL_S,
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


def discard_pending(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)


def submit(
    func: JobRef,
    *args: Any,
    timeout_s: int,
    description: str | None = None,
    after: Sequence[str] = (),
) -> str:
    """Enqueue now, from a running job (rq only); ``after``: ids of jobs this one waits for,
    whatever becomes of them. Answers the job id."""
    dependency = Dependency(jobs=list(after), allow_failure=True) if after else None
    job = get_queue().enqueue(
        func,
        *args,
        depends_on=dependency,
        job_timeout=timeout_s,
        result_ttl=RESULT_TTL_S,
        failure_ttl=FAILURE_TTL_S,
        description=description,
    )
    return job.id


def states(job_ids: Iterable[str | None]) -> dict[str, JobState]:
    """What became of these jobs, by id (nothing without Redis: inline jobs have run).

    A worker killed outright stops its job's heartbeat; rq's cleanup of the started registry
    then marks the job failed (about 90 s later), so it is run first: a lost job reads as failed.
    """
    ids = [j for j in dict.fromkeys(job_ids) if j]
    if mode() != "rq":
        return {}
    conn = redis_connection()
    StartedJobRegistry(queue=get_queue(conn)).cleanup()
    out: dict[str, JobState] = {}
    for jid in ids:
        try:
            job = Job.fetch(jid, connection=conn)
        except NoSuchJobError:
            out[jid] = JobState(JobStatus.missing)
            continue
        status = job.get_status(refresh=True)
        progress = job.get_meta(refresh=True).get("progress")
        out[jid] = JobState(JobStatus(status.value) if status else JobStatus.missing, progress)
    return out


def results(job_ids: Sequence[str]) -> list[Any | None]:
    """Each job's return value when it finished, else None (rq only)."""
    conn = redis_connection()
    out = []
    for jid in job_ids:
        job = Job.fetch(jid, connection=conn)
        out.append(job.return_value() if job.is_finished else None)
    return out


def report_progress(stage: str, percent: int, **extra: Any) -> None:
    """Progress of the running rq job (no-op in-process), readable through ``states``."""
    job = get_current_job()
    if job is None:
        return
    job.meta["progress"] = {"stage": stage, "percent": percent, **extra}
    job.save_meta()


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
