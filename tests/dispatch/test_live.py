"""During the day: the live board, urgent insertion, re-planning around a dropped-out caregiver."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from dispatch.models import Crs, EventKind, Visit, VisitEvent, VisitStatus
from tests.dispatch.conftest import DAY, off_on, run_jobs
from tests.dispatch.test_plans import generate, get_plan, plan_day, stops_of

TZ = ZoneInfo("Asia/Shanghai")


def local(hour: int, minute: int = 0) -> datetime:
    return datetime(DAY.year, DAY.month, DAY.day, hour, minute, tzinfo=TZ)


def published_day(client: Any, world: Any) -> dict[str, Any]:
    h = world.headers(world.p1.dispatcher)
    generate(client, h)
    plan_id = plan_day(client, h)["id"]
    run_jobs()
    r = client.post(f"/api/v1/plans/{plan_id}/publish", headers=h)
    assert r.status_code == 200, r.json
    return get_plan(client, h, plan_id)


def event(db: Any, visit: Visit, kind: EventKind, at: datetime) -> None:
    client = visit.assignments[0]
    db.add(
        VisitEvent(
            idempotency_key=str(uuid.uuid4()),
            content_hash="x" * 64,
            visit_id=visit.id,
            caregiver_id=client.caregiver_id,
            kind=kind,
            device_time_at=at,
            lat=29.3,
            lon=120.07,
            raw_lat=29.3,
            raw_lon=120.07,
            crs=Crs.wgs84,
        )
    )


def board(client: Any, world: Any, at: datetime, **q: Any) -> dict[int, dict[str, Any]]:
    r = client.get(
        f"/api/v1/days/{DAY.isoformat()}/board",
        query_string={"at": at.isoformat(), **q},
        headers=world.headers(world.p1.dispatcher),
    )
    assert r.status_code == 200, r.json
    return {v["visit_id"]: v for v in r.json["visits"]}


def test_board_late_and_missed_from_the_events(client, world, district, db):
    published_day(client, world)
    visits = db.scalars(select(Visit).where(Visit.date == DAY).order_by(Visit.id)).all()
    a, b, c = visits[0], visits[1], visits[2]
    start = a.planned_start_at
    event(db, b, EventKind.check_in, b.planned_start_at + timedelta(minutes=2))
    event(db, c, EventKind.check_in, c.planned_start_at)
    event(db, c, EventKind.check_out, c.planned_start_at + timedelta(minutes=50))
    db.commit()

    # 16 min after a's planned start with no check-in: 16 > 15, late.
    rows = board(client, world, start + timedelta(minutes=16))
    assert rows[a.id]["state"] == "late" and rows[a.id]["alerts"] == ["late"]
    assert rows[a.id]["late_min"] == 16
    # 14 min after: 14 <= 15, not yet late.
    rows = board(client, world, start + timedelta(minutes=14))
    assert rows[a.id]["state"] == "scheduled" and rows[a.id]["alerts"] == []
    # The threshold is a parameter: 16 min is not late when it is 20.
    rows = board(client, world, start + timedelta(minutes=16), late_after_min=20)
    assert rows[a.id]["alerts"] == []
    # After the window ends (12:00 local) with no check-in: missed, not also late.
    rows = board(client, world, local(12, 1))
    assert rows[a.id]["state"] == "missed" and rows[a.id]["alerts"] == ["missed"]
    # Checked in, and checked in and out: no alerts, whatever the time.
    assert rows[b.id]["state"] == "in_progress" and rows[b.id]["alerts"] == []
    assert rows[c.id]["state"] == "completed" and rows[c.id]["alerts"] == []
    assert rows[c.id]["check_out_at"] is not None
    # Another provider's dispatcher sees none of it.
    r = client.get(
        f"/api/v1/days/{DAY.isoformat()}/board", headers=world.headers(world.p2.dispatcher)
    )
    assert r.status_code == 200 and r.json["visits"] == []


def test_board_rejects_a_bad_threshold(client, world, district):
    r = client.get(
        f"/api/v1/days/{DAY.isoformat()}/board?late_after_min=-3",
        headers=world.headers(world.p1.dispatcher),
    )
    assert r.status_code == 422


def new_visit(client: Any, world: Any, service: str, client_id: int, **kw: Any) -> dict[str, Any]:
    body = {
        "client_id": client_id,
        "service_type_id": world.services[service].id,
        "date": DAY.isoformat(),
        "window_start": local(13).isoformat(),
        "window_end": local(15).isoformat(),
        "urgent": True,
        **kw,
    }
    r = client.post("/api/v1/visits", json=body, headers=world.headers(world.p1.dispatcher))
    assert r.status_code == 201, r.json
    return r.json


def test_urgent_visit_gets_its_best_caregiver_and_arrival(client, world, district, db):
    plan = published_day(client, world)
    h = world.headers(world.p1.dispatcher)
    v = new_visit(client, world, "CHAT", district.clients[4].id)
    r = client.post(f"/api/v1/plans/{plan['id']}/urgent", json={"visit_id": v["id"]}, headers=h)
    assert r.status_code == 200, r.json
    ans = r.json
    assert ans["possible"] is True
    assert ans["caregiver_id"] in {c.id for c in district.caregivers}
    start = datetime.fromisoformat(ans["start"])
    # CHAT is 45 min in a 13:00-15:00 window: starts 13:00..14:15.
    assert local(13) <= start <= local(14, 15)
    assert datetime.fromisoformat(ans["arrival"]) <= start
    # Nothing changed: the visit is still unassigned until the dispatcher applies it.
    r = client.patch(
        f"/api/v1/visits/{v['id']}",
        json={"caregiver_id": ans["caregiver_id"], "planned_start": ans["start"]},
        headers=h,
    )
    assert r.status_code == 200 and r.json["status"] == "assigned" and r.json["pinned"]


def test_urgent_visit_nobody_can_do_answers_a_reason(client, world, district, db):
    off_on(world.p1.caregiver, DAY)  # the only NURSE
    db.commit()
    plan = published_day(client, world)
    v = new_visit(client, world, "NURSE", district.clients[0].id)
    r = client.post(
        f"/api/v1/plans/{plan['id']}/urgent",
        json={"visit_id": v["id"]},
        headers=world.headers(world.p1.dispatcher),
    )
    assert r.status_code == 200
    assert r.json["possible"] is False and r.json["reason"] == "NO_QUALIFIED_CAREGIVER"


def test_replan_keeps_started_visits_and_frees_the_dropped_out_caregiver(
    client, world, district, db
):
    plan = published_day(client, world)
    h = world.headers(world.p1.dispatcher)
    stops = stops_of(plan)
    # A caregiver with at least one visit drops out after starting her first one.
    by_cg: dict[int, list[int]] = {}
    for vid, (cg, _s) in stops.items():
        by_cg.setdefault(cg, []).append(vid)
    gone, her = max(by_cg.items(), key=lambda kv: len(kv[1]))
    started = db.get(Visit, min(her, key=lambda vid: stops[vid][1]["start"]))
    check_in = started.planned_start_at + timedelta(minutes=3)
    started.status = VisitStatus.in_progress
    event(db, started, EventKind.check_in, check_in)
    db.commit()
    urgent = new_visit(client, world, "CHAT", district.clients[5].id)
    now = local(10)
    r = client.post(
        f"/api/v1/plans/{plan['id']}/replan",
        json={
            "unavailable_caregivers": [gone],
            "urgent_visits": [urgent["id"]],
            "time_limit_s": 2,
            "now": now.isoformat(),
        },
        headers=h,
    )
    assert r.status_code == 202, r.json
    run_jobs()
    new = get_plan(client, h, r.json["id"])
    assert new["status"] == "proposed" and new["version"] == 2, new
    assert new["options"]["replan_of"] == plan["id"]
    new_stops = stops_of(new)
    # The started visit stays with her at the time she checked in.
    cg, s = new_stops[started.id]
    assert cg == gone and datetime.fromisoformat(s["start"]) == check_in
    # She gets nothing else; the urgent visit is placed.
    assert [vid for vid, (c, _) in new_stops.items() if c == gone] == [started.id]
    assert urgent["id"] in new_stops
    # Nothing new starts before "now".
    for vid, (_c, st) in new_stops.items():
        if vid != started.id:
            assert datetime.fromisoformat(st["start"]) >= now
    # The published day is untouched until the new version is published.
    db.expire_all()
    assert db.get(Visit, her[-1]).status in (VisitStatus.published, VisitStatus.in_progress)
    r = client.post(f"/api/v1/plans/{new['id']}/publish", headers=h)
    assert r.status_code == 200
    db.expire_all()
    assert db.get(Visit, urgent["id"]).status == VisitStatus.published
    assert db.get(Visit, started.id).status == VisitStatus.in_progress


def test_replan_rejects_foreign_ids(client, world, district):
    plan = published_day(client, world)
    r = client.post(
        f"/api/v1/plans/{plan['id']}/replan",
        json={"unavailable_caregivers": [world.p2.caregiver.id]},
        headers=world.headers(world.p1.dispatcher),
    )
    assert r.status_code == 422 and "unavailable_caregivers" in r.json["errors"]


def test_visits_list_filters_and_edit_rules(client, world, district, db):
    plan = published_day(client, world)
    h = world.headers(world.p1.dispatcher)
    cg, _ = next(iter(stops_of(plan).values()))
    r = client.get(
        "/api/v1/visits", query_string={"date": DAY.isoformat(), "caregiver_id": cg}, headers=h
    )
    assert r.status_code == 200 and r.json
    assert all(cg in [a["caregiver_id"] for a in v["assignments"]] for v in r.json)
    r = client.get(
        "/api/v1/visits", query_string={"status": "published", "page_size": 2}, headers=h
    )
    assert len(r.json) == 2 and '"total": 6' in r.headers["X-Pagination"]
    vid = r.json[0]["id"]
    # Another provider's caregiver is not a caregiver here.
    r = client.patch(
        f"/api/v1/visits/{vid}", json={"caregiver_id": world.p2.caregiver.id}, headers=h
    )
    assert r.status_code == 422 and r.json["code"] == "REFERENCE_NOT_FOUND"
    # A start on another day is refused.
    r = client.patch(
        f"/api/v1/visits/{vid}",
        json={"planned_start": (local(10) + timedelta(days=1)).isoformat()},
        headers=h,
    )
    assert r.status_code == 422
    assert client.patch(f"/api/v1/visits/{vid}", json={}, headers=h).status_code == 422
    r = client.patch(
        f"/api/v1/visits/{vid}",
        json={"status": "cancelled", "cancel_reason": "家属取消"},
        headers=h,
    )
    assert r.status_code == 200 and r.json["status"] == "cancelled"
    assert vid not in stops_of(get_plan(client, h, plan["id"]))
    r = client.patch(f"/api/v1/visits/{vid}", json={"pinned": True}, headers=h)
    assert r.status_code == 409 and r.json["code"] == "VISIT_CLOSED"
    assert (
        client.get(f"/api/v1/visits/{vid}", headers=world.headers(world.p2.dispatcher)).status_code
        == 404
    )


def test_moving_a_visit_to_an_unqualified_caregiver_is_refused(client, world, district, db):
    from dispatch.models import ClientRefusal

    published_day(client, world)
    h = world.headers(world.p1.dispatcher)
    clean = db.scalars(
        select(Visit).where(Visit.date == DAY, Visit.required_skill == "CLEAN")
    ).first()
    vid = clean.id
    nobody = world.caregiver_at(world.p1.provider, "CGNONE", skills=()).id
    refused = district.caregivers[1].id
    db.add(ClientRefusal(client_id=clean.client_id, caregiver_id=refused))
    db.commit()
    r = client.patch(f"/api/v1/visits/{vid}", json={"caregiver_id": nobody}, headers=h)
    assert r.status_code == 422 and r.json["code"] == "CAREGIVER_NOT_QUALIFIED"
    assert "CLEAN" in r.json["message"]
    r = client.patch(f"/api/v1/visits/{vid}", json={"caregiver_id": refused}, headers=h)
    assert r.status_code == 422 and "refused" in r.json["message"]
