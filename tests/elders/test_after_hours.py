"""Calls after hours, at 21:00 local: only caregivers on shift now are proposed, each with the
working time left of her real day; when nobody is on shift the answer says so at once and the
clock still escalates (hand-worked examples through HTTP, the clock set by ``as_of``)."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from dispatch import call_clock, config
from dispatch.db import as_of, utcnow
from dispatch.models import Caregiver, Shift, Visit, VisitStatus
from tests.conftest import Http, World
from tests.dispatch.conftest import care_plan, run_jobs


def at(day: Any, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), config.zone())


@pytest.fixture
def evening(http: Http, world: World) -> dict[str, Any]:
    """Provider 1's caregiver worked 09:00-09:45 this morning (a 45-minute chat 700 m from
    home); the elder who calls lives where the caregiver lives (no travel to her door)."""
    day = utcnow().astimezone(config.zone()).date()
    cg, dispatcher = world.p1.caregiver, world.p1.dispatcher
    care_plan(
        world,
        world.p1.client,
        "CHAT",
        start_date=day - timedelta(days=1),
        window_start=time(9),
        window_end=time(9, 45),
    )
    elder = world.client_at(world.p1.provider, "C1002", lat=cg.home_lat, lon=cg.home_lon)
    world.db.commit()
    d = day.isoformat()
    assert (
        http.as_user("POST", f"/days/{d}/visits:generate", dispatcher, json={}).status_code == 200
    )
    r = http.as_user("POST", "/plans", dispatcher, json={"date": d, "time_limit_s": 2})
    assert r.status_code == 202, r.json
    run_jobs()
    assert http.as_user("POST", f"/plans/{r.json['id']}/publish", dispatcher).status_code == 200
    pendant = http.as_user(
        "POST",
        "/devices",
        dispatcher,
        json={"kind": "pendant", "client_id": elder.id, "label": "x"},
    )
    return {"day": day, "key": pendant.json["key"]}


def press(http: Http, key: str, kind: str = "sos") -> dict[str, Any]:
    r = http.as_device(
        "POST", "/calls", key, json={"kind": kind, "idempotency_key": str(uuid.uuid4())}
    )
    assert r.status_code == 201, r.json
    return r.json


def test_nobody_on_shift_is_said_at_once_and_the_clock_still_escalates(
    http: Http, world: World, evening
) -> None:
    day, dispatcher = evening["day"], world.p1.dispatcher
    # Her shift ended at 17:00; another caregiver next door starts only at 21:30.
    late = world.caregiver_at(world.p1.provider, "CG109", home_lat=29.31, home_lon=120.07)
    late.shifts = [Shift(on_date=day, start_time=time(21, 30), end_time=time(23, 59))]
    world.db.commit()
    with as_of(at(day, 21)):
        call = press(http, evening["key"])
        assert call["proposal"] is None
        why = call["no_proposal"]
        assert why["reason"] == "NOBODY_ON_SHIFT" and "21:00" in why["detail"]
        assert "escalate" in why["action"] and "升级" in why["action_zh"]
        r = http.as_user("POST", f"/calls/{call['id']}/dispatch", dispatcher, json={})
        assert (r.status_code, r.json["code"]) == (409, "CALL_NO_CAREGIVER")
        assert r.json["errors"]["caregiver_id"] == ["NOBODY_ON_SHIFT"]
    with as_of(at(day, 21, 4)):
        assert call_clock.escalate_overdue_calls() == []
    with as_of(at(day, 21, 6)):
        assert call_clock.escalate_overdue_calls() == [call["id"]]
    listed = http.as_user("GET", f"/calls/{call['id']}", dispatcher).json
    assert listed["status"] == "escalated" and listed["escalations"][0]["auto"] is True


def test_an_on_call_caregivers_cap_counts_her_real_day(http: Http, world: World, evening) -> None:
    day, dispatcher = evening["day"], world.p1.dispatcher
    cg = world.db.get(Caregiver, world.p1.caregiver.id)  # the requests ended its session
    # On call tonight: her shift runs to 23:59, and she may work 60 minutes a day.
    cg.shifts.append(Shift(on_date=day, start_time=time(8), end_time=time(23, 59)))
    cg.max_minutes_per_day = 60
    world.db.commit()
    with as_of(at(day, 21)):
        # Her morning trip (about 50 min: two short rides and the 45-minute chat) leaves less
        # than the call's 30 minutes of her 60.
        call = press(http, evening["key"])
        assert call["proposal"] is None
        assert call["no_proposal"]["reason"] == "MAX_WORKING_TIME"
        # With 480 minutes a day she has about 7 hours left: the time at home since the morning
        # is not work, so she is proposed and leaves now (no travel to the elder's door).
        r = http.as_user(
            "PATCH", f"/caregivers/{cg.id}", dispatcher, json={"max_minutes_per_day": 480}
        )
        assert r.status_code == 200, r.json
        r = http.as_user("POST", f"/calls/{call['id']}/dispatch", dispatcher, json={})
        assert r.status_code == 200, r.json
        assert r.json["caregiver_id"] == cg.id
        assert datetime.fromisoformat(r.json["planned_start"]) == at(day, 21)
        assert datetime.fromisoformat(r.json["arrival"]) == at(day, 21)


def test_a_stop_missed_since_the_plan_does_not_stop_the_proposal(
    http: Http, world: World, evening
) -> None:
    """Her 09:00 chat was marked missed after the plan was published (as the demo's history
    does): the router's routes still name it, urgent insertion leaves it out."""
    day = evening["day"]
    chat = world.db.scalars(select(Visit).where(Visit.client_id == world.p1.client.id)).one()
    chat.status = VisitStatus.missed
    world.db.commit()
    with as_of(at(day, 9, 30)):
        call = press(http, evening["key"])
    assert call["proposal"] is not None, call["no_proposal"]
    assert call["proposal"]["caregiver_id"] == world.p1.caregiver.id


