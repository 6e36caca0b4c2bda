"""Canteen meals over HTTP: terminals' keys, the retry that is one meal, DUPLICATE_MEAL across
canteens, MEAL_OUTSIDE_HOURS, the subsidy, and bad input that stores nothing."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import event

from dispatch import db as dbmod
from dispatch.config import zone
from dispatch.db import utcnow
from dispatch.services import devices, ledger
from dispatch.services.entitlements import month_of
from dispatch.tenancy import Actor
from tests.allowances.conftest import body, meals, yesterday_at


def test_a_terminal_records_a_meal_with_the_elders_subsidy(http, canteens, db):
    r = http.as_device("POST", "/meals", canteens["a"]["key"], json=body())
    assert r.status_code == 201, r.json
    # default lunch 15.00; the elder's scheme pays 3.00 a meal
    assert (r.json["price"], r.json["subsidy"], r.json["price_to_pay"]) == (
        "15.00",
        "3.00",
        "12.00",
    )
    assert r.json["client_id"] and r.json["status"] == "recorded" and r.json["flags"] == []


def test_the_terminals_retry_is_one_meal(http, canteens, db):
    first = http.as_device("POST", "/meals", canteens["a"]["key"], json=body())
    again = http.as_device("POST", "/meals", canteens["a"]["key"], json=body())
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json == first.json and meals(db) == 1
    other = http.as_device(
        "POST", "/meals", canteens["a"]["key"], json=body(served_at=yesterday_at(12, 0))
    )
    assert other.status_code == 409 and other.json["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert meals(db) == 1


def test_the_same_elder_at_a_second_canteen_in_the_same_slot_is_a_duplicate(http, canteens, world):
    first = http.as_device("POST", "/meals", canteens["a"]["key"], json=body())
    # p2's canteen, the same lunch, 40 minutes later: any canteen of the city counts
    second = http.as_device(
        "POST",
        "/meals",
        canteens["b"]["key"],
        json=body(served_at=yesterday_at(12, 10), idempotency_key="b-1"),
    )
    assert second.status_code == 201, second.json
    (flag,) = second.json["flags"]
    assert flag["code"] == "DUPLICATE_MEAL" and flag["severity"] == "block"
    assert flag["evidence"]["other_meal_id"] == first.json["id"]
    assert flag["evidence"]["minutes_apart"] == 40 and second.json["status"] == "flagged"
    r = http.as_user("GET", f"/meals/{first.json['id']}", world.p1.dispatcher)
    assert [f["code"] for f in r.json["flags"]] == ["DUPLICATE_MEAL"]
    # p1 does not see p2's canteen's meal
    r = http.as_user("GET", f"/meals/{second.json['id']}", world.p1.dispatcher)
    assert r.status_code == 404


def test_lunch_and_dinner_of_one_day_are_no_duplicate(http, canteens):
    http.as_device("POST", "/meals", canteens["a"]["key"], json=body())
    r = http.as_device(
        "POST",
        "/meals",
        canteens["b"]["key"],
        json=body(served_at=yesterday_at(17, 30), slot="dinner", idempotency_key="b-2"),
    )
    assert r.status_code == 201 and r.json["flags"] == []


def test_a_meal_outside_the_canteens_hours_is_flagged(http, canteens, world):
    r = http.as_user(
        "PUT",
        f"/service-points/{canteens['a']['point'].id}/canteen",
        world.p1.dispatcher,
        json={"slots": {"lunch": {"start": "11:00", "end": "12:30", "price": "12.00"}}},
    )
    assert r.status_code == 200, r.json
    # 13:15 is 45 min after 12:30, over the 15 min grace
    r = http.as_device(
        "POST", "/meals", canteens["a"]["key"], json=body(served_at=yesterday_at(13, 15))
    )
    assert [f["code"] for f in r.json["flags"]] == ["MEAL_OUTSIDE_HOURS"]
    assert r.json["flags"][0]["evidence"]["minutes_outside"] == 45
    assert r.json["price"] == "12.00" and r.json["status"] == "flagged"
    # 12:40 is 10 min after closing: within the grace (another provider's elder, by code:
    # any elder of the city eats at any canteen)
    r = http.as_device(
        "POST",
        "/meals",
        canteens["a"]["key"],
        json=body(
            served_at=yesterday_at(12, 40),
            idempotency_key="k2",
            card_no=None,
            client_code=world.p2.client.code,
        ),
    )
    assert r.status_code == 201 and r.json["flags"] == [], r.json


@pytest.mark.parametrize(
    ("key", "code"), [("not-a-key", "DEVICE_KEY_INVALID"), (None, "DEVICE_KEY_REVOKED")]
)
def test_unknown_or_revoked_terminal_key_is_401(http, canteens, world, db, key, code):
    if key is None:
        actor = Actor(
            user_id=world.p1.dispatcher.id,
            role=world.p1.dispatcher.role,
            provider_id=world.p1.provider.id,
        )
        devices.revoke(db, actor, canteens["a"]["device"].id)
        key = canteens["a"]["key"]
    r = http.as_device("POST", "/meals", key, json=body())
    assert r.status_code == 401 and r.json["code"] == code
    assert meals(db) == 0


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"card_no": "000000"}, 422, "ELDER_NOT_IDENTIFIED"),
        ({"card_no": None, "face_id": "face-unknown"}, 422, "ELDER_NOT_IDENTIFIED"),
        ({"card_no": None}, 422, "VALIDATION_ERROR"),
        ({"served_at": (utcnow() + timedelta(hours=2)).isoformat()}, 422, "MEAL_IN_FUTURE"),
        ({"slot": "supper"}, 422, "VALIDATION_ERROR"),
        ({"served_at": "0001-01-01T00:00:00+14:00"}, 422, "MEAL_TOO_OLD"),
    ],
)
def test_bad_meals_are_coded_and_store_nothing(http, canteens, db, change, status, code):
    r = http.as_device("POST", "/meals", canteens["a"]["key"], json=body(**change))
    assert (r.status_code, r.json["code"]) == (status, code), r.json
    assert r.json["message"] and meals(db) == 0


def test_a_meal_in_a_closed_month_is_refused(http, canteens, world, db):
    last = ledger.add_months(month_of(utcnow()), -1)
    ledger.close_month(db, Actor(user_id=world.finance.id, role=world.finance.role), last)
    db.commit()
    served = datetime.combine(last.replace(day=15), time(11, 30), tzinfo=zone()).isoformat()
    r = http.as_device("POST", "/meals", canteens["a"]["key"], json=body(served_at=served))
    assert r.status_code == 409 and r.json["code"] == "ALLOWANCE_MONTH_CLOSED"
    assert meals(db) == 0


def test_staff_record_a_manual_meal_at_their_own_canteen_only(http, canteens, world, db):
    r = http.as_user(
        "POST",
        "/meals",
        world.p1.dispatcher,
        json=body(method="manual", canteen_id=canteens["a"]["point"].id),
    )
    assert r.status_code == 201 and r.json["device_id"] is None
    r = http.as_user(
        "POST",
        "/meals",
        world.p1.dispatcher,
        json=body(method="manual", canteen_id=canteens["b"]["point"].id, idempotency_key="x"),
    )
    assert r.status_code == 422 and r.json["code"] == "REFERENCE_NOT_FOUND"
    assert meals(db) == 1


def test_a_pendants_key_records_no_meal(http, world, db, canteens):
    actor = Actor(
        user_id=world.p1.dispatcher.id,
        role=world.p1.dispatcher.role,
        provider_id=world.p1.provider.id,
    )
    _, key = devices.register(
        db, actor, {"kind": "pendant", "client_id": world.p1.client.id, "label": "呼叫器"}
    )
    r = http.as_device("POST", "/meals", key, json=body())
    assert r.status_code == 403 and r.json["code"] == "NOT_A_CANTEEN_TERMINAL"
    assert meals(db) == 0


def test_meals_of_a_canteen_and_day(http, canteens, world):
    http.as_device("POST", "/meals", canteens["a"]["key"], json=body())
    day = yesterday_at(0, 0)[:10]
    point = canteens["a"]["point"].id
    r = http.as_user("GET", f"/meals?canteen_id={point}&date={day}", world.p1.provider_admin)
    assert r.status_code == 200 and len(r.json) == 1
    r = http.as_user("GET", f"/meals?canteen_id={point}&date=2000-01-01", world.finance)
    assert r.json == []


def test_a_terminals_meal_costs_nine_statements(http, canteens, database_url):
    """What one meal sends to the database, counted as bench/checkin_cost.py counts a
    check-in's: the device, the canteen with its hours, the key's earlier try, the elder (locked)
    with the account, the month, the schemes, the insert, the rule settings, the slot's meals."""
    key = canteens["a"]["key"]
    # The terminal's first request also stamps its last_seen_at: not counted.
    dinner = body(served_at=yesterday_at(17, 30), slot="dinner", idempotency_key="d-1")
    assert http.as_device("POST", "/meals", key, json=dinner).status_code == 201
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_rest):
        if not statement.startswith(("SAVEPOINT", "RELEASE SAVEPOINT")):
            statements.append(statement)

    engine = dbmod.make_engine(database_url)
    event.listen(engine, "before_cursor_execute", count)
    try:
        r = http.as_device("POST", "/meals", key, json=body())
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert r.status_code == 201 and r.json["flags"] == [] and r.json["subsidy"] == "3.00"
    assert len(statements) <= 9, "\n".join(statements)
