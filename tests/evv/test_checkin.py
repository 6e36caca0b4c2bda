"""Check-in and check-out through HTTP: the state machine, idempotency, work orders, evidence."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from dispatch.geo import distance_m, wgs84_to_gcj02
from dispatch.models import (
    AuditEntry,
    Photo,
    Role,
    Visit,
    VisitEvent,
    VisitOutcome,
    VisitStatus,
    WorkOrder,
    WorkOrderSource,
)
from tests.evv.conftest import Evv, at, jpeg, local_iso


def test_check_in_stores_the_event_and_starts_the_visit(evv: Evv) -> None:
    visit = evv.visit()
    event = evv.event(visit)
    r = evv.post(visit.id, "check-in", event)
    assert r.status_code == 201, r.json
    body = r.json
    assert body["visit_id"] == visit.id
    assert body["kind"] == "check_in"
    assert body["visit_status"] == "in_progress"
    assert body["received_at"].endswith("+08:00")
    stored = evv.world.db.get(VisitEvent, body["event_id"])
    assert stored.idempotency_key == event["idempotency_key"]
    assert stored.caregiver_id == evv.world.p1.caregiver.id
    assert stored.device_time_at == at(9, 20)
    assert stored.accuracy_m == 12.0
    assert stored.photo_id == body["photo_id"] is not None
    photo = evv.world.db.get(Photo, stored.photo_id)
    assert (evv.photo_dir / photo.sha256[:2] / photo.sha256[2:4] / photo.sha256).is_file()
    assert evv.world.db.get(Visit, visit.id).status == VisitStatus.in_progress
    actions = evv.world.db.scalars(
        select(AuditEntry.action).where(AuditEntry.entity_type == "visit_events")
    ).all()
    assert actions == ["check_in"]


def test_completed_check_out_makes_one_app_work_order(
    evv: Evv, monkeypatch: pytest.MonkeyPatch
) -> None:
    validated: list[list[int]] = []
    monkeypatch.setattr(
        "dispatch.services.settlement.validate_orders",
        lambda session, ids: validated.append(list(ids)),
    )
    visit = evv.visit(duration_min=60)
    assert evv.post(visit.id, "check-in", evv.event(visit, when=at(9, 20))).status_code == 201
    out = evv.event(visit, when=at(10, 12), outcome="completed", tasks_done=["拖地", "擦窗"])
    r = evv.post(visit.id, "check-out", out)
    assert r.status_code == 201, r.json
    order = evv.world.db.get(WorkOrder, r.json["work_order_id"])
    assert r.json["visit_status"] == "completed"
    assert order.source == WorkOrderSource.app
    assert (order.caregiver_id, order.client_id, order.visit_id) == (
        evv.world.p1.caregiver.id,
        visit.client_id,
        visit.id,
    )
    assert (order.start_at, order.end_at) == (at(9, 20), at(10, 12))
    assert order.billable_min == 52  # 09:20 -> 10:12
    assert validated == [[order.id]]
    v = evv.world.db.get(Visit, visit.id)
    assert (v.status, v.outcome) == (VisitStatus.completed, VisitOutcome.completed)


def test_a_failing_rules_run_never_loses_the_check_out(
    evv: Evv, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(session: Any, ids: Any) -> None:
        raise RuntimeError("rules engine down")

    monkeypatch.setattr("dispatch.services.settlement.validate_orders", broken)
    visit = evv.visit()
    evv.post(visit.id, "check-in", evv.event(visit, when=at(9, 20)))
    r = evv.post(visit.id, "check-out", evv.event(visit, when=at(10, 20)))
    assert r.status_code == 201, r.json
    order = evv.world.db.get(WorkOrder, r.json["work_order_id"])
    assert order.status == "submitted"  # left for the batch run
    assert "left for the batch run" in caplog.text


def test_billable_minutes_are_capped_at_one_and_a_half_times_planned(evv: Evv) -> None:
    visit = evv.visit(duration_min=60)
    evv.post(visit.id, "check-in", evv.event(visit, when=at(9, 0)))
    r = evv.post(visit.id, "check-out", evv.event(visit, when=at(12, 0)))
    # 180 actual minutes, cap 60 x 1.5 = 90
    assert evv.world.db.get(WorkOrder, r.json["work_order_id"]).billable_min == 90


@pytest.mark.parametrize("outcome", ["client_absent", "refused"])
def test_failed_visit_is_recorded_without_a_work_order(evv: Evv, outcome: str) -> None:
    visit = evv.visit()
    evv.post(visit.id, "check-in", evv.event(visit, when=at(9, 20)))
    out = evv.event(visit, when=at(9, 25), outcome=outcome, note="敲门无人应答")
    r = evv.post(visit.id, "check-out", out)
    assert r.status_code == 201, r.json
    assert r.json["work_order_id"] is None
    assert evv.world.db.scalars(select(WorkOrder).where(WorkOrder.visit_id == visit.id)).all() == []
    v = evv.world.db.get(Visit, visit.id)
    assert (v.status, v.outcome) == (VisitStatus.completed, VisitOutcome(outcome))
    # The dispatcher sees what happened, with the caregiver's note.
    seen = evv.get(f"/api/v1/visits/{visit.id}/events", evv.world.p1.dispatcher)
    assert seen.status_code == 200
    assert [(e["kind"], e["outcome"]) for e in seen.json] == [
        ("check_in", None),
        ("check_out", outcome),
    ]
    assert seen.json[1]["note"] == "敲门无人应答"


def test_replay_returns_the_stored_answer_and_stores_nothing(evv: Evv) -> None:
    visit = evv.visit()
    event = evv.event(visit)
    photo = jpeg(seed=5)
    first = evv.post(visit.id, "check-in", event, photo=photo)
    assert first.status_code == 201
    before = evv.counts()
    again = evv.post(visit.id, "check-in", event, photo=photo)
    assert again.status_code == 200
    assert again.json == first.json
    assert evv.counts() == before


def test_replay_with_reordered_json_and_uppercase_uuid_is_the_same_event(evv: Evv) -> None:
    visit = evv.visit()
    event = evv.event(visit)
    photo = jpeg(seed=6)
    first = evv.post(visit.id, "check-in", event, photo=photo)
    shuffled = dict(reversed(list(event.items())))
    shuffled["idempotency_key"] = event["idempotency_key"].upper()
    again = evv.post(visit.id, "check-in", shuffled, photo=photo)
    assert (again.status_code, again.json) == (200, first.json)


@pytest.mark.parametrize(
    "change",
    [
        {"lat": 29.4},
        {"device_time": local_iso(at(9, 21))},
        {"mock_location": True},
    ],
)
def test_same_key_with_other_content_is_409(evv: Evv, change: dict[str, Any]) -> None:
    visit = evv.visit()
    event = evv.event(visit)
    photo = jpeg(seed=7)
    assert evv.post(visit.id, "check-in", event, photo=photo).status_code == 201
    before = evv.counts()
    r = evv.post(visit.id, "check-in", {**event, **change}, photo=photo)
    assert (r.status_code, r.json["code"]) == (409, "IDEMPOTENCY_KEY_REUSED")
    assert evv.counts() == before


def test_same_key_with_another_photo_is_409(evv: Evv) -> None:
    visit = evv.visit()
    event = evv.event(visit)
    assert evv.post(visit.id, "check-in", event, photo=jpeg(seed=8)).status_code == 201
    r = evv.post(visit.id, "check-in", event, photo=jpeg(seed=9))
    assert (r.status_code, r.json["code"]) == (409, "IDEMPOTENCY_KEY_REUSED")


def test_another_caregivers_key_is_never_answered_with_their_event(evv: Evv) -> None:
    w = evv.world
    other = w.caregiver_at(w.p1.provider, "CG199")
    other_user = w.user("caregiver1_9", Role.caregiver, w.p1.provider, caregiver_id=other.id)
    mine, theirs = evv.visit(), evv.visit(caregivers=(other,))
    event = evv.event(mine)
    photo = jpeg(seed=10)
    assert evv.post(mine.id, "check-in", event, photo=photo).status_code == 201
    r = evv.post(theirs.id, "check-in", event, photo=photo, user=other_user)
    assert (r.status_code, r.json["code"]) == (409, "IDEMPOTENCY_KEY_REUSED")
    assert "event_id" not in r.json


# --- the state machine --------------------------------------------------------------------


def test_live_check_out_before_check_in_is_409(evv: Evv) -> None:
    visit = evv.visit()
    before = evv.counts()
    r = evv.post(visit.id, "check-out", evv.event(visit))
    assert (r.status_code, r.json["code"]) == (409, "NOT_CHECKED_IN")
    assert evv.counts() == before


def test_second_check_in_with_a_new_key_is_409(evv: Evv) -> None:
    visit = evv.visit()
    assert evv.post(visit.id, "check-in", evv.event(visit)).status_code == 201
    r = evv.post(visit.id, "check-in", evv.event(visit, when=at(9, 30)))
    assert (r.status_code, r.json["code"]) == (409, "ALREADY_CHECKED_IN")


def test_second_check_out_with_a_new_key_is_409(evv: Evv) -> None:
    visit = evv.visit()
    evv.post(visit.id, "check-in", evv.event(visit, when=at(9, 20)))
    assert evv.post(visit.id, "check-out", evv.event(visit, when=at(10, 20))).status_code == 201
    r = evv.post(visit.id, "check-out", evv.event(visit, when=at(10, 30)))
    assert (r.status_code, r.json["code"]) == (409, "ALREADY_CHECKED_OUT")
    assert len(evv.world.db.scalars(select(WorkOrder)).all()) == 1


def test_check_out_timed_before_check_in_is_422(evv: Evv) -> None:
    visit = evv.visit()
    evv.post(visit.id, "check-in", evv.event(visit, when=at(9, 20)))
    r = evv.post(visit.id, "check-out", evv.event(visit, when=at(9, 10)))
    assert (r.status_code, r.json["code"]) == (422, "CHECKOUT_BEFORE_CHECKIN")


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (VisitStatus.cancelled, "VISIT_CANCELLED"),
        (VisitStatus.planned, "VISIT_NOT_PUBLISHED"),
        (VisitStatus.assigned, "VISIT_NOT_PUBLISHED"),
    ],
)
def test_visit_not_open_for_events_is_409(evv: Evv, status: VisitStatus, code: str) -> None:
    visit = evv.visit(status=status)
    before = evv.counts()
    r = evv.post(visit.id, "check-in", evv.event(visit))
    assert (r.status_code, r.json["code"]) == (409, code)
    assert evv.counts() == before


def test_someone_elses_visit_is_404_like_a_missing_one(evv: Evv) -> None:
    w = evv.world
    colleague = w.caregiver_at(w.p1.provider, "CG150")
    colleagues_visit = evv.visit(caregivers=(colleague,))
    foreign_visit = evv.visit(w.p2)
    before = evv.counts()
    for visit_id in (colleagues_visit.id, foreign_visit.id, 999_999):
        r = evv.post(visit_id, "check-in", evv.event(colleagues_visit))
        assert (r.status_code, r.json["code"]) == (404, "VISIT_NOT_FOUND"), visit_id
    assert evv.counts() == before


@pytest.mark.parametrize("role", ["dispatcher", "provider_admin"])
def test_only_caregivers_check_in(evv: Evv, role: str) -> None:
    visit = evv.visit()
    r = evv.post(visit.id, "check-in", evv.event(visit), user=getattr(evv.world.p1, role))
    assert (r.status_code, r.json["code"]) == (403, "FORBIDDEN")


def test_double_staffed_visit_completes_when_both_have_checked_out(evv: Evv) -> None:
    w = evv.world
    second = w.caregiver_at(w.p1.provider, "CG102", skills=("BATH",))
    second_user = w.user("caregiver1_2", Role.caregiver, w.p1.provider, caregiver_id=second.id)
    visit = evv.visit(service="BATH", caregivers=(w.p1.caregiver, second))
    assert evv.post(visit.id, "check-in", evv.event(visit, when=at(9, 20))).status_code == 201
    r = evv.post(visit.id, "check-in", evv.event(visit, when=at(9, 21)), user=second_user)
    assert r.status_code == 201
    first_out = evv.post(visit.id, "check-out", evv.event(visit, when=at(10, 20)))
    assert first_out.json["visit_status"] == "in_progress"
    assert first_out.json["work_order_id"] is not None
    second_out = evv.post(
        visit.id, "check-out", evv.event(visit, when=at(10, 22)), user=second_user
    )
    assert second_out.json["visit_status"] == "completed"
    orders = w.db.scalars(select(WorkOrder).where(WorkOrder.visit_id == visit.id)).all()
    assert sorted(o.caregiver_id for o in orders) == sorted([w.p1.caregiver.id, second.id])
    assert sorted(o.billable_min for o in orders) == [60, 61]  # 9:20-10:20, 9:21-10:22


# --- suspicious events are evidence, not errors -------------------------------------------


@pytest.mark.parametrize(
    "oddity",
    [
        {"lat": 29.40, "lon": 120.20},  # ~15 km from home
        {"mock_location": True},
        {"accuracy_m": 900.0},
        {"offline": True, "device_time": local_iso(at(9, 20) - timedelta(days=5))},
    ],
    ids=["far", "mock", "poor_gps", "late_sync"],
)
def test_suspicious_event_is_stored(evv: Evv, oddity: dict[str, Any]) -> None:
    visit = evv.visit()
    r = evv.post(visit.id, "check-in", evv.event(visit, **oddity))
    assert r.status_code == 201, r.json
    stored = evv.world.db.get(VisitEvent, r.json["event_id"])
    assert stored.mock_location == bool(oddity.get("mock_location"))


def test_device_clock_skew_is_kept_beside_receipt_time(evv: Evv) -> None:
    visit = evv.visit()
    r = evv.post(visit.id, "check-in", evv.event(visit, when=at(9, 20)))
    seen = evv.get(f"/api/v1/visits/{visit.id}/events", evv.world.p1.dispatcher).json[0]
    stored = evv.world.db.get(VisitEvent, r.json["event_id"])
    assert stored.device_time_at == at(9, 20)
    assert seen["device_time"] == "2026-11-23T09:20:00+08:00"
    assert seen["clock_skew_s"] == pytest.approx(
        (stored.received_at - stored.device_time_at).total_seconds(), abs=0.01
    )


def test_gcj02_position_is_stored_as_wgs84_with_the_raw_one(evv: Evv) -> None:
    visit = evv.visit()
    home = evv.world.p1.client
    g_lat, g_lon = wgs84_to_gcj02(home.lat, home.lon)
    # The datum shift here is hundreds of metres: a geofence would misfire without conversion.
    assert distance_m(g_lat, g_lon, home.lat, home.lon) > 300
    r = evv.post(visit.id, "check-in", evv.event(visit, lat=g_lat, lon=g_lon, crs="gcj02"))
    stored = evv.world.db.get(VisitEvent, r.json["event_id"])
    assert distance_m(stored.lat, stored.lon, home.lat, home.lon) < 0.5
    assert (stored.raw_lat, stored.raw_lon, stored.crs) == (g_lat, g_lon, "gcj02")


def test_photo_optional_when_the_service_does_not_require_one(evv: Evv) -> None:
    visit = evv.visit(service="WALK")
    r = evv.post(visit.id, "check-in", evv.event(visit), photo=None)
    assert r.status_code == 201, r.json
    assert r.json["photo_id"] is None


def test_photo_required_by_the_service(evv: Evv) -> None:
    visit = evv.visit(service="CLEAN")
    before = evv.counts()
    r = evv.post(visit.id, "check-in", evv.event(visit), photo=None)
    assert (r.status_code, r.json["code"]) == (422, "PHOTO_REQUIRED")
    assert evv.counts() == before


def test_offline_event_without_required_photo_is_kept_for_the_rules(evv: Evv) -> None:
    # The phone may have lost the photo; PHOTO_MISSING flags it, the event stays evidence.
    visit = evv.visit(service="CLEAN")
    r = evv.post(visit.id, "check-in", evv.event(visit, offline=True), photo=None)
    assert r.status_code == 201, r.json
