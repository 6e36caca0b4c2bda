"""Billing batches over HTTP: allowance, co-payment and meal lines that add up to the total;
flagged meals held until finance decides."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal
from typing import Any

from openpyxl import load_workbook

from dispatch.config import zone
from dispatch.db import utcnow
from dispatch.services import ledger
from tests.allowances.conftest import add_scheme, body, yesterday_at


def approve(http: Any, world: Any, order_id: int) -> None:
    r = http.as_user(
        "POST",
        f"/work-orders/{order_id}/decision",
        world.finance,
        json={"decision": "approve", "reason": "ok", "accept_over_entitlement": True},
    )
    assert r.status_code == 200, r.json


def test_a_batch_shows_allowance_copay_and_meal_lines_adding_up_to_its_total(
    http, world, db, verified_order, canteens
):
    add_scheme(
        db, name="低保", age_min=None, age_max=None, hardship="低保", monthly_amount_fen=5_000
    )
    ledger.open_account(db, world.p1.client).hardship = "低保"
    db.commit()
    month = f"{utcnow().astimezone(zone()):%Y-%m}"
    assert http.as_user("POST", "/allowance-grants", world.finance, json={"month": month})
    # p1's elder: 300.00 (80-89) + 50.00 (低保) = 350.00; orders of 240 + 600 minutes of CHAT
    # at 30.00/h = 120.00 + 300.00: the second one is 230.00 from the allowance, 70.00 co-paid
    other = world.client_at(world.p1.provider, "C1077", birth_date=None)  # no scheme: funder
    db.commit()
    orders = [
        verified_order(minutes=240),
        verified_order(minutes=600),
        verified_order(other, minutes=60),  # 30.00, all the funder's
    ]
    db.commit()
    for order in orders:
        approve(http, world, order.id)
    # meals at p1's canteen: the elder's lunch (then a second lunch at p2's canteen: both held
    # as DUPLICATE_MEAL) and p2's elder's dinner (3.00 subsidy, billable)
    a = http.as_device("POST", "/meals", canteens["a"]["key"], json=body())
    http.as_device(
        "POST",
        "/meals",
        canteens["b"]["key"],
        json=body(served_at=yesterday_at(12, 10), idempotency_key="b1"),
    )
    dinner = http.as_device(
        "POST",
        "/meals",
        canteens["a"]["key"],
        json=body(
            card_no=None,
            client_code=world.p2.client.code,
            slot="dinner",
            served_at=yesterday_at(17, 30),
            idempotency_key="a2",
        ),
    )
    assert dinner.json["subsidy"] == "3.00" and dinner.json["status"] == "recorded"
    today = utcnow().astimezone(zone()).date()
    period = {
        "provider_id": world.p1.provider.id,
        "period_start": str(today - timedelta(days=2)),
        "period_end": str(today),
    }
    r = http.as_user("POST", "/billing-batches", world.finance, json=period)
    assert r.status_code == 201, r.json
    batch = r.json
    assert (batch["orders"], batch["amount"]) == (3, "450.00")
    assert (batch["allowance"], batch["copay"], batch["funder"]) == ("350.00", "70.00", "30.00")
    assert (batch["meals"], batch["meal_subsidy"], batch["total"]) == (1, "3.00", "453.00")
    lines = sum(Decimal(batch[k]) for k in ("funder", "allowance", "copay", "meal_subsidy"))
    assert lines == Decimal(batch["total"])
    # finance accepts the held lunch: it joins the next batch, not this one
    r = http.as_user(
        "POST",
        f"/meals/{a.json['id']}/decision",
        world.finance,
        json={"decision": "accept", "reason": "两处用餐：家属代取"},
    )
    assert r.status_code == 200 and r.json["status"] == "recorded", r.json
    assert {f["status"] for f in r.json["flags"]} == {"overridden"}
    r = http.as_user("POST", f"/billing-batches/{batch['id']}/close", world.finance)
    assert r.status_code == 200 and r.json["total"] == "453.00"
    # the export carries the lines and the meals
    r = http.as_user("GET", f"/billing-batches/{batch['id']}/export?format=xlsx", world.finance)
    book = load_workbook(io.BytesIO(r.data), read_only=True)
    summary = {row[0]: row[1] for row in book["summary"].iter_rows(values_only=True)}
    assert Decimal(str(summary["total"])) == Decimal("453.00")
    assert Decimal(str(summary["allowance"])) == Decimal("350.00")
    meal_rows = list(book["meals"].iter_rows(values_only=True))
    assert len(meal_rows) == 2 and meal_rows[1][5] == "dinner"
    r = http.as_user("POST", "/billing-batches", world.finance, json=period)
    assert r.status_code == 201 and (r.json["orders"], r.json["meals"]) == (0, 1)
    assert r.json["total"] == r.json["meal_subsidy"] == "3.00"


def test_rejecting_an_order_in_an_open_batch_takes_its_allowance_lines_out(
    http, world, db, verified_order
):
    add_scheme(db, monthly_amount_fen=5_000)
    db.commit()
    month = f"{utcnow().astimezone(zone()):%Y-%m}"
    http.as_user("POST", "/allowance-grants", world.finance, json={"month": month})
    order = verified_order(minutes=120)  # 60.00: 50.00 allowance, 10.00 co-paid
    db.commit()
    approve(http, world, order.id)
    today = utcnow().astimezone(zone()).date()
    r = http.as_user(
        "POST",
        "/billing-batches",
        world.finance,
        json={
            "provider_id": world.p1.provider.id,
            "period_start": str(today - timedelta(days=1)),
            "period_end": str(today),
        },
    )
    assert (r.json["allowance"], r.json["copay"], r.json["funder"]) == ("50.00", "10.00", "0.00")
    r = http.as_user(
        "POST",
        f"/work-orders/{order.id}/decision",
        world.finance,
        json={"decision": "reject", "reason": "回访：未服务"},
    )
    assert r.status_code == 200
    batch = http.as_user("GET", "/billing-batches", world.finance).json[0]
    assert (batch["orders"], batch["allowance"], batch["copay"], batch["total"]) == (
        0,
        "0.00",
        "0.00",
        "0.00",
    )
