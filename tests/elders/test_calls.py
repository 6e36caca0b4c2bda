"""Emergency calls through HTTP with the rq worker: one call per press, proposal, dispatch,
arrival and closing by the caregiver's check-in/out, escalation by the clock, bad input."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from dispatch import call_clock, config
from dispatch.db import utcnow
from dispatch.models import AuditEntry, Call, CallSignal, Shift, Visit, VisitStatus
from dispatch.services import urgent
from tests.conftest import Http, World
from tests.dispatch.conftest import care_plan, run_jobs

pytestmark = pytest.mark.usefixtures("ten_oclock")


def today() -> Any:
    return utcnow().astimezone(config.zone()).date()


@pytest.fixture
def day(http: Http, world: World) -> dict[str, Any]:
    """Provider 1 today: its caregiver works all day, one visit of a published plan."""
    d = today()
    world.p1.caregiver.shifts.append(Shift(on_date=d, start_time=time(0), end_time=time(23, 59)))
    world.p1.caregiver.max_minutes_per_day = 24 * 60
    care_plan(
        world,
        world.p1.client,
        "CHAT",
        start_date=d - timedelta(days=1),
        window_start=time(0),
        window_end=time(23, 59),
    )
    elder = world.client_at(world.p1.provider, "C1002", name="张桂兰", lat=29.312, lon=120.081)
    world.db.commit()
    dispatcher = world.p1.dispatcher
    r = http.as_user("POST", f"/days/{d.isoformat()}/visits:generate", dispatcher, json={})
    assert r.status_code == 200, r.json
    r = http.as_user("POST", "/plans", dispatcher, json={"date": d.isoformat(), "time_limit_s": 2})
    assert r.status_code == 202, r.json
    run_jobs()
    r = http.as_user("POST", f"/plans/{r.json['id']}/publish", dispatcher)
    assert r.status_code == 200, r.json
    pendant = http.as_user(
        "POST",
        "/devices",
        dispatcher,
        json={"kind": "pendant", "client_id": elder.id, "label": "张桂兰的呼叫器"},
    )
    assert pendant.status_code == 201, pendant.json
    return {"date": d, "elder": elder, "key": pendant.json["key"], "device": pendant.json["id"]}


def press(http: Http, key: str, idem: str, kind: str = "sos", **extra: Any) -> Any:
    body = {"kind": kind, "idempotency_key": idem, "device_time": utcnow().isoformat()}
    body.update(extra)
    return http.as_device("POST", "/calls", key, json=body)


def calls_of(http: Http, world: World, **query: Any) -> list[dict[str, Any]]:
    r = http.as_user("GET", "/calls", world.p1.dispatcher, query_string=query)
    assert r.status_code == 200, r.json
    return r.json


def evv(http: Http, world: World, visit_id: int, kind: str, at: datetime) -> Any:
    event = {
        "idempotency_key": str(uuid.uuid4()),
        "device_time": at.isoformat(),
        "lat": 29.312,
        "lon": 120.081,
        "accuracy_m": 10,
    }
    return http.as_user(
        "POST",
        f"/visits/{visit_id}/{kind}",
        world.p1.caregiver_user,
        data={"event": json.dumps(event)},
        content_type="multipart/form-data",
    )


def test_a_pendant_call_goes_from_press_to_closed(http: Http, world: World, day) -> None:
    idem = str(uuid.uuid4())
    sent = utcnow()
    signal = {"lat": 29.312, "lon": 120.081, "device_time": sent.isoformat()}
    first = press(http, day["key"], idem, **signal)
    assert first.status_code == 201, first.json
    assert first.json["status"] == "open" and first.json["client_id"] == day["elder"].id
    # The due time: 5 minutes for an sos.
    opened = datetime.fromisoformat(first.json["opened_at"])
    assert datetime.fromisoformat(first.json["due_at"]) - opened == timedelta(minutes=5)
    # The pendant resends until it hears back: the same call, nothing new stored.
    for _ in range(2):
        again = press(http, day["key"], idem, **signal)
        assert again.status_code == 200 and again.json == first.json
    assert http.count(Call) == 1 and http.count(CallSignal) == 1

    # Urgent insertion proposed the caregiver in the same request; no job was needed.
    assert first.json["proposal"]["caregiver_id"] == world.p1.caregiver.id
    assert run_jobs() == 0
    (listed,) = calls_of(http, world)
    assert listed["id"] == first.json["id"] and listed["overdue"] is False
    assert listed["proposal"], str(world.db.get(Call, listed["id"]).proposal)
    assert listed["proposal"]["caregiver_id"] == world.p1.caregiver.id
    arrival = datetime.fromisoformat(listed["proposal"]["arrival"])
    assert arrival >= sent - timedelta(seconds=1)
    assert listed["client"]["name"] == "张桂兰" and listed["client"]["care_level"] == 2
    assert 0 <= listed["call_to_proposal_s"] < 60
    assert listed["proposal"] == first.json["proposal"]

    r = http.as_user("POST", f"/calls/{listed['id']}/dispatch", world.p1.dispatcher, json={})
    assert r.status_code == 200, r.json
    assert r.json["caregiver_id"] == world.p1.caregiver.id
    visit_id = r.json["visit_id"]
    mine = http.as_user(
        "GET", f"/me/visits?date={day['date'].isoformat()}", world.p1.caregiver_user
    )
    urgent = [v for v in mine.json if v["id"] == visit_id]
    assert urgent and urgent[0]["status"] == "published"
    assert urgent[0]["service"]["code"] == "CALL" and urgent[0]["client"]["name"] == "张桂兰"
    # Dispatching twice is refused.
    twice = http.as_user("POST", f"/calls/{listed['id']}/dispatch", world.p1.dispatcher, json={})
    assert (twice.status_code, twice.json["code"]) == (409, "CALL_ALREADY_DISPATCHED")

    arrived = utcnow()
    r = evv(http, world, visit_id, "check-in", arrived)
    assert r.status_code == 201, r.json
    call = http.as_user("GET", f"/calls/{listed['id']}", world.p1.dispatcher).json
    assert call["status"] == "answered"
    expected = round((arrived - opened).total_seconds() / 60, 1)
    assert call["call_to_arrival_min"] == pytest.approx(expected, abs=0.1)
    r = evv(http, world, visit_id, "check-out", arrived + timedelta(minutes=20))
    assert r.status_code == 201, r.json
    call = http.as_user("GET", f"/calls/{listed['id']}", world.p1.dispatcher).json
    assert call["status"] == "closed" and call["outcome"] == "visited"
    assert call["call_to_dispatch_min"] is not None
    # A new press after the call closed opens a new call.
    assert press(http, day["key"], str(uuid.uuid4())).status_code == 201


def test_a_failed_proposal_keeps_the_call_and_the_worker_retries(
    http: Http, world: World, day, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = urgent.urgent_insertion

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("router down")

    monkeypatch.setattr(urgent, "urgent_insertion", broken)
    r = press(http, day["key"], str(uuid.uuid4()))
    assert r.status_code == 201 and r.json["proposal"] is None
    assert world.db.get(Call, r.json["id"]).proposed_at is None
    monkeypatch.setattr(urgent, "urgent_insertion", real)
    assert run_jobs() == 1  # dispatch.jobs.propose_call, on rq's worker
    (listed,) = calls_of(http, world)
    assert listed["proposal"]["caregiver_id"] == world.p1.caregiver.id


def test_a_second_press_joins_the_open_call(http: Http, world: World, day) -> None:
    first = press(http, day["key"], str(uuid.uuid4()))
    second = press(http, day["key"], str(uuid.uuid4()))
    assert second.status_code == 200 and second.json["id"] == first.json["id"]
    assert second.json["signals"] == 2
    # Another kind is another call.
    fall = press(http, day["key"], str(uuid.uuid4()), kind="fall")
    assert fall.status_code == 201 and fall.json["id"] != first.json["id"]


def test_an_undispatched_sos_is_escalated_when_due(http: Http, world: World, day) -> None:
    sos = press(http, day["key"], str(uuid.uuid4())).json
    help_ = press(http, day["key"], str(uuid.uuid4()), kind="help").json
    call = world.db.get(Call, sos["id"])
    # Five minutes have passed for the sos (not for the help call, due in 30).
    call.opened_at -= timedelta(minutes=6)
    call.due_at -= timedelta(minutes=6)
    world.db.commit()
    assert call_clock.escalate_overdue_calls() == [sos["id"]]
    rows = {c["id"]: c for c in calls_of(http, world)}
    assert rows[sos["id"]]["status"] == "escalated" and rows[sos["id"]]["overdue"] is True
    (entry,) = rows[sos["id"]]["escalations"]
    assert entry["auto"] is True and entry["to"] == "community"
    assert rows[help_["id"]]["status"] == "open" and rows[help_["id"]]["overdue"] is False
    # Idempotent: the next tick escalates nothing again.
    assert call_clock.escalate_overdue_calls() == []
    # An escalated call can still be dispatched.
    run_jobs()
    r = http.as_user("POST", f"/calls/{sos['id']}/dispatch", world.p1.dispatcher, json={})
    assert r.status_code == 200, r.json
    assert calls_of(http, world, status="dispatched")[0]["overdue"] is True


def test_the_periodic_runner_knows_the_clock() -> None:
    from dispatch import periodic

    names = {t.name for t in periodic.load_tasks()}
    assert "dispatch.call_clock.escalate_overdue_calls" in names


def test_escalate_and_close_by_hand(http: Http, world: World, day) -> None:
    sos = press(http, day["key"], str(uuid.uuid4())).json
    d = world.p1.dispatcher
    r = http.as_user(
        "POST", f"/calls/{sos['id']}/escalate", d, json={"to": "120", "note": "已拨打120"}
    )
    assert r.status_code == 200 and r.json["status"] == "escalated"
    assert r.json["escalations"][0]["to"] == "120"
    r = http.as_user("POST", f"/calls/{sos['id']}/close", d, json={"outcome": "hospital"})
    assert r.status_code == 200 and r.json["status"] == "closed"
    # The visit made for the call is cancelled with it.
    assert world.db.get(Visit, sos["visit_id"]).status == VisitStatus.cancelled
    r = http.as_user("POST", f"/calls/{sos['id']}/close", d, json={"outcome": "other"})
    assert (r.status_code, r.json["code"]) == (409, "CALL_CLOSED")
    r = http.as_user("POST", f"/calls/{sos['id']}/dispatch", d, json={})
    assert (r.status_code, r.json["code"]) == (409, "CALL_CLOSED")


def test_a_dispatcher_takes_a_phone_call(http: Http, world: World, day) -> None:
    body = {"client_id": day["elder"].id, "kind": "help", "idempotency_key": str(uuid.uuid4())}
    r = http.as_user("POST", "/calls", world.p1.dispatcher, json={**body, "note": "老人摔倒"})
    assert r.status_code == 201 and r.json["source"] == "dispatcher"
    entry = world.db.scalars(
        select(AuditEntry).where(AuditEntry.entity_type == "calls", AuditEntry.action == "create")
    ).one()
    assert entry.entity_id == r.json["id"]


def test_bad_calls_are_coded_4xx_and_store_nothing(http: Http, world: World, day) -> None:
    before = http.count(Call), http.count(Visit)
    # Unknown and revoked keys.
    r = press(http, "cdk_" + "x" * 43, str(uuid.uuid4()))
    assert (r.status_code, r.json["code"]) == (401, "DEVICE_KEY_INVALID")
    revoked = http.as_user(
        "POST",
        "/devices",
        world.p1.dispatcher,
        json={"kind": "pendant", "client_id": world.p1.client.id, "label": "旧呼叫器"},
    ).json
    http.as_user("DELETE", f"/devices/{revoked['id']}", world.p1.dispatcher)
    r = press(http, revoked["key"], str(uuid.uuid4()))
    assert (r.status_code, r.json["code"]) == (401, "DEVICE_KEY_REVOKED")
    # Another provider's elder, by a dispatcher; another elder than the device's.
    body = {"client_id": world.p2.client.id, "kind": "sos", "idempotency_key": str(uuid.uuid4())}
    r = http.as_user("POST", "/calls", world.p1.dispatcher, json=body)
    assert (r.status_code, r.json["code"]) == (422, "REFERENCE_NOT_FOUND")
    r = press(http, day["key"], str(uuid.uuid4()), client_id=world.p1.client.id)
    assert (r.status_code, r.json["code"]) == (422, "CALL_CLIENT_MISMATCH")
    # Wrong shapes.
    for bad in (
        {"kind": "earthquake", "idempotency_key": str(uuid.uuid4())},
        {"kind": "sos"},
        {"kind": "sos", "idempotency_key": "short"},
        {"kind": "sos", "idempotency_key": str(uuid.uuid4()), "lat": 29.3},
        {"kind": "sos", "idempotency_key": str(uuid.uuid4()), "lat": 91, "lon": 120},
    ):
        r = http.as_device("POST", "/calls", day["key"], json=bad)
        assert (r.status_code, r.json["code"]) == (422, "VALIDATION_ERROR"), bad
    r = http.as_user(
        "POST",
        "/calls",
        world.p1.dispatcher,
        json={"kind": "sos", "idempotency_key": str(uuid.uuid4())},
    )
    assert (r.status_code, r.json["code"]) == (422, "CALL_NEEDS_CLIENT")
    assert (http.count(Call), http.count(Visit)) == before
    # The same key with other content.
    idem, at = str(uuid.uuid4()), utcnow().isoformat()
    assert press(http, day["key"], idem, device_time=at).status_code == 201
    r = press(http, day["key"], idem, kind="fall", device_time=at)
    assert (r.status_code, r.json["code"]) == (409, "IDEMPOTENCY_KEY_REUSED")


def test_another_providers_call_is_a_404(http: Http, world: World, day) -> None:
    sos = press(http, day["key"], str(uuid.uuid4())).json
    other = world.p2.dispatcher
    assert http.as_user("GET", f"/calls/{sos['id']}", other).status_code == 404
    r = http.as_user("POST", f"/calls/{sos['id']}/dispatch", other, json={})
    assert (r.status_code, r.json["code"]) == (404, "CALL_NOT_FOUND")
    assert http.as_user("GET", "/calls", other).json == []
    # Any date range is an answer, never a 500.
    r = http.as_user("GET", "/calls?from=0001-01-01&to=9999-12-31", world.p1.dispatcher)
    assert r.status_code == 200 and [c["id"] for c in r.json] == [sos["id"]]
    r = http.as_user("GET", "/calls?from=2026-13-01", world.p1.dispatcher)
    assert (r.status_code, r.json["code"]) == (422, "VALIDATION_ERROR")
    count = world.db.scalar(select(func.count()).select_from(Call))
    assert count == 1


def test_call_kpis_per_provider_and_period(http: Http, world: World, day) -> None:
    d = day["date"].isoformat()
    sent = utcnow()
    first = press(http, day["key"], str(uuid.uuid4()), device_time=sent.isoformat()).json
    r = http.as_user("POST", f"/calls/{first['id']}/dispatch", world.p1.dispatcher, json={})
    assert r.status_code == 200, r.json
    evv(http, world, r.json["visit_id"], "check-in", utcnow())
    call = world.db.get(Call, first["id"])
    # 2 minutes to dispatch, 12 to arrive: written back so that the arithmetic is fixed.
    call.dispatched_at = call.opened_at + timedelta(minutes=2)
    call.arrived_at = call.opened_at + timedelta(minutes=12)
    help_ = press(http, day["key"], str(uuid.uuid4()), kind="help").json
    world.db.commit()
    r = http.as_user("GET", f"/calls/kpis?from={d}&to={d}", world.p1.dispatcher)
    assert r.status_code == 200, r.json
    (row,) = r.json
    assert (row["provider_id"], row["calls"], row["dispatched"], row["answered"]) == (
        world.p1.provider.id,
        2,
        1,
        1,
    )
    assert row["call_to_dispatch_p50_min"] == 2.0 and row["call_to_arrival_p50_min"] == 12.0
    assert help_["id"] and row["late"] == 0
    # Another provider sees none of them; a reversed or too long range is refused.
    assert http.as_user("GET", f"/calls/kpis?from={d}&to={d}", world.p2.dispatcher).json == []
    r = http.as_user("GET", "/calls/kpis?from=2026-12-06&to=2026-01-01", world.p1.dispatcher)
    assert (r.status_code, r.json["code"]) == (422, "INVALID_RANGE")
    r = http.as_user("GET", "/calls/kpis?from=2024-01-01&to=2026-01-01", world.p1.dispatcher)
    assert (r.status_code, r.json["code"]) == (422, "INVALID_RANGE")
    r = http.as_user("GET", "/calls/kpis", world.p1.dispatcher)
    assert (r.status_code, r.json["code"]) == (422, "VALIDATION_ERROR")
