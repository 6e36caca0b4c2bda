"""The demo's history: the rules (not the generator) flag what went wrong; people act on it."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select

from dispatch import config
from dispatch.demo import seed_demo
from dispatch.demo.history import month_ranges, seed_history
from dispatch.demo.office import run_office
from dispatch.demo.seed import demo_providers
from dispatch.models import (
    Appeal,
    AuditEntry,
    BillingBatch,
    DayPlan,
    Flag,
    Visit,
    VisitEvent,
    WorkOrder,
)
from dispatch.rules.registry import RULES
from dispatch.services import reports
from dispatch.tenancy import SYSTEM

TODAY = date(2026, 12, 3)
DAYS = 4  # 2026-11-29 .. 2026-12-02: a whole November to bill


def _visits_flagged(db: Any, code: str) -> int:
    return int(
        db.scalar(
            select(func.count(func.distinct(WorkOrder.visit_id)))
            .join(Flag, Flag.work_order_id == WorkOrder.id)
            .where(Flag.code == code)
        )
    )


def test_history_is_flagged_by_the_rules_and_decided_by_people(db: Any) -> None:
    seed_demo(db, 7, TODAY)
    report = seed_history(db, 7, TODAY, days=DAYS)
    assert report.days == DAYS and report.orders > 800
    # Every past day has a published plan and visits done with both events.
    plans = db.scalar(select(func.count()).select_from(DayPlan).where(DayPlan.date < TODAY))
    assert plans == DAYS * len(demo_providers(db))
    done = db.scalar(select(func.count()).select_from(Visit).where(Visit.status == "completed"))
    events = db.scalar(select(func.count()).select_from(VisitEvent))
    assert events >= 2 * done > 0
    # The flags are the rules' findings: each mishap the history made is caught, once per
    # visit, and nothing else is flagged under those codes.
    assert _visits_flagged(db, "GEOFENCE_IN") == report.counts.get("far_checkin", 0) > 0
    assert _visits_flagged(db, "SHORT_VISIT") == report.counts.get("short", 0) > 0
    assert _visits_flagged(db, "MOCK_LOCATION") == report.counts.get("mock", 0)
    assert _visits_flagged(db, "PHOTO_MISSING") == report.counts.get("no_photo", 0)
    assert set(db.scalars(select(Flag.code).distinct())) <= set(RULES)
    share = report.flagged / report.orders
    # Yiwu: 4.8 % over a month; the first days of a month have fewer orders over entitlement.
    assert 0.01 <= share <= 0.09, share

    now = datetime.combine(TODAY, time(8, 30), tzinfo=config.zone())
    office = run_office(
        db, 7, TODAY, TODAY - timedelta(days=DAYS), settled_after=timedelta(0), now=now
    )
    _stamped_when_people_acted(db, now)
    assert office.rejected > 0 and office.overridden > 0 and office.approved > 0
    batches = list(db.scalars(select(BillingBatch)))
    assert len(batches) == len(demo_providers(db)) * len(
        month_ranges(TODAY - timedelta(DAYS), TODAY)
    )
    assert batches and all(b.status == "closed" and b.orders > 0 for b in batches)
    # The funnel of the period adds up.
    f = reports.funnel(db, SYSTEM, TODAY - timedelta(days=DAYS), TODAY - timedelta(days=1), None)
    assert f["generated"] == f["normal"] + f["abnormal"] > 0
    assert f["billed"] > 0


def _stamped_when_people_acted(db: Any, now: datetime) -> None:
    """Decisions, appeals and batches carry the times they would have had: after what they
    answer, before the seeding moment, in office hours; flags the time of their order."""
    orders = {o.id: o for o in db.scalars(select(WorkOrder))}
    flags = list(db.scalars(select(Flag)))
    assert flags and all(f.created_at == orders[f.work_order_id].created_at for f in flags)
    decided = [o for o in orders.values() if o.decided_at is not None]
    assert decided and all(o.end_at < o.decided_at < now for o in decided)
    for o in decided:
        local = o.decided_at.astimezone(config.zone())
        # In office hours, or (for the last days, when settled_after is 0) the seeding moment.
        assert time(9) <= local.time() <= time(17, 45) or local == now - timedelta(minutes=1)
    for f in flags:
        if f.resolved_at is not None:
            assert f.created_at < f.resolved_at < now
    appeals = list(db.scalars(select(Appeal)))
    assert appeals
    for a in appeals:
        order = orders[a.work_order_id]
        assert order.end_at < a.submitted_at < now
        assert a.decided_at is None or a.submitted_at < a.decided_at < now
    for b in db.scalars(select(BillingBatch)):
        assert b.period_end < b.created_at.astimezone(config.zone()).date()
        assert b.created_at <= b.closed_at < now
    acts = AuditEntry.action.like("work_order.%") & (AuditEntry.action != "work_order.validate")
    entries = list(db.scalars(select(AuditEntry).where(acts)))
    assert entries and all(e.at < now for e in entries)


def test_a_second_run_adds_nothing(db: Any) -> None:
    seed_demo(db, 7, TODAY)
    assert seed_history(db, 7, TODAY, days=1).orders > 0
    assert seed_history(db, 7, TODAY, days=1).orders == 0


def test_month_ranges() -> None:
    assert month_ranges(date(2026, 11, 6), date(2026, 12, 6)) == [
        (date(2026, 11, 1), date(2026, 11, 30))
    ]
    assert month_ranges(date(2026, 12, 1), date(2026, 12, 6)) == []
    assert month_ranges(date(2026, 10, 20), date(2026, 12, 1)) == [
        (date(2026, 10, 1), date(2026, 10, 31)),
        (date(2026, 11, 1), date(2026, 11, 30)),
    ]
