"""Planning through HTTP with Redis and an rq SimpleWorker: 202, job, proposed, pin, publish."""

from __future__ import annotations

import uuid
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from dispatch.models import DayPlan, PlanStatus, Visit, VisitAssignment, VisitStatus
from dispatch.services import plan_parts, proposals
from tests.dispatch.conftest import DAY, off_on, run_jobs

TZ = ZoneInfo("Asia/Shanghai")


def generate(client: Any, headers: dict[str, str]) -> dict[str, Any]:
    r = client.post(f"/api/v1/days/{DAY.isoformat()}/visits:generate", json={}, headers=headers)
    assert r.status_code == 200, r.json
    return r.json


def plan_day(client: Any, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    r = client.post(
        "/api/v1/plans", json={"date": DAY.isoformat(), "time_limit_s": 2, **body}, headers=headers
    )
    assert r.status_code == 202, r.json
    assert r.json["status"] == "optimizing" and r.json["job_id"]
    return r.json


def get_plan(client: Any, headers: dict[str, str], plan_id: int) -> dict[str, Any]:
    r = client.get(f"/api/v1/plans/{plan_id}", headers=headers)
    assert r.status_code == 200, r.json
    return r.json


def stops_of(plan: dict[str, Any]) -> dict[int, tuple[int, dict[str, Any]]]:
    return {
        s["visit_id"]: (r["caregiver_id"], s)
        for r in plan["routes"]
        for s in r["stops"]
        if s["kind"] == "visit" and not s["second_caregiver"]
    }


def test_plan_is_optimised_in_a_job_and_proposed_with_routes(client, world, district, db):
    h = world.headers(world.p1.dispatcher)
    assert generate(client, h)["created"] == 6
    queued = plan_day(client, h)
    # Nothing is solved before a worker runs the job.
    assert get_plan(client, h, queued["id"])["status"] == "optimizing"
    assert run_jobs() == 1
    plan = get_plan(client, h, queued["id"])
    assert plan["status"] == "proposed", plan
    assert plan["version"] == 1 and plan["date"] == DAY.isoformat()
    assert plan["kpis"]["visits_assigned"] == 6 and plan["unassigned"] == []
    stops = stops_of(plan)
    assert len(stops) == 6
    for _cg, s in stops.values():
        arrival, start, end = (datetime.fromisoformat(s[k]) for k in ("arrival", "start", "end"))
        assert arrival <= start < end
        # Care plan window 09:00-12:00 local: the visit is over by the end of it.
        assert start.astimezone(TZ).hour >= 9 and end.astimezone(TZ) <= start.replace(
            hour=12, minute=0
        ).astimezone(TZ)
        assert s["travel_min"] is not None
    # The proposal is mirrored on the visits (assigned, not yet visible to caregivers).
    visits = db.scalars(select(Visit).where(Visit.date == DAY)).all()
    assert {v.status for v in visits} == {VisitStatus.assigned}
    assert all(v.assignments[0].caregiver_id == stops[v.id][0] for v in visits)


def test_unqualified_visit_is_unassigned_with_an_actionable_reason(client, world, district, db):
    from tests.dispatch.conftest import care_plan

    # NURSE needs the NURSE skill; only the world's caregiver has it, and she is off that day.
    off_on(world.p1.caregiver, DAY)
    care_plan(world, district.clients[0], "NURSE")
    db.commit()
    h = world.headers(world.p1.dispatcher)
    generate(client, h)
    plan_id = plan_day(client, h)["id"]
    run_jobs()
    plan = get_plan(client, h, plan_id)
    assert plan["kpis"]["visits_assigned"] == 6
    [u] = plan["unassigned"]
    assert u["reason"] == "NO_QUALIFIED_CAREGIVER"
    assert "certificate" in u["action"] and u["action_zh"]
    visit = db.get(Visit, u["visit_id"])
    assert visit.status == VisitStatus.planned and visit.unassigned_reason == u["reason"]


def test_pin_then_reoptimise_keeps_the_pin_and_publish_shows_the_route(client, world, district, db):
    h = world.headers(world.p1.dispatcher)
    generate(client, h)
    first = plan_day(client, h)["id"]
    run_jobs()
    plan = get_plan(client, h, first)
    stops = stops_of(plan)
    vid = next(iter(stops))
    current_cg = stops[vid][0]
    other = next(c.id for c in district.caregivers if c.id != current_cg)
    start = datetime(DAY.year, DAY.month, DAY.day, 10, 30, tzinfo=TZ)
    r = client.patch(
        f"/api/v1/visits/{vid}",
        json={"caregiver_id": other, "planned_start": start.isoformat()},
        headers=h,
    )
    assert r.status_code == 200, r.json
    assert r.json["pinned"] is True
    # The move shows in the plan under review at once.
    moved = stops_of(get_plan(client, h, first))
    assert moved[vid][0] == other and moved[vid][1]["edited"] is True

    second = plan_day(client, h)["id"]
    run_jobs()
    plan2 = get_plan(client, h, second)
    assert plan2["version"] == 2 and plan2["status"] == "proposed"
    cg, stop = stops_of(plan2)[vid]
    assert cg == other
    assert datetime.fromisoformat(stop["start"]) == start
    assert get_plan(client, h, first)["status"] == "superseded"

    r = client.post(f"/api/v1/plans/{second}/publish", headers=h)
    assert r.status_code == 200 and r.json["status"] == "published"
    db.expire_all()
    visits = db.scalars(select(Visit).where(Visit.date == DAY)).all()
    assert {v.status for v in visits} == {VisitStatus.published}
    # What the caregiver app reads: published visits with her assignments, in sequence.
    mine = db.scalars(
        select(VisitAssignment)
        .join(Visit)
        .where(
            VisitAssignment.caregiver_id == other,
            Visit.status == VisitStatus.published,
            Visit.date == DAY,
        )
        .order_by(VisitAssignment.sequence)
    ).all()
    assert vid in [a.visit_id for a in mine]
    assert [a.sequence for a in mine] == list(range(1, len(mine) + 1))
    # Publishing twice is harmless; a superseded plan cannot be published.
    assert client.post(f"/api/v1/plans/{second}/publish", headers=h).status_code == 200
    r = client.post(f"/api/v1/plans/{first}/publish", headers=h)
    assert r.status_code == 409 and r.json["code"] == "PLAN_NOT_PROPOSED"


def test_a_job_that_raises_leaves_the_plan_failed_and_nothing_written(
    client, world, district, db, monkeypatch
):
    h = world.headers(world.p1.dispatcher)
    generate(client, h)
    plan_id = plan_day(client, h)["id"]

    def boom(*_a: Any, **_k: Any) -> None:
        raise RuntimeError("solver exploded: INSERT INTO visit_assignments (visit_id) VALUES (1)")

    # Break the very last step, the write, so that everything before it has run.
    monkeypatch.setattr(proposals, "apply_routes", boom)
    run_jobs()
    plan = get_plan(client, h, plan_id)
    assert plan["status"] == "failed" and plan["error_code"] == "PLAN_FAILED"
    # The exception's text (here SQL, as a database error carries) stays in the worker's log.
    assert "RuntimeError" in plan["error"] and "INSERT" not in plan["error"]
    assert plan["routes"] is None and plan["kpis"] is None
    db.expire_all()
    visits = db.scalars(select(Visit).where(Visit.date == DAY)).all()
    assert {v.status for v in visits} == {VisitStatus.planned}
    assert all(not v.assignments and v.plan_id is None for v in visits)


def test_a_lost_job_reads_as_failed(client, world, district, db):
    h = world.headers(world.p1.dispatcher)
    generate(client, h)
    plan_id = plan_day(client, h)["id"]
    from dispatch import queue

    # The worker died with the job: rq no longer knows it and its time is up.
    queue.get_queue().empty()
    row = db.get(DayPlan, plan_id)
    row.created_at = row.created_at.replace(year=2020)
    db.commit()
    plan = get_plan(client, h, plan_id)
    assert plan["status"] == "failed" and plan["error_code"] == "PLAN_JOB_LOST"
    assert "gone from the queue" in plan["error"]
    # The catalogue's Chinese wording too, for the console in Chinese.
    assert "已不在队列中" in plan["error_zh"]
    assert plan["routes"] is None


def test_split_by_street_solved_by_two_workers_and_merged(client, world, district, db):
    from rq.job import Job

    from dispatch import queue

    h = world.headers(world.p1.dispatcher)
    generate(client, h)
    plan_id = plan_day(client, h, max_visits_per_solve=3)["id"]
    conn = queue.redis_connection()
    q = queue.get_queue(conn)

    # Worker names are global in Redis: another suite on the same Redis may have the same ids.
    run = uuid.uuid4().hex[:8]

    def worker(name: str) -> None:
        queue.SimpleWorker([q], connection=conn, name=f"{name}-{plan_id}-{run}").work(
            burst=True, max_jobs=1
        )

    # The day job splits: 3 clients on 稠城街道 and 3 on 北苑街道, at most 3 visits a part.
    worker("splitter")
    plan = get_plan(client, h, plan_id)
    assert plan["status"] == "optimizing" and plan["routes"] is None
    parts = plan["progress"]["parts"]
    assert sorted(p["visits"] for p in parts) == [3, 3]
    assert sum(p["caregivers"] for p in parts) == len(district.caregivers)
    # Two workers take one district each; the merge waits for both (rq depends_on).
    worker("a")
    assert get_plan(client, h, plan_id)["status"] == "optimizing"
    worker("b")
    run_jobs()  # the merge
    ran_by = {Job.fetch(p["job_id"], connection=conn).worker_name for p in parts}
    assert ran_by == {f"a-{plan_id}-{run}", f"b-{plan_id}-{run}"}
    plan = get_plan(client, h, plan_id)
    assert plan["status"] == "proposed", plan
    assert plan["stats"]["parts"] == 2
    assert plan["kpis"]["visits_assigned"] == 6 and plan["unassigned"] == []
    assert db.get(DayPlan, plan_id).progress["stage"] == "done"


def test_a_failed_district_part_fails_the_whole_plan(client, world, district, db, monkeypatch):
    h = world.headers(world.p1.dispatcher)
    generate(client, h)
    plan_id = plan_day(client, h, max_visits_per_solve=3)["id"]
    calls = []

    def flaky(*args: Any, **kw: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("worker lost its database")
        return real(*args, **kw)

    real = plan_parts.solve_part
    monkeypatch.setattr(plan_parts, "solve_part", flaky)
    run_jobs()
    plan = get_plan(client, h, plan_id)
    assert plan["status"] == "failed" and "part" in plan["error"]
    assert plan["routes"] is None
    db.expire_all()
    assert all(v.plan_id is None for v in db.scalars(select(Visit).where(Visit.date == DAY)))


def test_plan_input_errors_are_4xx(client, world, district):
    h = world.headers(world.p1.dispatcher)
    r = client.post("/api/v1/plans", json={"date": "2030-02-30"}, headers=h)
    assert r.status_code == 422
    r = client.post("/api/v1/plans", json={"date": DAY.isoformat(), "time_limit_s": 0}, headers=h)
    assert r.status_code == 422
    other = world.headers(world.p2.dispatcher)
    generate(client, h)
    plan_id = plan_day(client, h)["id"]
    assert client.get(f"/api/v1/plans/{plan_id}", headers=other).status_code == 404
    r = client.post(f"/api/v1/plans/{plan_id}/publish", headers=h)
    assert r.status_code == 409
    r = client.post("/api/v1/days/2030-13-01/visits:generate", json={}, headers=h)
    assert r.status_code == 422 and r.json["code"] == "INVALID_DATE"
    caregiver = world.headers(world.p1.caregiver_user)
    assert (
        client.post("/api/v1/plans", json={"date": DAY.isoformat()}, headers=caregiver).status_code
        == 403
    )
    run_jobs()
    assert db_status(plan_id) == PlanStatus.proposed


def db_status(plan_id: int) -> PlanStatus:
    from dispatch.db import Session

    return Session().get(DayPlan, plan_id).status


def test_split_gives_the_only_nurse_to_the_district_that_needs_her(client, world, district, db):
    from tests.dispatch.conftest import care_plan

    # Only the world's caregiver has NURSE; the NURSE visit is on 北苑街道 (clients 3..5),
    # the part with 4 visits; 稠城街道 has 3. Parts hold at most 4 visits.
    care_plan(world, district.clients[4], "NURSE", window_start=time(13), window_end=time(16))
    db.commit()
    h = world.headers(world.p1.dispatcher)
    generate(client, h)
    plan_id = plan_day(client, h, max_visits_per_solve=4)["id"]
    run_jobs()
    plan = get_plan(client, h, plan_id)
    assert plan["status"] == "proposed" and plan["stats"]["parts"] == 2
    assert plan["unassigned"] == [] and plan["kpis"]["visits_assigned"] == 7


def test_the_caregiver_sees_her_published_route_in_the_app(client, world, district, db):
    h = world.headers(world.p1.dispatcher)
    generate(client, h)
    her = world.p1.caregiver
    vid = db.scalars(select(Visit.id).where(Visit.date == DAY).order_by(Visit.id)).first()
    # Pinned to her before the first plan: the optimiser must keep it.
    r = client.patch(f"/api/v1/visits/{vid}", json={"caregiver_id": her.id}, headers=h)
    assert r.status_code == 200 and r.json["pinned"] is True
    plan_id = plan_day(client, h)["id"]
    run_jobs()
    plan = get_plan(client, h, plan_id)
    assert stops_of(plan)[vid][0] == her.id
    app = world.headers(world.p1.caregiver_user)
    r = client.get("/api/v1/me/visits", query_string={"date": DAY.isoformat()}, headers=app)
    assert r.status_code == 200 and r.json == []  # proposed is not published
    assert client.post(f"/api/v1/plans/{plan_id}/publish", headers=h).status_code == 200
    r = client.get("/api/v1/me/visits", query_string={"date": DAY.isoformat()}, headers=app)
    assert r.status_code == 200, r.json
    route = [v["id"] for v in r.json]
    mine = [
        vid
        for r_ in plan["routes"]
        if r_["caregiver_id"] == her.id
        for vid in [s["visit_id"] for s in r_["stops"] if s["kind"] == "visit"]
    ]
    assert route == mine and vid in route


def test_moving_to_a_caregiver_without_a_time_pins_only_the_caregiver(client, world, district):
    h = world.headers(world.p1.dispatcher)
    generate(client, h)
    first = plan_day(client, h)["id"]
    run_jobs()
    stops = stops_of(get_plan(client, h, first))
    vid, (cg, _) = next(iter(stops.items()))
    other = next(c.id for c in district.caregivers if c.id != cg)
    r = client.patch(f"/api/v1/visits/{vid}", json={"caregiver_id": other}, headers=h)
    assert r.status_code == 200 and r.json["pinned"] is True
    assert r.json["planned_start_at"] is None  # her route will decide the time
    # The plan under review still shows the visit, now on her route.
    assert stops_of(get_plan(client, h, first))[vid][0] == other
    second = plan_day(client, h)["id"]
    run_jobs()
    plan = get_plan(client, h, second)
    assert stops_of(plan)[vid][0] == other and plan["unassigned"] == []
