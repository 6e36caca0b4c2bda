"""The demo's history: the rules (not the generator) flag what went wrong; people act on it."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from dispatch.demo import seed_demo
from dispatch.demo.history import month_ranges, seed_history
from dispatch.demo.office import run_office
from dispatch.demo.seed import demo_providers
from dispatch.models import BillingBatch, DayPlan, Flag, Visit, VisitEvent, WorkOrder
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

    office = run_office(db, 7, TODAY, TODAY - timedelta(days=DAYS), settled_after=timedelta(0))
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
