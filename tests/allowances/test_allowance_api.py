"""Allowances over HTTP: schemes, the grant run, debits on approval, co-payments, reversals,
statements and the month close."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from dispatch.db import utcnow
from dispatch.models import AllowanceEntry, AllowanceScheme
from dispatch.services.entitlements import month_of
from dispatch.services.ledger import add_months
from tests.allowances.conftest import add_scheme

# Months relative to today: the ledger refuses to close a month that is not over.
THIS = f"{month_of(utcnow()):%Y-%m}"
LAST = f"{add_months(month_of(utcnow()), -1):%Y-%m}"

SCHEME = {
    "name": "高龄电子津贴 80-89 岁",
    "age_min": 80,
    "age_max": 89,
    "monthly_amount": "100.00",
    "services": ["CHAT", "CLEAN"],
    "carry_over_months": 0,
}


def schemes(db: Any) -> int:
    return int(db.scalar(select(func.count()).select_from(AllowanceScheme)) or 0)


def test_admin_adds_schemes_by_age_band(http, world, db):
    r = http.as_user("POST", "/allowance-schemes", world.admin, json=SCHEME)
    assert r.status_code == 201, r.json
    assert r.json["monthly_amount"] == "100.00" and r.json["services"] == ["CHAT", "CLEAN"]
    r = http.as_user(
        "POST",
        "/allowance-schemes",
        world.admin,
        json={**SCHEME, "name": "90-99", "age_min": 90, "age_max": 99, "monthly_amount": "200"},
    )
    assert r.status_code == 201 and r.json["monthly_amount"] == "200.00"
    r = http.as_user("GET", "/allowance-schemes", world.finance)
    assert [s["age_min"] for s in r.json] == [80, 90]


def test_overlapping_age_bands_are_refused_and_nothing_stored(http, world, db):
    assert http.as_user("POST", "/allowance-schemes", world.admin, json=SCHEME).status_code == 201
    before = schemes(db)
    # 85..94 shares 85..89 with the 80..89 band: an 86-year-old would be paid twice.
    r = http.as_user(
        "POST", "/allowance-schemes", world.admin, json={**SCHEME, "age_min": 85, "age_max": 94}
    )
    assert r.status_code == 422 and r.json["code"] == "ALLOWANCE_SCHEME_OVERLAP"
    assert "age_min" in r.json["errors"]
    assert schemes(db) == before
    # the same ages for a hardship category are another scheme, not an overlap
    r = http.as_user("POST", "/allowance-schemes", world.admin, json={**SCHEME, "hardship": "低保"})
    assert r.status_code == 201


def test_negative_amounts_and_reversed_bands_are_refused(http, world, db):
    for body in (
        {**SCHEME, "monthly_amount": "-1.00"},
        {**SCHEME, "meal_subsidy": "-0.01"},
        {**SCHEME, "age_min": 90, "age_max": 80},
        {**SCHEME, "services": ["NOPE"]},
    ):
        r = http.as_user("POST", "/allowance-schemes", world.admin, json=body)
        assert r.status_code == 422 and r.json["code"], (body, r.json)
    assert schemes(db) == 0


def test_only_admin_writes_schemes(http, world):
    r = http.as_user("POST", "/allowance-schemes", world.finance, json=SCHEME)
    assert r.status_code == 403


def test_approval_debits_the_account_and_shows_the_copay_when_short(
    http, world, db, verified_order
):
    add_scheme(db, monthly_amount_fen=5_000)  # 50.00 CNY a month; the client is 86
    db.commit()
    r = http.as_user("POST", "/allowance-grants", world.finance, json={"month": THIS})
    assert r.status_code == 201 and r.json["entries"] == 2 and r.json["granted"] == "100.00"
    # repeating the grant run grants nothing more
    r = http.as_user("POST", "/allowance-grants", world.finance, json={"month": THIS})
    assert r.json["entries"] == 0
    client_id = world.p1.client.id
    # 90 min of CHAT at 30.00/h = 45.00; the balance is 50.00 (p2's elder has their own)
    first = verified_order(minutes=90)
    second = verified_order(minutes=60)  # 30.00, but only 5.00 is left: 25.00 co-payment
    db.commit()
    for order in (first, second):
        r = http.as_user(
            "POST",
            f"/work-orders/{order.id}/decision",
            world.finance,
            json={"decision": "approve", "reason": "ok", "accept_over_entitlement": True},
        )
        assert r.status_code == 200, r.json
    r = http.as_user("GET", f"/clients/{client_id}/allowance?month={THIS}", world.finance)
    assert r.status_code == 200, r.json
    s = r.json
    assert (s["opening"], s["granted"], s["debited"], s["copay"], s["closing"]) == (
        "0.00",
        "50.00",
        "50.00",
        "25.00",
        "0.00",
    )
    debits = [e for e in s["entries"] if e["kind"] == "debit"]
    assert [(e["amount"], e["copay"], e["order_amount"]) for e in debits] == [
        ("-45.00", "0.00", "45.00"),
        ("-5.00", "25.00", "30.00"),
    ]
    # reversing the second approval gives its 5.00 back and cancels its co-payment
    r = http.as_user(
        "POST",
        f"/work-orders/{second.id}/decision",
        world.finance,
        json={"decision": "reject", "reason": "回访：服务未发生"},
    )
    assert r.status_code == 200, r.json
    s = http.as_user("GET", f"/clients/{client_id}/allowance?month={THIS}", world.finance).json
    assert (s["credited"], s["copay"], s["closing"], s["balance"]) == (
        "5.00",
        "0.00",
        "5.00",
        "5.00",
    )


def test_a_service_the_scheme_does_not_pay_leaves_the_account_alone(
    http, world, db, verified_order
):
    add_scheme(db)
    db.commit()
    http.as_user("POST", "/allowance-grants", world.finance, json={"month": THIS})
    order = verified_order(service="WALK")
    db.commit()
    r = http.as_user(
        "POST",
        f"/work-orders/{order.id}/decision",
        world.finance,
        json={"decision": "approve", "reason": "ok", "accept_over_entitlement": True},
    )
    assert r.status_code == 200
    kinds = db.scalars(select(AllowanceEntry.kind).where(AllowanceEntry.work_order_id == order.id))
    assert list(kinds) == []


def test_statement_of_another_providers_elder_is_404(http, world, db):
    r = http.as_user("GET", f"/clients/{world.p2.client.id}/allowance", world.p1.dispatcher)
    assert r.status_code == 404
    r = http.as_user("GET", f"/clients/{world.p1.client.id}/allowance", world.p1.dispatcher)
    assert r.status_code == 200 and r.json["balance"] == "0.00"


def test_bad_month_is_coded(http, world):
    r = http.as_user("POST", "/allowance-months/2026-13/close", world.finance)
    assert r.status_code == 422 and r.json["code"] == "INVALID_MONTH"
    r = http.as_user("GET", f"/clients/{world.p1.client.id}/allowance?month=26-1", world.finance)
    assert r.status_code == 422


def test_month_close_expires_unspent_grants_and_freezes_the_month(http, world, db):
    # carry-over 0: November's 300.00 may be spent in November only
    add_scheme(db, carry_over_months=0)
    db.commit()
    r = http.as_user("POST", "/allowance-grants", world.finance, json={"month": LAST})
    assert r.status_code == 201
    r = http.as_user("POST", f"/allowance-months/{THIS}/close", world.finance)
    assert r.status_code == 409 and r.json["code"] == "ALLOWANCE_MONTH_NOT_OVER"
    r = http.as_user("POST", f"/allowance-months/{LAST}/close", world.finance)
    assert r.status_code == 200, r.json
    assert r.json["expired"] == "600.00" and r.json["month"] == LAST
    s = http.as_user(
        "GET", f"/clients/{world.p1.client.id}/allowance?month={LAST}", world.finance
    ).json
    assert (s["granted"], s["expired"], s["closing"], s["closed"]) == (
        "300.00",
        "300.00",
        "0.00",
        True,
    )
    before = db.scalar(select(func.count()).select_from(AllowanceEntry))
    r = http.as_user("POST", "/allowance-grants", world.finance, json={"month": LAST})
    assert r.status_code == 409 and r.json["code"] == "ALLOWANCE_MONTH_CLOSED"
    r = http.as_user("POST", f"/allowance-months/{LAST}/close", world.finance)
    assert r.status_code == 409 and r.json["code"] == "ALLOWANCE_MONTH_CLOSED"
    assert db.scalar(select(func.count()).select_from(AllowanceEntry)) == before
    r = http.as_user("GET", "/allowance-months", world.finance)
    assert [m["month"] for m in r.json] == [LAST]
