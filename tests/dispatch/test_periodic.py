"""Periodic tasks: one run per period across runners, errors kept, a runner thread that ticks."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from dispatch import periodic
from dispatch.db import utcnow


@pytest.fixture
def counted(app: Any) -> Iterator[tuple[periodic.Task, list[int]]]:
    """A registered task that counts its runs (a fresh name per test: rows outlive tests)."""
    calls: list[int] = []
    entry = periodic.register(
        lambda: calls.append(1), every_s=60, name=f"test.count.{uuid.uuid4().hex[:8]}"
    )
    yield entry, calls
    periodic.unregister(entry.name)


def test_a_task_runs_once_per_period(counted):
    entry, calls = counted
    now = utcnow()
    assert entry.name in periodic.run_due(now)
    assert entry.name not in periodic.run_due(now + timedelta(seconds=30))  # same period
    assert entry.name in periodic.run_due(now + timedelta(seconds=61))  # next period
    assert len(calls) == 2
    row = periodic.last_runs()[entry.name]
    assert row.runs == 2 and row.lease_until is None and row.last_error is None


def test_concurrent_runners_run_a_period_once(counted):
    # Eight runners (threads, each with its own connections) reach the same period at once.
    entry, calls = counted
    now = utcnow()
    barrier = threading.Barrier(8)
    ran: list[list[str]] = []
    errors: list[BaseException] = []

    def runner(i: int) -> None:
        try:
            barrier.wait(timeout=60)
            ran.append(periodic.run_due(now, owner=f"runner-{i}"))
        except BaseException as exc:  # reported below, not lost on a thread's stderr
            errors.append(exc)

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(calls) == 1
    assert sum(entry.name in names for names in ran) == 1


def test_a_leased_task_is_not_run_again_until_its_lease_ends(app):
    calls: list[int] = []
    entry = periodic.register(
        lambda: calls.append(1), every_s=60, lease_s=300, name=f"test.lease.{uuid.uuid4().hex[:8]}"
    )
    now = utcnow()
    try:
        # A runner claims the period and dies before finishing: the lease holds the task.
        with periodic.sessions()() as session:
            assert periodic.claim(session, entry, now, "dead-runner")
        assert entry.name not in periodic.run_due(now + timedelta(seconds=61))
        assert entry.name not in periodic.run_due(now + timedelta(seconds=299))
        assert entry.name in periodic.run_due(now + timedelta(seconds=301))
        assert len(calls) == 1
    finally:
        periodic.unregister(entry.name)


def test_a_failing_task_is_recorded_and_does_not_stop_the_others(app):
    ok: list[int] = []

    def broken() -> None:
        raise RuntimeError("kaputt")

    bad = periodic.register(broken, every_s=60, name=f"test.broken.{uuid.uuid4().hex[:8]}")
    good = periodic.register(
        lambda: ok.append(1), every_s=60, name=f"test.good.{uuid.uuid4().hex[:8]}"
    )
    try:
        ran = periodic.run_due(utcnow())
        assert bad.name in ran and good.name in ran and ok == [1]
        rows = periodic.last_runs()
        assert rows[bad.name].last_error == "RuntimeError: kaputt"
        assert rows[bad.name].lease_until is None
        assert rows[good.name].last_error is None
    finally:
        periodic.unregister(bad.name)
        periodic.unregister(good.name)


def test_the_runner_thread_runs_tasks_without_anyone_asking(app):
    done = threading.Event()
    entry = periodic.register(done.set, every_s=3600, name=f"test.tick.{uuid.uuid4().hex[:8]}")
    runner = periodic.Runner(tick_s=0.05).start()
    try:
        assert done.wait(10)
    finally:
        runner.stop()
        periodic.unregister(entry.name)
    assert not runner.alive


def test_registration_refuses_a_period_of_zero():
    with pytest.raises(ValueError):
        periodic.register(lambda: None, every_s=0, name="test.zero")


def test_every_listed_task_module_imports_and_registers_sane_periods():
    for entry in periodic.load_tasks():
        assert entry.every_s > 0 and entry.lease_s >= entry.every_s


def test_a_task_that_cannot_be_claimed_does_not_stop_the_others(counted, monkeypatch):
    # One claim meets a database that cannot answer (too many clients, a restart): that task
    # waits for another runner or the next tick; the other tasks of the tick still run.
    entry, calls = counted
    blocked = periodic.register(
        lambda: None, every_s=60, name=f"test.blocked.{uuid.uuid4().hex[:8]}"
    )
    claim = periodic.claim

    def flaky(session: Any, task: periodic.Task, *args: Any) -> bool:
        if task.name == blocked.name:
            raise OperationalError("SELECT 1", {}, Exception("too many clients already"))
        return claim(session, task, *args)

    monkeypatch.setattr(periodic, "claim", flaky)
    try:
        ran = periodic.run_due(utcnow())
    finally:
        periodic.unregister(blocked.name)
    assert entry.name in ran and blocked.name not in ran
    assert len(calls) == 1
