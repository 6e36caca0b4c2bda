"""Fixtures of the allowance and meal tests: a scheme, elders with accounts, small helpers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from dispatch.config import zone
from dispatch.db import utcnow
from dispatch.models import (
    AllowanceScheme,
    Client,
    Meal,
    ServicePoint,
    ServicePointKind,
    WorkOrder,
    WorkOrderSource,
    WorkOrderStatus,
)
from dispatch.services import devices, ledger
from dispatch.tenancy import Actor
from tests.conftest import World


@pytest.fixture
def world(world: World, db: Any) -> World:
    # See tests/api/conftest.py: commit into the per-test outer transaction.
    db.commit()
    return world


def add_scheme(db: Any, **kw: Any) -> AllowanceScheme:
    """高龄 80-89: 300.00 CNY a month for CLEAN and CHAT, one month's carry-over."""
    values: dict[str, Any] = {
        "name": "高龄电子津贴 80-89",
        "age_min": 80,
        "age_max": 89,
        "monthly_amount_fen": 30_000,
        "meal_subsidy_fen": 300,
        "services": ["CHAT", "CLEAN"],
        "carry_over_months": 1,
    }
    values.update(kw)
    scheme = AllowanceScheme(**values)
    db.add(scheme)
    db.flush()
    return scheme


OrderMaker = Callable[..., WorkOrder]


@pytest.fixture
def verified_order(world: World, db: Any) -> OrderMaker:
    """A verified timesheet order of p1's caregiver at ``client`` (CHAT: 30.00 CNY an hour)."""
    seq = iter(range(1, 10**6))

    def make(
        client: Client | None = None,
        *,
        start: datetime | None = None,
        minutes: int = 60,
        service: str = "CHAT",
    ) -> WorkOrder:
        client = client or world.p1.client
        start = start or utcnow() - timedelta(hours=2)
        order = WorkOrder(
            provider_id=client.provider_id,
            client_id=client.id,
            caregiver_id=world.p1.caregiver.id,
            service_type_id=world.services[service].id,
            source=WorkOrderSource.timesheet,
            external_id=f"AL{next(seq)}",
            start_at=start,
            end_at=start + timedelta(minutes=minutes),
            billable_min=minutes,
            status=WorkOrderStatus.verified,
        )
        db.add(order)
        db.flush()
        return order

    return make


CARD = "330100194005010021"


def yesterday_at(hh: int, mm: int) -> str:
    day = (utcnow().astimezone(zone()) - timedelta(days=1)).date()
    return datetime.combine(day, time(hh, mm), tzinfo=zone()).isoformat()


def meals(db: Any) -> int:
    return int(db.scalar(select(func.count()).select_from(Meal)) or 0)


@pytest.fixture
def canteens(world, db) -> dict[str, Any]:
    """A canteen of each provider with a terminal; p1's elder carries a card; 3.00 subsidy."""
    add_scheme(db, meal_subsidy_fen=300)
    out: dict[str, Any] = {}
    for name, tenant in (("a", world.p1), ("b", world.p2)):
        point = ServicePoint(
            provider_id=tenant.provider.id,
            code=f"CT{name}",
            name=f"阳光食堂 {name}",
            kind=ServicePointKind.canteen,
            lat=29.3,
            lon=120.07,
        )
        db.add(point)
        db.flush()
        actor = Actor(
            user_id=tenant.dispatcher.id,
            role=tenant.dispatcher.role,
            provider_id=tenant.provider.id,
        )
        device, key = devices.register(
            db, actor, {"kind": "canteen_terminal", "service_point_id": point.id, "label": name}
        )
        out[name] = {"point": point, "key": key, "device": device}
    ledger.open_account(db, world.p1.client).card_no = CARD
    db.commit()
    return out


def body(**kw: Any) -> dict[str, Any]:
    values = {
        "card_no": CARD,
        "served_at": yesterday_at(11, 30),
        "slot": "lunch",
        "method": "card",
        "idempotency_key": "a1b2c3",
    }
    values.update(kw)
    return {k: v for k, v in values.items() if v is not None}
