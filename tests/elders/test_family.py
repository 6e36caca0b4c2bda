"""The family view through HTTP: linked elders only, orders, ratings once, complaints, and one
notification per check-in and check-out (sent once by the outbox's sender)."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from dispatch import notify_sender
from dispatch.db import utcnow
from dispatch.models import (
    AllowanceAccount,
    Client,
    Complaint,
    FundingSource,
    Notification,
    Rating,
    Role,
    ServiceOrder,
    Visit,
    VisitAssignment,
    VisitStatus,
)
from dispatch.services import notifications
from tests.conftest import Http, World
from tests.elders.test_calls import today


@pytest.fixture
def fam(http: Http, world: World) -> dict[str, Any]:
    """A family user of provider 1 linked to its elder; a second elder not linked."""
    user = world.user("family1_1", Role.family, world.p1.provider, display_name="王小红")
    other = world.client_at(world.p1.provider, "C1009", name="李大爷")
    world.db.commit()
    body = {"user_id": user.id, "relation": "女儿", "phone": "13800000001", "may_see_photos": True}
    r = http.as_user(
        "POST", f"/clients/{world.p1.client.id}/family", world.p1.dispatcher, json=body
    )
    assert r.status_code == 201, r.json
    return {"user": user, "elder": world.p1.client, "other": other}


def published_visit(world: World, client_id: int, service: str = "CHAT") -> Visit:
    """A published visit of today for provider 1's caregiver at ``client_id``."""
    now = utcnow()
    visit = Visit(
        provider_id=world.p1.provider.id,
        client_id=client_id,
        service_type_id=world.services[service].id,
        date=today(),
        window_start_at=now - timedelta(minutes=30),
        window_end_at=now + timedelta(hours=2),
        duration_min=45,
        status=VisitStatus.published,
        planned_start_at=now,
    )
    visit.assignments.append(VisitAssignment(caregiver_id=world.p1.caregiver.id, sequence=1))
    world.db.add(visit)
    world.db.commit()
    return visit


def evv(http: Http, world: World, visit_id: int, kind: str, minutes: int = 0) -> Any:
    event = {
        "idempotency_key": str(uuid.uuid4()),
        "device_time": (utcnow() + timedelta(minutes=minutes)).isoformat(),
        "lat": 29.3069,
        "lon": 120.0763,
        "accuracy_m": 10,
    }
    return http.as_user(
        "POST",
        f"/visits/{visit_id}/{kind}",
        world.p1.caregiver_user,
        data={"event": json.dumps(event)},
        content_type="multipart/form-data",
    )


def test_a_family_member_sees_only_linked_elders(http: Http, world: World, fam) -> None:
    user = fam["user"]
    mine = http.as_user("GET", "/me/clients", user)
    assert mine.status_code == 200
    assert [c["id"] for c in mine.json] == [fam["elder"].id]
    assert mine.json[0]["relation"] == "女儿" and mine.json[0]["may_see_photos"] is True
    visit = published_visit(world, fam["elder"].id)
    published_visit(world, fam["other"].id)
    r = http.as_user("GET", f"/me/clients/{fam['elder'].id}/visits", user)
    assert r.status_code == 200 and [v["id"] for v in r.json] == [visit.id]
    assert r.json[0]["caregivers"] == ["李春梅"] and r.json[0]["status"] == "published"
    # Another elder of the same provider, and another provider's: 404 as a missing one.
    for other in (fam["other"].id, world.p2.client.id, 2_000_000_000):
        r = http.as_user("GET", f"/me/clients/{other}/visits", user)
        assert (r.status_code, r.json["code"]) == (404, "CLIENT_NOT_FOUND"), other
    # Staff routes stay closed to the family role.
    assert http.as_user("GET", "/clients", user).status_code == 403
    assert http.as_user("GET", f"/visits/{visit.id}", user).status_code == 403


