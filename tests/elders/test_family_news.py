"""What a relative hears and reads, through HTTP: a missed visit told once (the sweep), one
`arrived` message (not also a `check_in`) when the caregiver reaches a call, and the calls of
the linked elders only, without the call taker's working fields."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from dispatch import periodic, visit_clock
from dispatch.db import utcnow
from dispatch.models import Role, Visit, VisitAssignment, VisitStatus
from tests.conftest import Http, World
from tests.elders.test_calls import day, evv, press, today  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("ten_oclock")


def link(http: Http, world: World, login: str, client_id: int, notify: bool = True) -> Any:
    user = world.user(login, Role.family, world.p1.provider, display_name="王小红")
    world.db.commit()
    body = {"user_id": user.id, "relation": "女儿", "phone": "13800000001", "notify": notify}
    r = http.as_user("POST", f"/clients/{client_id}/family", world.p1.dispatcher, json=body)
    assert r.status_code == 201, r.json
    return user


def visit(world: World, ends_in_min: int, status: VisitStatus = VisitStatus.published) -> Visit:
    """A visit of provider 1's caregiver at its elder whose window ends ``ends_in_min`` from now."""
    end = utcnow() + timedelta(minutes=ends_in_min)
    row = Visit(
        provider_id=world.p1.provider.id,
        client_id=world.p1.client.id,
        service_type_id=world.services["CHAT"].id,
        date=today(),
        window_start_at=end - timedelta(hours=2),
        window_end_at=end,
        duration_min=45,
        status=status,
        planned_start_at=end - timedelta(hours=2),
    )
    row.assignments.append(VisitAssignment(caregiver_id=world.p1.caregiver.id, sequence=1))
    world.db.add(row)
    world.db.commit()
    return row


def news(http: Http, user: Any) -> list[dict[str, Any]]:
    r = http.as_user("GET", "/me/notifications", user)
    assert r.status_code == 200, r.json
    return r.json


def status_of(http: Http, world: World, visit_id: int) -> str:
    r = http.as_user("GET", f"/visits/{visit_id}", world.p1.dispatcher)
    assert r.status_code == 200, r.json
    return str(r.json["status"])


def test_a_missed_visit_is_marked_and_told_once(http: Http, world: World) -> None:
    user = link(http, world, "family1_1", world.p1.client.id)
    quiet = link(http, world, "family1_2", world.p1.client.id, notify=False)
    missed = visit(world, ends_in_min=-10)
    came = visit(world, ends_in_min=-5)
    running = visit(world, ends_in_min=+60)
    unpublished = visit(world, ends_in_min=-10, status=VisitStatus.assigned)
    long_ago = visit(world, ends_in_min=-3 * 24 * 60)
    # The caregiver checked in at one of them (late, but came).
    assert (
        evv(http, world, came.id, "check-in", utcnow() - timedelta(minutes=20)).status_code == 201
    )
    before = {n["id"] for n in news(http, user)}

    assert visit_clock.mark_missed_visits() == [missed.id]
    assert status_of(http, world, missed.id) == "missed"
    for other in (came, running):
        assert status_of(http, world, other.id) != "missed"
    assert status_of(http, world, unpublished.id) == "assigned"
    assert status_of(http, world, long_ago.id) == "published"
    (told,) = [n for n in news(http, user) if n["id"] not in before]
    assert (told["kind"], told["visit_id"]) == ("missed", missed.id)
    assert "漏服务" in told["text_zh"] and "Nobody checked in" in told["text"]
    assert news(http, quiet) == []
    # The board shows what the family was told.
    board = http.as_user("GET", f"/days/{today().isoformat()}/board", world.p1.dispatcher)
    assert board.status_code == 200, board.json
    rows = {row["visit_id"]: row for row in board.json["visits"]}
    assert (rows[missed.id]["status"], rows[missed.id]["state"]) == ("missed", "missed")

    # The next tick finds nothing; a late check-in after all is recorded, no second message.
    assert visit_clock.mark_missed_visits() == []
    assert evv(http, world, missed.id, "check-in", utcnow()).status_code == 201
    assert status_of(http, world, missed.id) == "in_progress"
    assert visit_clock.mark_missed_visits() == []
    kinds = [n["kind"] for n in news(http, user) if n["visit_id"] == missed.id]
    assert sorted(kinds) == ["check_in", "missed"]


