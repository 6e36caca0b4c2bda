"""POST /api/v1/sync: offline batches lose nothing, count nothing twice, ignore arrival order."""

from __future__ import annotations

import itertools
import random
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from dispatch.models import Visit, VisitEvent, WorkOrder
from tests.evv.conftest import DAY, Evv, at, jpeg, local_iso


def _week(evv: Evv, seed: int) -> tuple[list[Visit], list[dict[str, Any]], dict[str, bytes]]:
    """A week's offline queue: two visits a day, each checked in and out with photos.

    Every fourth visit ends client_absent. Photos are unique per event (``seed`` keeps them
    unique across examples that share the test transaction).
    """
    visits: list[Visit] = []
    events: list[dict[str, Any]] = []
    photos: dict[str, bytes] = {}
    for d in range(7):
        day = DAY - timedelta(days=6 - d)
        for slot, hour in enumerate((9, 14)):
            visit = evv.visit(day=day, start_hour=hour, sequence=slot + 1, duration_min=60)
            visits.append(visit)
            n = len(visits)
            absent = n % 4 == 0
            for kind, minute in (("check_in", 10), ("check_out", 70 if not absent else 15)):
                name = f"p{n}{kind}"
                photos[name] = jpeg(seed=seed * 31 + n * 2 + (kind == "check_out"), size=(40, 30))
                event = evv.event(
                    visit,
                    when=at(hour, day=day) + timedelta(minutes=minute),
                    offline=True,
                    visit_id=visit.id,
                    kind=kind,
                    photo=name,
                )
                if kind == "check_out":
                    event["outcome"] = "client_absent" if absent else "completed"
                events.append(event)
    return visits, events, photos


def _state(evv: Evv, visits: list[Visit]) -> list[tuple[Any, ...]]:
    """The final state by position in the week, free of ids."""
    db = evv.world.db
    out = []
    for v in visits:
        row = db.get(Visit, v.id)
        db.refresh(row)
        events = db.scalars(
            select(VisitEvent).where(VisitEvent.visit_id == v.id).order_by(VisitEvent.kind)
        ).all()
        orders = db.scalars(select(WorkOrder).where(WorkOrder.visit_id == v.id)).all()
        out.append(
            (
                str(row.status),
                str(row.outcome),
                tuple((str(e.kind), e.device_time_at, e.lat, e.lon) for e in events),
                tuple((o.start_at, o.end_at, o.billable_min, str(o.source)) for o in orders),
            )
        )
    return out


def _expected(visits: list[Visit]) -> list[tuple[str, str, int, tuple[int, ...]]]:
    return [
        ("completed", "client_absent", 2, ())
        if (i + 1) % 4 == 0
        else ("completed", "completed", 2, (60,))  # check-in :10, check-out :70 -> 60 min
        for i, _ in enumerate(visits)
    ]


def _summary(state: list[tuple[Any, ...]]) -> list[tuple[str, str, int, tuple[int, ...]]]:
    return [(s, o, len(ev), tuple(w[2] for w in orders)) for s, o, ev, orders in state]


@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(order=st.randoms(use_true_random=False), chunks=st.integers(1, 4))
def test_any_arrival_order_of_a_weeks_queue_gives_the_same_state(
    evv: Evv, order: random.Random, chunks: int
) -> None:
    seed = order.randrange(1_000_000)
    visits, events, photos = _week(evv, seed)
    shuffled = events[:]
    order.shuffle(shuffled)
    # Split the shuffled queue into batches: a check-out may arrive before its check-in.
    cut = sorted(order.sample(range(1, len(shuffled)), chunks - 1)) if chunks > 1 else []
    bounds = [0, *cut, len(shuffled)]
    for a, b in itertools.pairwise(bounds):
        part = shuffled[a:b]
        r = evv.sync(part, {e["photo"]: photos[e["photo"]] for e in part})
        assert r.status_code == 200, r.json
        assert [x["status"] for x in r.json["results"]] == ["created"] * len(part), r.json
    state = _state(evv, visits)
    assert _summary(state) == _expected(visits)
    # The whole queue again, in yet another order: all duplicates, nothing changes.
    again = events[:]
    order.shuffle(again)
    before = evv.counts()
    r = evv.sync(again, photos)
    assert {x["status"] for x in r.json["results"]} == {"duplicate"}
    assert evv.counts() == before
    assert _state(evv, visits) == state


def test_results_are_in_request_order_and_one_bad_event_sinks_nothing(evv: Evv) -> None:
    w = evv.world
    mine = evv.visit(duration_min=60)
    foreign = evv.visit(w.p2)
    check_in = evv.event(mine, when=at(9, 10), visit_id=mine.id, kind="check_in", photo="a")
    check_out = evv.event(
        mine, when=at(10, 5), visit_id=mine.id, kind="check_out", photo="b", outcome="completed"
    )
    bad_lat = evv.event(mine, lat=123.0, visit_id=mine.id, kind="check_in")
    not_mine = evv.event(foreign, visit_id=foreign.id, kind="check_in", photo="a")
    no_part = evv.event(mine, visit_id=mine.id, kind="check_in", photo="missing")
    batch = [check_out, bad_lat, not_mine, check_in, no_part, check_in, "garbage"]
    r = evv.sync(batch, {"a": jpeg(seed=21), "b": jpeg(seed=22)})  # type: ignore[list-item]
    assert r.status_code == 200, r.json
    results = r.json["results"]
    assert [x["idempotency_key"] for x in results[:6]] == [
        e["idempotency_key"]
        for e in batch[:6]  # type: ignore[index]
    ]
    assert [x["status"] for x in results] == [
        "created",
        "rejected",
        "rejected",
        "created",
        "rejected",
        "duplicate",
        "rejected",
    ]
    assert results[1]["error"]["code"] == "VALIDATION_ERROR"
    assert "lat" in results[1]["error"]["errors"]
    assert results[2]["error"]["code"] == "VISIT_NOT_FOUND"
    assert results[4]["error"]["code"] == "PHOTO_PART_MISSING"
    assert results[5]["event_id"] == results[3]["event_id"]
    assert results[6]["idempotency_key"] is None
    orders = w.db.scalars(select(WorkOrder).where(WorkOrder.visit_id == mine.id)).all()
    assert [o.billable_min for o in orders] == [55]  # 09:10 -> 10:05
    assert w.db.scalar(select(func.count()).select_from(VisitEvent)) == 2