def test_one_notification_per_check_in_and_check_out(http: Http, world: World, fam) -> None:
    visit = published_visit(world, fam["elder"].id)
    assert evv(http, world, visit.id, "check-in").status_code == 201
    assert evv(http, world, visit.id, "check-out", minutes=40).status_code == 201
    r = http.as_user("GET", "/me/notifications", fam["user"])
    assert r.status_code == 200
    kinds = sorted(n["kind"] for n in r.json)
    assert kinds == ["check_in", "check_out"]
    assert all(n["visit_id"] == visit.id and n["client_id"] == fam["elder"].id for n in r.json)
    assert any("已到达" in n["text_zh"] for n in r.json)
    # Sent once: the first run sends both, the next finds nothing to send.
    sent: list[int] = []

    class Recorder:
        def send(self, n: Notification) -> None:
            sent.append(n.id)

    assert notifications.send_due(world.db, Recorder()) == (2, 0)
    assert notifications.send_due(world.db, Recorder()) == (0, 0)
    assert len(sent) == 2
    # Nobody else got them.
    assert http.as_user("GET", "/me/notifications", world.p1.dispatcher).status_code == 403


def test_a_failed_send_is_retried_later(world: World, http: Http, fam) -> None:
    visit = published_visit(world, fam["elder"].id)
    evv(http, world, visit.id, "check-in")

    class Down:
        def send(self, n: Notification) -> None:
            raise ConnectionError("gateway down")

    assert notifications.send_due(world.db, Down()) == (0, 1)
    row = world.db.scalars(select(Notification)).one()
    assert row.attempts == 1 and row.sent_at is None and "gateway down" in row.last_error
    # Not due again until the back-off passed (30 s after the first failure).
    assert notifications.send_due(world.db, notifications.LogSender()) == (0, 0)
    later = utcnow() + timedelta(seconds=31)
    assert notifications.send_due(world.db, notifications.LogSender(), later) == (1, 0)
    world.db.commit()
    assert notify_sender.send_notifications() == (0, 0)


def test_no_notification_without_consent_to_notify(http: Http, world: World, fam) -> None:
    quiet = world.user("family1_2", Role.family, world.p1.provider)
    world.db.commit()
    r = http.as_user(
        "POST",
        f"/clients/{fam['elder'].id}/family",
        world.p1.provider_admin,
        json={"user_id": quiet.id, "notify": False},
    )
    assert r.status_code == 201
    visit = published_visit(world, fam["elder"].id)
    evv(http, world, visit.id, "check-in")
    assert http.as_user("GET", "/me/notifications", quiet).json == []
    assert len(http.as_user("GET", "/me/notifications", fam["user"]).json) == 1


def test_rate_a_done_visit_once(http: Http, world: World, fam) -> None:
    visit = published_visit(world, fam["elder"].id)
    user = fam["user"]
    r = http.as_user("POST", f"/visits/{visit.id}/rating", user, json={"stars": 5})
    assert (r.status_code, r.json["code"]) == (409, "VISIT_NOT_DONE")
    evv(http, world, visit.id, "check-in")
    evv(http, world, visit.id, "check-out", minutes=40)
    r = http.as_user("POST", f"/visits/{visit.id}/rating", user, json={"stars": 4, "comment": "好"})
    assert r.status_code == 201 and r.json["stars"] == 4
    r = http.as_user("POST", f"/visits/{visit.id}/rating", user, json={"stars": 1})
    assert (r.status_code, r.json["code"]) == (409, "ALREADY_RATED")
    shown = http.as_user("GET", f"/me/clients/{fam['elder'].id}/visits", user).json
    assert shown[0]["rating"] == {"stars": 4, "comment": "好"}
    for stars in (0, 6, "5", None):
        r = http.as_user("POST", f"/visits/{visit.id}/rating", user, json={"stars": stars})
        assert (r.status_code, r.json["code"]) == (422, "VALIDATION_ERROR"), stars
    other = published_visit(world, fam["other"].id)
    r = http.as_user("POST", f"/visits/{other.id}/rating", user, json={"stars": 3})
    assert (r.status_code, r.json["code"]) == (404, "VISIT_NOT_FOUND")
    assert len(world.db.scalars(select(Rating)).all()) == 1


