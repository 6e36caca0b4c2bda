"""The engine: idempotent flags, closing with a reason, batch equals incremental, frozen orders."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from dispatch.models import Flag, RuleSetting, WorkOrderStatus
from dispatch.validation.engine import validate_orders, validate_period
from tests.factories import T0, Builder


def _all_flags(db) -> list[tuple]:
    return sorted(
        (f.work_order_id, f.code, f.other_work_order_id, f.status.value, f.severity.value)
        for f in db.scalars(select(Flag))
    )


def test_rerun_creates_no_duplicate(b: Builder, db) -> None:
    a = b.order(minutes=30)  # SHORT_VISIT
    o = b.order(start=T0 + timedelta(minutes=10))  # OVERLAP + DUPLICATE with a
    before = _all_flags(db)
    validate_orders(db, [a.id, o.id])
    validate_orders(db, [o.id])
    assert _all_flags(db) == before
    assert len(before) == len(set((f[0], f[1], f[2]) for f in before))


def test_flag_that_no_longer_holds_is_closed_with_reason(b: Builder, db) -> None:
    a = b.order()
    o = b.order(start=T0 + timedelta(minutes=10))
    assert "OVERLAP" in b.codes(a)
    # the later order is corrected: it now starts after a ends
    o.start_at, o.end_at = T0 + timedelta(hours=2), T0 + timedelta(hours=2, minutes=45)
    db.flush()
    validate_orders(db, [o.id])
    closed = b.flags(a, status="closed")["OVERLAP"]
    assert closed.resolution.startswith("no longer holds")
    assert b.status(a) == b.status(o) == "verified"


def test_threshold_change_then_batch_closes_and_reopens(b: Builder, db) -> None:
    o = b.order(minutes=30)  # 30 < 45 × 0.67 = 30.15
    assert "SHORT_VISIT" in b.codes(o)
    db.add(RuleSetting(code="SHORT_VISIT", threshold=0.6))  # 30 >= 45 × 0.6 = 27
    db.flush()
    validate_period(db, T0 - timedelta(days=1), T0 + timedelta(days=1))
    assert "SHORT_VISIT" in b.flags(o, status="closed")
    assert b.status(o) == "verified"
    db.get(RuleSetting, "SHORT_VISIT").threshold = 0.67
    db.flush()
    validate_period(db, T0 - timedelta(days=1), T0 + timedelta(days=1))
    flags = b.flags(o, status=None)
    assert flags["SHORT_VISIT"].status.value == "open"  # the same row, reopened
    assert len(db.scalars(select(Flag).where(Flag.work_order_id == o.id)).all()) == 1


def test_disabled_rule_closes_its_flags(b: Builder, db) -> None:
    o = b.order(minutes=30)
    db.add(RuleSetting(code="SHORT_VISIT", enabled=False))
    db.flush()
    validate_orders(db, [o.id])
    assert "disabled" in b.flags(o, status="closed")["SHORT_VISIT"].resolution


def test_overridden_flag_stays_overridden(b: Builder, db) -> None:
    o = b.order(minutes=30)
    f = b.flags(o)["SHORT_VISIT"]
    f.status = "overridden"
    db.flush()
    validate_orders(db, [o.id])
    validate_period(db, T0 - timedelta(days=1), T0 + timedelta(days=1))
    assert b.flags(o, status="overridden")["SHORT_VISIT"].id == f.id
    assert b.status(o) == "verified"


def test_batch_gives_the_same_flags_as_incremental(b: Builder, world, db) -> None:
    far = world.client_at(world.p1.provider, "C1009", lat=29.3069 + 0.045)
    b.order(minutes=30)
    b.order(start=T0 + timedelta(minutes=10))
    b.order(client=far, start=T0 + timedelta(minutes=60))
    b.order(checkin={"north_m": 400}, start=T0 + timedelta(hours=4))
    incremental = _all_flags(db)
    db.execute(Flag.__table__.delete())
    validate_period(db, T0 - timedelta(days=1), T0 + timedelta(days=1))
    assert _all_flags(db) == incremental
    assert incremental


def test_frozen_orders_keep_status_and_flags(b: Builder, db) -> None:
    a = b.order()
    a.status = WorkOrderStatus.approved
    db.flush()
    o = b.order(start=T0 + timedelta(minutes=10))
    assert "OVERLAP" in b.codes(o)  # the new order is held ...
    assert "OVERLAP" not in b.codes(a)  # ... the approved one is not touched
    assert b.status(a) == "approved"


def test_late_arrival_between_two_orders_updates_the_travel_pair(b: Builder, world) -> None:
    # a 09:00-09:45 at home A, c 10:30-11:15 at B 5 km away (26 min travel, 45 min gap: fine)
    far = world.client_at(world.p1.provider, "C1009", lat=29.3069 + 0.045)
    a = b.order()
    c = b.order(client=far, start=T0 + timedelta(minutes=90))
    assert "IMPOSSIBLE_TRAVEL" not in b.codes(a) | b.codes(c)
    # an order at A arrives for 10:00-10:20: now A(10:20) -> B(10:30) is a 10 min gap
    mid = b.order(start=T0 + timedelta(minutes=60), minutes=20, validate=True)
    assert b.flags(c)["IMPOSSIBLE_TRAVEL"].other_work_order_id == mid.id
