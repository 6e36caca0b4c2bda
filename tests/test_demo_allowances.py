"""The Done-when of #19 through HTTP on the demo: the demo's logins, schemes, accounts and
canteen terminals (their printed keys)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from dispatch.config import zone
from dispatch.db import utcnow
from dispatch.demo import PASSWORD, seed_demo
from dispatch.demo.allowances import seed_allowances, terminal_keys
from dispatch.models import (
    AllowanceAccount,
    Caregiver,
    Client,
    Meal,
    ServiceType,
    WorkOrder,
    WorkOrderSource,
    WorkOrderStatus,
)


def login(client: Any, username: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.json
    return {"Authorization": f"Bearer {r.json['access_token']}"}


def test_allowances_and_meals_on_the_demo(app: Any, client: Any, db: Any) -> None:
    local = utcnow().astimezone(zone())
    today = local.date()
    seed_demo(db, 7, today)
    report = seed_allowances(db, 7, today, days=2)
    assert report.schemes == 4 and report.grants > 0 and report.terminals >= 3
    keys = terminal_keys(db, 7)
    assert len(keys) == report.terminals
    # an elder with an allowance balance, and an order bigger than it: 8 hours of BATH
    account = db.scalars(
        select(AllowanceAccount)
        .where(AllowanceAccount.balance_fen > 0)
        .order_by(AllowanceAccount.balance_fen, AllowanceAccount.id)
    ).first()
    elder = db.get(Client, account.client_id)
    caregiver = db.scalars(
        select(Caregiver).where(Caregiver.provider_id == elder.provider_id)
    ).first()
    bath = db.scalars(select(ServiceType).where(ServiceType.code == "BATH")).one()
    start = utcnow() - timedelta(hours=9)
    order = WorkOrder(
        provider_id=elder.provider_id,
        client_id=elder.id,
        caregiver_id=caregiver.id,
        service_type_id=bath.id,
        source=WorkOrderSource.timesheet,
        external_id="DEMO-ALLOWANCE-1",
        start_at=start,
        end_at=start + timedelta(hours=8),
        billable_min=480,
        status=WorkOrderStatus.verified,
    )
    db.add(order)
    db.commit()
    balance = account.balance_fen
    amount = int(bath.rate * 8 * 100)
    finance = login(client, "finance")
    r = client.post(
        f"/api/v1/work-orders/{order.id}/decision",
        headers=finance,
        json={"decision": "approve", "reason": "核验通过", "accept_over_entitlement": True},
    )
    assert r.status_code == 200, r.json
    s = client.get(f"/api/v1/clients/{elder.id}/allowance", headers=finance).json
    (debit,) = [e for e in s["entries"] if e["work_order_id"] == order.id]
    assert Decimal(debit["amount"]) == -Decimal(balance) / 100
    assert Decimal(debit["copay"]) == Decimal(amount - balance) / 100 > 0
    assert s["balance"] == "0.00"

    # the terminal's retry is one meal; the same elder at a second canteen is a duplicate
    (first_canteen, key1), (_, key2) = keys[0], keys[1]
    lunch = datetime.combine(today - timedelta(days=1), time(11, 40), tzinfo=zone())
    meal = {
        "card_no": account.card_no,
        "served_at": lunch.isoformat(),
        "slot": "lunch",
        "method": "card",
        "idempotency_key": "demo-retry-1",
    }
    count = db.scalar(select(func.count()).select_from(Meal))
    a = client.post("/api/v1/meals", headers={"X-Device-Key": key1}, json=meal)
    b = client.post("/api/v1/meals", headers={"X-Device-Key": key1}, json=meal)
    assert (a.status_code, b.status_code) == (201, 200) and a.json["id"] == b.json["id"]
    assert db.scalar(select(func.count()).select_from(Meal)) == count + 1
    later = {
        **meal,
        "served_at": (lunch + timedelta(minutes=25)).isoformat(),
        "idempotency_key": "x",
    }
    c = client.post("/api/v1/meals", headers={"X-Device-Key": key2}, json=later)
    assert c.status_code == 201, c.json
    assert "DUPLICATE_MEAL" in {f["code"] for f in c.json["flags"]}

    # the elder's provider's batch: allowance, co-payment and meal lines add up to the total
    r = client.post(
        "/api/v1/billing-batches",
        headers=finance,
        json={
            "provider_id": elder.provider_id,
            "period_start": str(today - timedelta(days=3)),
            "period_end": str(today),
        },
    )
    assert r.status_code == 201, r.json
    batch = r.json
    assert Decimal(batch["allowance"]) == Decimal(balance) / 100
    assert Decimal(batch["copay"]) == Decimal(amount - balance) / 100
    assert batch["meals"] > 0 and Decimal(batch["meal_subsidy"]) >= 0
    lines = sum(Decimal(batch[k]) for k in ("funder", "allowance", "copay", "meal_subsidy"))
    assert (
        lines
        == Decimal(batch["total"])
        == Decimal(batch["amount"]) + Decimal(batch["meal_subsidy"])
    )
    assert first_canteen