def test_the_sweep_is_a_periodic_task() -> None:
    names = {t.name for t in periodic.load_tasks()}
    assert "dispatch.visit_clock.mark_missed_visits" in names


def dispatched(http: Http, world: World, day: dict[str, Any]) -> dict[str, Any]:  # noqa: F811
    call = press(http, day["key"], str(uuid.uuid4())).json
    r = http.as_user("POST", f"/calls/{call['id']}/dispatch", world.p1.dispatcher, json={})
    assert r.status_code == 200, r.json
    return {"call": call, "visit_id": r.json["visit_id"]}


def test_the_caregiver_arriving_at_a_call_is_one_message(
    http: Http,
    world: World,
    day,  # noqa: F811
) -> None:
    user = link(http, world, "family1_1", day["elder"].id)
    sent = dispatched(http, world, day)
    visit_id = sent["visit_id"]
    arrived = utcnow()
    assert evv(http, world, visit_id, "check-in", arrived).status_code == 201
    assert evv(http, world, visit_id, "check-in", arrived).status_code == 409  # no second event
    about = [n for n in news(http, user) if n["visit_id"] == visit_id]
    kinds = sorted(n["kind"] for n in about)
    assert kinds == ["arrived", "call_dispatched"], kinds
    (came,) = [n for n in about if n["kind"] == "arrived"]
    assert "呼叫" in came["text_zh"] and "answering the call" in came["text"]
    # The check-out is the usual message; the call is closed.
    r = evv(http, world, visit_id, "check-out", arrived + timedelta(minutes=20))
    assert r.status_code == 201, r.json
    kinds = sorted(n["kind"] for n in news(http, user) if n["visit_id"] == visit_id)
    assert kinds == ["arrived", "call_dispatched", "check_out"]
    # An ordinary visit's check-in stays a check_in message.
    plain = visit(world, ends_in_min=60)
    other = link(http, world, "family1_2", world.p1.client.id)
    assert evv(http, world, plain.id, "check-in", utcnow()).status_code == 201
    assert [n["kind"] for n in news(http, other)] == ["check_in"]


def test_a_relative_reads_the_calls_of_linked_elders_only(
    http: Http,
    world: World,
    day,  # noqa: F811
) -> None:
    user = link(http, world, "family1_1", day["elder"].id)
    sent = dispatched(http, world, day)
    call_id = sent["call"]["id"]
    # Another elder's call, of the same provider.
    other = press(http, day["key"], str(uuid.uuid4()), kind="fall").json  # same elder: visible
    theirs = http.as_user(
        "POST",
        "/calls",
        world.p1.dispatcher,
        json={
            "client_id": world.p1.client.id,
            "kind": "help",
            "idempotency_key": str(uuid.uuid4()),
        },
    ).json
    r = http.as_user("GET", "/calls", user, query_string={"client_id": day["elder"].id})
    assert r.status_code == 200, r.json
    assert sorted(c["id"] for c in r.json) == sorted([call_id, other["id"]])
    assert {c["id"] for c in http.as_user("GET", "/calls", user).json} == {call_id, other["id"]}
    one = http.as_user("GET", f"/calls/{call_id}", user)
    assert one.status_code == 200, one.json
    body = one.json
    assert body["status"] == "dispatched" and body["caregiver_id"] == world.p1.caregiver.id
    assert body["planned_arrival"] and body["client"]["name"] == "张桂兰"
    for hidden in ("proposal", "no_proposal", "proposed_at", "call_to_proposal_s", "device_id"):
        assert hidden not in body, hidden
    assert "conditions" not in body["client"] and "family" not in body["client"]
    # The dispatcher still sees all of it.
    staff = http.as_user("GET", f"/calls/{call_id}", world.p1.dispatcher).json
    assert "proposal" in staff and staff["client"]["family"]
    # Another elder: 404, as a missing one; the KPIs stay staff-only.
    for client_id in (world.p1.client.id, world.p2.client.id, 2_000_000_000):
        r = http.as_user("GET", "/calls", user, query_string={"client_id": client_id})
        assert (r.status_code, r.json["code"]) == (404, "CLIENT_NOT_FOUND"), client_id
    r = http.as_user("GET", f"/calls/{theirs['id']}", user)
    assert (r.status_code, r.json["code"]) == (404, "CALL_NOT_FOUND")
    d = today().isoformat()
    kpis = http.as_user("GET", "/calls/kpis", user, query_string={"from": d, "to": d})
    assert kpis.status_code == 403