def test_order_a_service_and_see_it_accepted(http: Http, world: World, fam) -> None:
    user, elder = fam["user"], fam["elder"]
    day = (today() + timedelta(days=1)).isoformat()
    body = {
        "client_id": elder.id,
        "service_code": "CLEAN",
        "date": day,
        "window_start": "09:00",
        "window_end": "11:00",
        "note": "请带上吸尘器",
    }
    r = http.as_user("POST", "/orders", user, json=body)
    assert r.status_code == 201, r.json
    assert r.json["status"] == "requested" and r.json["ordered_by_role"] == "family"
    # Government-funded, 1200 minutes a month, nothing used: the 60 minutes are covered.
    assert r.json["coverage"] == {
        "funding_source": "government",
        "entitlement_left_min": 1200,
        "allowance_left": None,
        "price": "40.00",
        "copay": "0.00",
    }
    order_id = r.json["id"]
    r = http.as_user("POST", f"/orders/{order_id}/accept", world.p1.dispatcher, json={})
    assert r.status_code == 200 and r.json["status"] == "accepted"
    visit = world.db.get(Visit, r.json["visit_id"])
    assert visit.client_id == elder.id and visit.date.isoformat() == day
    mine = http.as_user("GET", "/orders", user).json
    assert [(o["id"], o["status"]) for o in mine] == [(order_id, "accepted")]
    r = http.as_user(
        "POST", f"/orders/{order_id}/decline", world.p1.dispatcher, json={"reason": "x"}
    )
    assert (r.status_code, r.json["code"]) == (409, "ORDER_ALREADY_DECIDED")
    kinds = [n["kind"] for n in http.as_user("GET", "/me/notifications", user).json]
    assert kinds == ["order_accepted"]


def test_copay_when_the_entitlement_runs_short_or_self_paid(http: Http, world: World, fam) -> None:
    elder = world.db.get(Client, fam["elder"].id)  # the fixture's instance left its session
    elder.monthly_entitlement_min = 0
    world.db.commit()
    day = (today() + timedelta(days=1)).isoformat()
    body = {"client_id": elder.id, "service_code": "CLEAN", "date": day}
    body |= {"window_start": "09:00", "window_end": "11:00"}
    r = http.as_user("POST", "/orders", fam["user"], json=body)
    # Nothing left of 0 minutes: the whole hour at 40.00 is the elder's.
    assert r.json["coverage"]["entitlement_left_min"] == 0
    assert Decimal(r.json["coverage"]["copay"]) == Decimal("40.00")
    elder = world.db.get(Client, elder.id)
    elder.funding_source = FundingSource.allowance
    elder.monthly_allowance = Decimal("25.00")
    world.db.commit()
    r = http.as_user("POST", "/orders", fam["user"], json=body)
    # 25.00 of allowance left against a 40.00 price: 15.00 to pay.
    assert r.json["coverage"]["allowance_left"] == "25.00"
    assert r.json["coverage"]["copay"] == "15.00"
    # Once the elder has an allowance account, its ledger balance is what is left: 30.00.
    world.db.add(
        AllowanceAccount(client_id=elder.id, provider_id=elder.provider_id, balance_fen=3000)
    )
    world.db.commit()
    r = http.as_user("POST", "/orders", fam["user"], json=body)
    assert r.json["coverage"]["allowance_left"] == "30.00"
    assert r.json["coverage"]["copay"] == "10.00"


def test_bad_orders_are_coded_and_store_nothing(http: Http, world: World, fam) -> None:
    user, elder = fam["user"], fam["elder"]
    tomorrow = (today() + timedelta(days=1)).isoformat()
    good = {"client_id": elder.id, "service_code": "CLEAN", "date": tomorrow}
    good |= {"window_start": "09:00", "window_end": "11:00"}
    cases = [
        ({**good, "service_code": "MASSAGE"}, "SERVICE_NOT_IN_CATALOGUE"),
        ({**good, "client_id": fam["other"].id}, "REFERENCE_NOT_FOUND"),
        ({**good, "client_id": world.p2.client.id}, "REFERENCE_NOT_FOUND"),
        ({**good, "date": (today() - timedelta(days=1)).isoformat()}, "ORDER_IN_PAST"),
        ({**good, "date": (today() + timedelta(days=200)).isoformat()}, "ORDER_TOO_FAR"),
        ({**good, "window_end": "09:30"}, "WINDOW_TOO_SHORT"),
        ({**good, "window_end": "08:00"}, "VALIDATION_ERROR"),
        ({**good, "window_start": "25:00"}, "VALIDATION_ERROR"),
    ]
    for body, code in cases:
        r = http.as_user("POST", "/orders", user, json=body)
        assert (r.status_code, r.json["code"]) == (422, code), (body, r.json)
    assert world.db.scalars(select(ServiceOrder)).all() == []
    r = http.as_user("POST", "/orders/1/decline", world.p1.dispatcher, json={})
    assert r.status_code == 422