def test_offline_check_out_alone_waits_for_its_check_in(evv: Evv) -> None:
    visit = evv.visit(duration_min=60)
    out = evv.event(
        visit, when=at(10, 0), visit_id=visit.id, kind="check_out", photo="b", offline=True
    )
    r = evv.sync([out], {"b": jpeg(seed=31)})
    assert r.json["results"][0]["status"] == "created"
    assert evv.world.db.scalars(select(WorkOrder)).all() == []
    assert evv.world.db.get(Visit, visit.id).status == "in_progress"
    inn = evv.event(
        visit, when=at(9, 0), visit_id=visit.id, kind="check_in", photo="a", offline=True
    )
    r = evv.sync([inn], {"a": jpeg(seed=32)})
    assert r.json["results"][0]["status"] == "created"
    orders = evv.world.db.scalars(select(WorkOrder)).all()
    assert [(o.start_at, o.end_at, o.billable_min) for o in orders] == [(at(9), at(10), 60)]
    assert evv.world.db.get(Visit, visit.id).status == "completed"


def test_late_check_in_after_its_offline_check_out_is_422(evv: Evv) -> None:
    visit = evv.visit()
    out = evv.event(visit, when=at(10), visit_id=visit.id, kind="check_out", offline=True)
    evv.sync([out], {})
    inn = evv.event(visit, when=at(10, 30), visit_id=visit.id, kind="check_in", offline=True)
    r = evv.sync([inn], {})
    assert r.json["results"][0]["error"]["code"] == "CHECKOUT_BEFORE_CHECKIN"


def test_same_key_other_content_in_sync_is_rejected_409_code(evv: Evv) -> None:
    visit = evv.visit(service="WALK")
    event = evv.event(visit, visit_id=visit.id, kind="check_in")
    assert evv.sync([event]).json["results"][0]["status"] == "created"
    r = evv.sync([{**event, "lat": event["lat"] + 0.01}])
    assert r.json["results"][0]["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_live_event_replayed_through_sync_is_a_duplicate(evv: Evv) -> None:
    visit = evv.visit()
    photo = jpeg(seed=41)
    event = evv.event(visit)
    first = evv.post(visit.id, "check-in", event, photo=photo)
    r = evv.sync(
        [{**event, "visit_id": visit.id, "kind": "check_in", "photo": "p", "offline": True}],
        {"p": photo},
    )
    assert r.json["results"][0] == {
        "idempotency_key": event["idempotency_key"],
        "status": "duplicate",
        "event_id": first.json["event_id"],
        "error": None,
    }


def test_sync_events_not_json_is_422(evv: Evv) -> None:
    r = evv.sync("[{broken")
    assert (r.status_code, r.json["code"]) == (422, "MALFORMED_JSON")


def test_sync_events_not_a_list_is_422(evv: Evv) -> None:
    r = evv.sync('{"visit_id": 1}')
    assert (r.status_code, r.json["code"]) == (422, "VALIDATION_ERROR")


def test_sync_batch_too_large_is_413(evv: Evv) -> None:
    visit = evv.visit()
    many = [evv.event(visit, visit_id=visit.id, kind="check_in") for _ in range(501)]
    before = evv.counts()
    r = evv.sync(many)
    assert (r.status_code, r.json["code"]) == (413, "SYNC_BATCH_TOO_LARGE")
    assert evv.counts() == before


def test_sync_bad_photo_rejects_only_its_event(evv: Evv) -> None:
    a, b = evv.visit(), evv.visit(start_hour=13)
    good = evv.event(a, visit_id=a.id, kind="check_in", photo="good")
    bad = evv.event(b, visit_id=b.id, kind="check_in", photo="bad")
    r = evv.sync([good, bad], {"good": jpeg(seed=51), "bad": b"not an image"})
    assert [x["status"] for x in r.json["results"]] == ["created", "rejected"]
    assert r.json["results"][1]["error"]["code"] == "PHOTO_NOT_IMAGE"


def test_check_in_fields_on_a_sync_check_in_are_rejected(evv: Evv) -> None:
    visit = evv.visit()
    event = evv.event(visit, visit_id=visit.id, kind="check_in", note="x")
    r = evv.sync([event])
    assert r.json["results"][0]["error"]["errors"] == {"note": ["Only a check-out carries this."]}


def test_device_time_in_sync_keeps_local_offset(evv: Evv) -> None:
    visit = evv.visit(service="WALK")
    event = evv.event(visit, visit_id=visit.id, kind="check_in")
    event["device_time"] = local_iso(at(9, 20))
    evv.sync([event])
    stored = evv.world.db.scalars(select(VisitEvent)).one()
    assert stored.device_time_at == at(9, 20)
