"""Writers of one day meet under its lock, on a real, committed PostgreSQL database: two versions
stored at once leave one and refuse the other with a coded conflict; a hand edit made while a
version was solved is kept, and that version refused."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, time
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dispatch import config, jobs
from dispatch import db as dbmod
from dispatch.config import Settings
from dispatch.models import AuditEntry, DayPlan, PlanStatus, Visit
from dispatch.services import moves, plans, proposals
from dispatch.services.visit_generation import generate_for_day
from dispatch.tenancy import Actor
from tests.conftest import alembic_config, build_world, create_database, drop_database
from tests.dispatch.conftest import DAY, care_plan

ZONE = config.zone()


@dataclass
class Live:
    url: str
    make: sessionmaker[Session]
    dispatcher: Actor
    provider_id: int


@pytest.fixture
def live(
    app: Flask, pg_admin_url: str, settings: Settings, password_hash: str, tmp_path: Path
) -> Iterator[Live]:
    """A database of its own with a committed day of visits; the process's session registry
    and settings point at it for the test (jobs open their own sessions, one per thread)."""
    url = create_database(pg_admin_url, prefix="cdday")
    try:
        command.upgrade(alembic_config(url), "head")
        make = sessionmaker(bind=dbmod.make_engine(url), expire_on_commit=False)
        with make() as s:
            world = build_world(app, s, password_hash)
            p = world.p1.provider
            for i in range(3):
                world.caregiver_at(
                    p, f"CGD{i}", skills=("CLEAN",), home_lat=29.30 + 0.01 * i, home_lon=120.07
                )
            for i, service in enumerate(["CLEAN", "CHAT", "WALK", "CLEAN", "VISIT", "CHAT"]):
                client = world.client_at(p, f"CD{i}", lat=29.30 + 0.004 * i, lon=120.07 + 0.003 * i)
                care_plan(world, client, service)
            dispatcher = Actor(world.p1.dispatcher.id, world.p1.dispatcher.role, p.id)
            generate_for_day(s, dispatcher, p.id, DAY)
            s.commit()
            live = Live(url, make, dispatcher, p.id)
        config.use(replace(settings, database_url=url, redis_url=None))
        dbmod.configure(url)
        yield live
    finally:
        dbmod.Session.remove()
        config.use(settings)
        dbmod.configure(settings.database_url)
        drop_database(pg_admin_url, url)


def request_plans(live: Live, n: int) -> list[int]:
    """``n`` versions of the day requested one after another (their jobs are run by the test)."""
    ids = []
    with live.make() as s:
        for _ in range(n):
            ids.append(plans.create_plan(s, live.dispatcher, DAY, time_limit_s=1).id)
        s.info.clear()  # the jobs: run below, by hand
        s.commit()
    return ids


def assignments(s: Session) -> dict[int, set[int]]:
    return {
        v.id: {a.caregiver_id for a in v.assignments}
        for v in s.scalars(select(Visit).where(Visit.date == DAY))
    }


def routed(plan: DayPlan) -> dict[int, set[int]]:
    out: dict[int, set[int]] = {}
    for r in plan.routes or []:
        for stop in r["stops"]:
            if stop.get("kind", "visit") == "visit" and stop.get("visit_id"):
                out.setdefault(stop["visit_id"], set()).add(r["caregiver_id"])
    return out


def test_two_versions_stored_at_once_leave_one_and_refuse_the_other(live, monkeypatch):
    older, newer = request_plans(live, 2)
    # Both solves end, then both stores start at the same moment on two connections.
    barrier = threading.Barrier(2)
    store = proposals.store_proposal

    def at_once(*args: Any, **kwargs: Any) -> str:
        barrier.wait(timeout=120)
        return store(*args, **kwargs)

    monkeypatch.setattr(proposals, "store_proposal", at_once)
    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(jobs.plan_day, [older, newer]))
    assert outcomes == ["stale", "proposed"]
    with live.make() as s:
        old, new = s.get(DayPlan, older), s.get(DayPlan, newer)
        assert new.status == PlanStatus.proposed and new.error_code is None
        assert old.status == PlanStatus.failed and old.error_code == "PLAN_STALE"
        assert f"Version {new.version}" in old.error and "INSERT" not in old.error
        assert old.routes is None and old.kpis is None
        # The visits carry the stored version's routes, and only they.
        held = assignments(s)
        assert {vid: cgs for vid, cgs in held.items() if cgs} == routed(new)
        assert {v.plan_id for v in s.scalars(select(Visit).where(Visit.date == DAY))} == {newer}
        proposed = s.scalars(select(AuditEntry.entity_id).where(AuditEntry.action == "propose"))
        assert list(proposed) == [newer]


def test_a_visit_moved_while_its_day_is_solved_stays_moved_and_the_version_is_refused(
    live, monkeypatch
):
    (plan_id,) = request_plans(live, 1)
    solve = proposals.solve_day
    moved: dict[str, int] = {}

    def solve_then_a_dispatcher_moves_a_visit(*args: Any, **kwargs: Any) -> dict[str, Any]:
        result = solve(*args, **kwargs)
        # Meanwhile, in the console: a visit dragged to another caregiver (its own request).
        stop = next(s for r in result["routes"] for s in r["stops"] if s.get("visit_id"))
        other = next(r["caregiver_id"] for r in result["routes"] if stop not in r["stops"])
        with live.make() as s:
            start = datetime.fromisoformat(stop["start"]).astimezone(ZONE)
            at = datetime.combine(DAY, time(start.hour, start.minute), tzinfo=ZONE)
            answer = moves.move_visit(s, live.dispatcher, stop["visit_id"], other, at)
            assert answer["allowed"], answer
            s.commit()
        moved.update(visit_id=stop["visit_id"], caregiver_id=other)
        return result

    monkeypatch.setattr(proposals, "solve_day", solve_then_a_dispatcher_moves_a_visit)
    assert jobs.plan_day(plan_id) == "stale"
    with live.make() as s:
        plan = s.get(DayPlan, plan_id)
        assert plan.status == PlanStatus.failed and plan.error_code == "PLAN_STALE"
        assert f"Visit {moved['visit_id']}" in plan.error
        visit = s.get(Visit, moved["visit_id"])
        assert [a.caregiver_id for a in visit.assignments] == [moved["caregiver_id"]]
        assert visit.pinned
        # Only the dispatcher's edit reached the visits; the refused version wrote none.
        assert sum(1 for cgs in assignments(s).values() if cgs) == 1


def test_a_version_requested_after_an_edit_is_stored(live):
    (first,) = request_plans(live, 1)
    assert jobs.plan_day(first) == "proposed"
    with live.make() as s:
        plan = s.get(DayPlan, first)
        visit_id, caregiver_id = next((vid, cg) for vid, cgs in routed(plan).items() for cg in cgs)
        others = [r["caregiver_id"] for r in plan.routes if r["caregiver_id"] != caregiver_id]
        moves.move_visit(s, live.dispatcher, visit_id, others[0], None)
        s.commit()
    (second,) = request_plans(live, 1)
    assert jobs.plan_day(second) == "proposed"
    with live.make() as s:
        assert s.get(DayPlan, first).status == PlanStatus.superseded
        assert s.get(DayPlan, second).status == PlanStatus.proposed
        # The pinned visit stays where the dispatcher put it.
        assert [a.caregiver_id for a in s.get(Visit, visit_id).assignments] == [others[0]]