def test_complain_and_the_provider_answers(http: Http, world: World, fam) -> None:
    user, elder = fam["user"], fam["elder"]
    visit = published_visit(world, elder.id)
    body = {"client_id": elder.id, "visit_id": visit.id, "text": "护理员迟到一小时"}
    r = http.as_user("POST", "/complaints", user, json=body)
    assert r.status_code == 201 and r.json["status"] == "open"
    cid = r.json["id"]
    r = http.as_user(
        "PATCH", f"/complaints/{cid}", world.p1.dispatcher, json={"status": "answered"}
    )
    assert (r.status_code, r.json["code"]) == (422, "COMPLAINT_NEEDS_ANSWER")
    r = http.as_user(
        "PATCH",
        f"/complaints/{cid}",
        world.p1.dispatcher,
        json={"answer": "已向老人致歉并调整排班"},
    )
    assert r.status_code == 200 and r.json["status"] == "answered"
    seen = http.as_user("GET", f"/complaints/{cid}", user).json
    assert seen["answer"] == "已向老人致歉并调整排班"
    r = http.as_user("PATCH", f"/complaints/{cid}", world.p1.dispatcher, json={"status": "closed"})
    assert r.status_code == 200 and r.json["closed_at"]
    r = http.as_user("PATCH", f"/complaints/{cid}", world.p1.dispatcher, json={"answer": "x"})
    assert (r.status_code, r.json["code"]) == (409, "COMPLAINT_CLOSED")
    # Another provider sees none of it; the family member cannot answer.
    assert http.as_user("GET", f"/complaints/{cid}", world.p2.dispatcher).status_code == 404
    assert http.as_user("PATCH", f"/complaints/{cid}", user, json={}).status_code == 403
    # About another elder, or another elder's visit: refused, nothing stored.
    before = len(world.db.scalars(select(Complaint)).all())
    r = http.as_user("POST", "/complaints", user, json={"client_id": fam["other"].id, "text": "x"})
    assert (r.status_code, r.json["code"]) == (422, "REFERENCE_NOT_FOUND")
    other_visit = published_visit(world, fam["other"].id)
    r = http.as_user(
        "POST", "/complaints", user, json={**body, "visit_id": other_visit.id, "text": "y"}
    )
    assert (r.status_code, r.json["code"]) == (422, "REFERENCE_NOT_FOUND")
    assert len(world.db.scalars(select(Complaint)).all()) == before


def test_a_family_member_presses_the_call_button(http: Http, world: World, fam) -> None:
    body = {"client_id": fam["elder"].id, "kind": "sos", "idempotency_key": str(uuid.uuid4())}
    r = http.as_user("POST", "/calls", fam["user"], json=body)
    assert r.status_code == 201 and r.json["source"] == "family"
    body = {**body, "client_id": fam["other"].id, "idempotency_key": str(uuid.uuid4())}
    r = http.as_user("POST", "/calls", fam["user"], json=body)
    assert (r.status_code, r.json["code"]) == (422, "REFERENCE_NOT_FOUND")
    # The call taker sees the family in the elder's file.
    (call,) = http.as_user("GET", "/calls", world.p1.dispatcher).json
    assert call["client"]["family"] == [
        {"name": "王小红", "relation": "女儿", "phone": "13800000001"}
    ]


def test_links_are_kept_by_the_provider(http: Http, world: World, fam) -> None:
    elder = fam["elder"]
    d = world.p1.dispatcher
    again = http.as_user("POST", f"/clients/{elder.id}/family", d, json={"user_id": fam["user"].id})
    assert (again.status_code, again.json["code"]) == (409, "FAMILY_ALREADY_LINKED")
    staff = http.as_user(
        "POST", f"/clients/{elder.id}/family", d, json={"user_id": world.p1.dispatcher.id}
    )
    assert (staff.status_code, staff.json["code"]) == (422, "NOT_A_FAMILY_USER")
    foreign = http.as_user(
        "POST", f"/clients/{elder.id}/family", world.p2.dispatcher, json={"user_id": 1}
    )
    assert foreign.status_code == 404
    listed = http.as_user("GET", f"/clients/{elder.id}/family", d).json
    assert [row["user_id"] for row in listed] == [fam["user"].id]
    r = http.as_user("DELETE", f"/clients/{elder.id}/family/{fam['user'].id}", d)
    assert r.status_code == 204
    assert http.as_user("GET", "/me/clients", fam["user"]).json == []
    r = http.as_user("GET", f"/me/clients/{elder.id}/visits", fam["user"])
    assert r.status_code == 404