def test_help_for_a_call_before_midnight_that_arrives_after_it_is_the_next_days_visit(
    http: Http, world: World, evening
) -> None:
    """A call at 23:50; the dispatcher sends the caregiver, who will be there at 00:10: the
    urgent visit is dated the next day (its window from that midnight to the call's response
    window's end, 01:50), in her app for that day; the call is dispatched."""
    day, dispatcher = evening["day"], world.p1.dispatcher
    cg = world.p1.caregiver
    with as_of(at(day, 23, 50)):
        call = press(http, evening["key"])
        nxt = day + timedelta(days=1)
        arrival = at(nxt, 0, 10)
        body = {"caregiver_id": cg.id, "arrival": arrival.isoformat()}
        r = http.as_user("POST", f"/calls/{call['id']}/dispatch", dispatcher, json=body)
        assert r.status_code == 200, r.json
        assert datetime.fromisoformat(r.json["planned_start"]) == arrival
        visit = http.as_user("GET", f"/visits/{r.json['visit_id']}", dispatcher).json
        assert visit["date"] == nxt.isoformat()
        assert datetime.fromisoformat(visit["window_start_at"]) == at(nxt, 0)
        assert datetime.fromisoformat(visit["window_end_at"]) == at(nxt, 1, 50)
        mine = http.as_user("GET", f"/me/visits?date={nxt.isoformat()}", world.p1.caregiver_user)
        assert mine.status_code == 200, mine.json
        assert r.json["visit_id"] in [v["id"] for v in mine.json]
        listed = http.as_user("GET", f"/calls/{call['id']}", dispatcher).json
        assert listed["status"] == "dispatched" and listed["caregiver_id"] == cg.id


@pytest.mark.parametrize(
    ("minutes", "why"), [(-5, "before the call"), (12 * 60 + 1, "more than 12 hours after it")]
)
def test_an_arrival_before_the_call_or_half_a_day_after_it_is_refused(
    http: Http, world: World, evening, minutes: int, why: str
) -> None:
    day, dispatcher = evening["day"], world.p1.dispatcher
    with as_of(at(day, 21)):
        call = press(http, evening["key"])
        arrival = at(day, 21) + timedelta(minutes=minutes)
        body = {"caregiver_id": world.p1.caregiver.id, "arrival": arrival.isoformat()}
        r = http.as_user("POST", f"/calls/{call['id']}/dispatch", dispatcher, json=body)
        assert (r.status_code, r.json["code"]) == (422, "CALL_ARRIVAL_OUT_OF_RANGE"), why
        assert "arrival" in r.json["errors"] and "21:00" in r.json["message"]
        listed = http.as_user("GET", f"/calls/{call['id']}", dispatcher).json
        assert listed["status"] == "open" and listed["caregiver_id"] is None
