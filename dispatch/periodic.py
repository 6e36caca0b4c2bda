"""Periodic tasks: registered once, run every N seconds by whichever process gets there first.

The contract:

- **Register once**, at import of the module that defines the task::

      from dispatch import periodic

      @periodic.task(every_s=60)
      def escalate_overdue_calls() -> None:
          with session_scope() as session:
              ...

  and list that module in ``TASK_MODULES`` below (explicit, like the API's resource list), so
  that every runner imports it. The task's name is ``module.function``; ``every_s`` is the
  period, ``lease_s`` (default: the period, at least 60 s) the longest one run may hold it.
- **Run whether or not anyone is looking**: a ``Runner`` thread calls ``run_due()`` every few
  seconds. ``python -m dispatch.cli worker`` starts one beside each rq worker; with no Redis
  (the embedded mode of ``make demo``) each API process starts one (``wsgi.py``). Nothing
  else is needed: no cron, no separate scheduler process.
- **Safe with several runners**: a run is claimed by one conditional UPDATE of the task's row
  in ``periodic_runs`` (due, and not leased by another runner), committed before the task
  starts; so one period runs the task once across every worker, API process and machine, on
  PostgreSQL and on SQLite alike. A runner that dies mid-task holds it until its lease ends.
- **Tasks** take no arguments, open their own unit of work (``session_scope()``), are
  idempotent and much shorter than their period. One that raises is logged, its error kept on
  the row (``last_error``), and it runs again next period; the others are not disturbed.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import import_module
from typing import TypeVar

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from dispatch import config, db
from dispatch.models import PeriodicRun

log = logging.getLogger(__name__)

# Modules that register tasks; each runner imports them all (add yours here, one line).
TASK_MODULES: list[str] = [
    "dispatch.throttle",
    "dispatch.jobs",
    "dispatch.call_clock",
    "dispatch.notify_sender",
    "dispatch.visit_clock",
]

TICK_S = 5.0
F = TypeVar("F", bound=Callable[[], object])


@dataclass(frozen=True)
class Task:
    name: str
    func: Callable[[], object]
    every_s: float
    lease_s: float


_registry: dict[str, Task] = {}


def register(
    func: Callable[[], object], every_s: float, *, name: str | None = None, lease_s: float = 0
) -> Task:
    """Register ``func`` to run every ``every_s`` seconds; registering a name again replaces it."""
    if every_s <= 0:
        raise ValueError("every_s must be positive")
    name = name or f"{func.__module__}.{func.__qualname__}"
    entry = Task(name, func, float(every_s), float(lease_s or max(every_s, 60.0)))
    _registry[name] = entry
    return entry


def task(every_s: float, *, name: str | None = None, lease_s: float = 0) -> Callable[[F], F]:
    """Decorator form of ``register``."""

    def decorator(func: F) -> F:
        register(func, every_s, name=name, lease_s=lease_s)
        return func

    return decorator


def unregister(name: str) -> None:
    _registry.pop(name, None)


def tasks() -> list[Task]:
    return list(_registry.values())


def load_tasks() -> list[Task]:
    """Import every module in ``TASK_MODULES`` so that its tasks are registered."""
    for module in TASK_MODULES:
        import_module(module)
    return tasks()


def sessions() -> sessionmaker[Session]:
    # Own short sessions on the configured engine: claims commit at once, whatever the caller's
    # unit of work is doing.
    return sessionmaker(db.make_engine(config.current().database_url), expire_on_commit=False)


def _ensure_row(session: Session, name: str) -> None:
    if session.get(PeriodicRun, name) is not None:
        return
    try:
        with session.begin_nested():
            session.add(PeriodicRun(name=name, runs=0))
    except IntegrityError:
        pass  # another runner made it first
    session.commit()


def claim(session: Session, entry: Task, now: datetime, owner: str) -> bool:
    """Take this period's run of ``entry``; True for exactly one caller per period."""
    _ensure_row(session, entry.name)
    result = session.execute(
        update(PeriodicRun)
        .where(
            PeriodicRun.name == entry.name,
            or_(
                PeriodicRun.last_started_at.is_(None),
                PeriodicRun.last_started_at <= now - timedelta(seconds=entry.every_s),
            ),
            or_(PeriodicRun.lease_until.is_(None), PeriodicRun.lease_until <= now),
        )
        .values(
            last_started_at=now,
            lease_until=now + timedelta(seconds=entry.lease_s),
            owner=owner,
            runs=PeriodicRun.runs + 1,
        )
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return result.rowcount == 1  # type: ignore[attr-defined]


def _finish(session: Session, name: str, error: str | None) -> None:
    session.execute(
        update(PeriodicRun)
        .where(PeriodicRun.name == name)
        .values(last_finished_at=db.utcnow(), lease_until=None, last_error=error)
        .execution_options(synchronize_session=False)
    )
    session.commit()


def run_due(now: datetime | None = None, owner: str | None = None) -> list[str]:
    """Run every registered task that is due and not held by another runner; answers their names."""
    now = now or db.utcnow()
    owner = owner or default_owner()
    ran: list[str] = []
    make_session = sessions()
    for entry in tasks():
        try:
            with make_session() as session:
                if not claim(session, entry, now, owner):
                    continue
        except SQLAlchemyError:
            # No connection now (a busy or restarting database): another runner, or the next
            # tick, takes this period; the other tasks still get their chance.
            log.exception("periodic task %s: could not claim this period", entry.name)
            continue
        error: str | None = None
        try:
            entry.func()
        except Exception as exc:
            log.exception("periodic task %s failed", entry.name)
            error = f"{type(exc).__name__}: {exc}"[:2000]
        ran.append(entry.name)
        try:
            with make_session() as session:
                _finish(session, entry.name, error)
        except SQLAlchemyError:
            # The run happened; its lease ends by itself (``lease_s``).
            log.exception("periodic task %s: could not record the end of its run", entry.name)
    return ran


def last_runs() -> dict[str, PeriodicRun]:
    """Each task's row (when it last ran, its last error), for the CLI and the tests."""
    with sessions()() as session:
        return {row.name: row for row in session.scalars(select(PeriodicRun))}


def default_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Runner:
    """A daemon thread that calls ``run_due()`` every ``tick_s`` seconds until ``stop()``."""

    def __init__(self, tick_s: float = TICK_S) -> None:
        self.tick_s = tick_s
        self.owner = f"{default_owner()}:{uuid.uuid4().hex[:6]}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="periodic", daemon=True)

    def start(self) -> Runner:
        load_tasks()
        self._thread.start()
        log.info("periodic runner %s started: %s", self.owner, [t.name for t in tasks()])
        return self

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout_s)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                run_due(owner=self.owner)
            except Exception:
                # The database may be down for a while; the next tick tries again.
                log.exception("periodic runner %s: a tick failed", self.owner)
            self._stop.wait(self.tick_s)
