"""A call's urgent visit in a caregiver's published route: the later stops are re-timed by the
router's own schedule, and /me/visits and the plan show the new times (hand-worked example)."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta
from typing import Any

import pytest

from dispatch import config
from dispatch.db import utcnow
from dispatch.models import Shift, Visit, VisitStatus
from tests.conftest import Http, World
from tests.dispatch.conftest import care_plan, run_jobs

ELDER = {"lat": 29.312, "lon": 120.081}
# The calls come at 10:00 local, whenever the suite runs.
pytestmark = pytest.mark.usefixtures("ten_oclock")


def at(day: Any, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), config.zone())


def test_later_stops_move_to_when_the_caregiver_can_be_there(http: Http, world: World) -> None:
    day = utcnow().astimezone(config.zone()).date()
    cg, dispatcher = world.p1.caregiver, world.p1.dispatcher
    cg.shifts.append(Shift(on_date=day, start_time=time(0), end_time=time(23, 59)))
    cg.max_minutes_per_day = 24 * 60
    elder = world.client_at(world.p1.provider, "C1002", name="张桂兰", **ELDER)
    # The neighbour lives in the same building: no travel between the two doors.
    neighbour = world.client_at(world.p1.provider, "C1003", name="陈阿婆", **ELDER)
    start = day - timedelta(days=1)
    care_plan(world, neighbour, "CHAT", start_date=start, window_start=time(9), window_end=time(16))
    care_plan(
        world, neighbour, "WALK", start_date=start, window_start=time(12), window_end=time(16)
    )
    world.db.commit()
    d = day.isoformat()
    r = http.as_user("POST", f"/days/{d}/visits:generate", dispatcher, json={})
    assert r.status_code == 200, r.json
    r = http.as_user("POST", "/plans", dispatcher, json={"date": d, "time_limit_s": 2})
    assert r.status_code == 202, r.json
    plan_id = r.json["id"]
    run_jobs()
    assert http.as_user("POST", f"/plans/{plan_id}/publish", dispatcher).status_code == 200
    ids = {
        world.db.get(Visit, v["id"]).service_type_id: v["id"]
        for v in http.as_user("GET", f"/me/visits?date={d}", world.p1.caregiver_user).json
    }
    chat, walk = ids[world.services["CHAT"].id], ids[world.services["WALK"].id]
    # The day as the dispatcher left it: chat 10:15-11:00, walk 12:00-13:00.
    for vid, begin in ((chat, at(day, 10, 15)), (walk, at(day, 12))):
        body = {"caregiver_id": cg.id, "planned_start": begin.isoformat(), "pinned": False}
        r = http.as_user("PATCH", f"/visits/{vid}", dispatcher, json=body)
        assert r.status_code == 200, r.json
    pendant = http.as_user(
        "POST",
        "/devices",
        dispatcher,
        json={"kind": "pendant", "client_id": elder.id, "label": "x"},
    ).json
    press = {"kind": "sos", "idempotency_key": str(uuid.uuid4())}
    call = http.as_device("POST", "/calls", pendant["key"], json=press).json

    # The dispatcher sends her at 10:00: the call's visit (30 min) ends at 10:30.
    body = {"caregiver_id": cg.id, "arrival": at(day, 10).isoformat()}
    r = http.as_user("POST", f"/calls/{call['id']}/dispatch", dispatcher, json=body)
    assert r.status_code == 200, r.json
    # The chat cannot start before 10:30 (no travel next door) and ends at 11:15; the walk's
    # window opens at 12:00, so it stays where it was.
    assert [
        (m["visit_id"], datetime.fromisoformat(m["planned_start"])) for m in r.json["retimed"]
    ] == [(chat, at(day, 10, 30))]
    mine = http.as_user("GET", f"/me/visits?date={d}", world.p1.caregiver_user).json
    starts = {v["id"]: datetime.fromisoformat(v["planned_start"]) for v in mine}
    assert starts == {
        r.json["visit_id"]: at(day, 10),
        chat: at(day, 10, 30),
        walk: at(day, 12),
    }
    assert [v["id"] for v in mine] == [r.json["visit_id"], chat, walk]
    plan = http.as_user("GET", f"/plans/{plan_id}", dispatcher).json
    (route,) = [x for x in plan["routes"] if x["caregiver_id"] == cg.id]
    times = {
        s["visit_id"]: (datetime.fromisoformat(s["start"]), datetime.fromisoformat(s["end"]))
        for s in route["stops"]
    }
    assert times[chat] == (at(day, 10, 30), at(day, 11, 15))
    assert times[walk] == (at(day, 12), at(day, 13))


@pytest.mark.parametrize("checked_in", [False, True])
def test_a_stop_that_can_no_longer_keep_its_window_shows_late(
    http: Http, world: World, checked_in: bool
) -> None:
    """The urgent visit pushes a visit past its window: it is shown when she can be there;
    a visit she already checked in at stays where it happened."""
    day = utcnow().astimezone(config.zone()).date()
    cg, dispatcher = world.p1.caregiver, world.p1.dispatcher
    cg.shifts.append(Shift(on_date=day, start_time=time(0), end_time=time(23, 59)))
    cg.max_minutes_per_day = 24 * 60
    elder = world.client_at(world.p1.provider, "C1002", name="张桂兰", **ELDER)
    neighbour = world.client_at(world.p1.provider, "C1003", name="陈阿婆", **ELDER)
    start = day - timedelta(days=1)
    # The chat must start by 10:15 (window 10:00-11:00, 45 min).
    care_plan(
        world, neighbour, "CHAT", start_date=start, window_start=time(10), window_end=time(11)
    )
    world.db.commit()
    d = day.isoformat()
    assert (
        http.as_user("POST", f"/days/{d}/visits:generate", dispatcher, json={}).status_code == 200
    )
    r = http.as_user("POST", "/plans", dispatcher, json={"date": d, "time_limit_s": 2})
    run_jobs()
    assert http.as_user("POST", f"/plans/{r.json['id']}/publish", dispatcher).status_code == 200
    (chat,) = [
        v["id"] for v in http.as_user("GET", f"/me/visits?date={d}", world.p1.caregiver_user).json
    ]
    body = {"caregiver_id": cg.id, "planned_start": at(day, 10, 15).isoformat(), "pinned": False}
    assert http.as_user("PATCH", f"/visits/{chat}", dispatcher, json=body).status_code == 200
    if checked_in:
        world.db.get(Visit, chat).status = VisitStatus.in_progress
        world.db.commit()
    pendant = http.as_user(
        "POST",
        "/devices",
        dispatcher,
        json={"kind": "pendant", "client_id": elder.id, "label": "x"},
    ).json
    call = http.as_device(
        "POST", "/calls", pendant["key"], json={"kind": "sos", "idempotency_key": str(uuid.uuid4())}
    ).json
    body = {"caregiver_id": cg.id, "arrival": at(day, 10, 5).isoformat()}
    r = http.as_user("POST", f"/calls/{call['id']}/dispatch", dispatcher, json=body)
    assert r.status_code == 200, r.json
    # 10:05 + 30 min: the chat starts at 10:35, twenty minutes after its window allowed.
    mine = http.as_user("GET", f"/me/visits?date={d}", world.p1.caregiver_user).json
    starts = {v["id"]: datetime.fromisoformat(v["planned_start"]) for v in mine}
    assert starts[chat] == (at(day, 10, 15) if checked_in else at(day, 10, 35))
    assert [m["visit_id"] for m in r.json["retimed"]] == ([] if checked_in else [chat])
