"""The lost-job sweep: a plan whose job is gone turns failed with a code whether or not anyone
opens it; one whose job is on its way, or running, is left alone."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from dispatch import jobs, periodic, queue
from dispatch.models import DayPlan, PlanStatus, Visit, VisitStatus
from tests.dispatch.conftest import DAY, run_jobs
from tests.dispatch.test_plans import generate, get_plan, plan_day


def age(db: Any, plan_id: int, by: timedelta) -> None:
    row = db.get(DayPlan, plan_id)
    row.created_at = row.created_at - by
    db.commit()


def status_of(db: Any, plan_id: int) -> tuple[PlanStatus, str | None]:
    db.expire_all()
    row = db.get(DayPlan, plan_id)
    return row.status, row.error_code


def test_the_sweep_is_a_registered_periodic_task(app):
    names = {t.name for t in periodic.load_tasks()}
    assert "dispatch.jobs.sweep_lost_jobs" in names


def test_a_plan_whose_job_vanished_turns_failed_without_anyone_opening_it(
    client, world, district, db
):
    h = world.headers(world.p1.dispatcher)
    generate(client, h)
    plan_id = plan_day(client, h)["id"]
    queue.get_queue().empty()  # Redis lost the job (flushed, restarted without its data)
    jobs.sweep_lost_jobs()
    # Just queued: the job may still be on its way to Redis; the plan is left alone.
    assert status_of(db, plan_id) == (PlanStatus.optimizing, None)
    age(db, plan_id, timedelta(minutes=2))
    jobs.sweep_lost_jobs()
    assert status_of(db, plan_id) == (PlanStatus.failed, "PLAN_JOB_LOST")
    # Lists say so too (they never refresh a plan themselves), and nothing was half-written.
    listed = client.get("/api/v1/plans", headers=h).json
    assert [p["status"] for p in listed if p["id"] == plan_id] == ["failed"]
    assert [p["error_code"] for p in listed if p["id"] == plan_id] == ["PLAN_JOB_LOST"]
    plan = get_plan(client, h, plan_id)
    assert plan["routes"] is None and plan["kpis"] is None
    visits = db.scalars(select(Visit).where(Visit.date == DAY)).all()
    assert {v.status for v in visits} == {VisitStatus.planned}


def test_a_plan_whose_job_is_waiting_or_done_is_left_to_it(client, world, district, db):
    h = world.headers(world.p1.dispatcher)
    generate(client, h)
    plan_id = plan_day(client, h)["id"]
    age(db, plan_id, timedelta(minutes=5))  # queued a while: no worker free yet
    jobs.sweep_lost_jobs()
    assert status_of(db, plan_id) == (PlanStatus.optimizing, None)
    run_jobs()
    jobs.sweep_lost_jobs()
    assert status_of(db, plan_id) == (PlanStatus.proposed, None)


def test_a_plan_past_its_hard_stop_turns_failed(client, world, district, db):
    h = world.headers(world.p1.dispatcher)
    generate(client, h)
    plan_id = plan_day(client, h)["id"]
    age(db, plan_id, timedelta(hours=2))  # still queued, but far past any job's time limit
    jobs.sweep_lost_jobs()
    assert status_of(db, plan_id) == (PlanStatus.failed, "PLAN_JOB_LOST")
    assert "did not finish in time" in db.get(DayPlan, plan_id).error
    queue.get_queue().empty()
