"""A hand move keeps the caregiver's maximum working time (the router's own route check), and a
double-staffed visit moves the seat the dispatcher took, keeping one start for both."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dispatch.models import Caregiver, DayPlan, PlanStatus, VisitAssignment
from tests.api.test_moves import DAY, T, add_visit, assert_refused, move


def _plan(world: Any, routes: list[dict[str, Any]]) -> None:
    world.db.add(
        DayPlan(
            provider_id=world.p1.provider.id,
            date=DAY,
            version=1,
            status=PlanStatus.published,
            time_limit_s=10,
            routes=routes,
            unassigned=[],
        )
    )
    world.db.flush()


def _route(caregiver_id: int, *stops: tuple[int, str, str]) -> dict[str, Any]:
    return {
        "caregiver_id": caregiver_id,
        "depart": T.format(stops[0][1]),
        "return": T.format(stops[-1][2]),
        "stops": [
            {
                "visit_id": vid,
                "kind": "visit",
                "arrival": T.format(a),
                "start": T.format(a),
                "end": T.format(b),
                "travel_min": 0,
            }
            for vid, a, b in stops
        ],
    }


def _limit(world: Any, caregiver_id: int, minutes: int) -> None:
    # A request ended the test's session: the row is loaded again to change it.
    world.db.get(Caregiver, caregiver_id).max_minutes_per_day = minutes
    world.db.flush()


def test_a_move_past_the_maximum_working_time_is_refused(client: Any, world: Any) -> None:
    cg = world.p1.caregiver
    cg.max_minutes_per_day = 180
    planned = add_visit(client, world, start="09:00", end="10:00")
    _plan(world, [_route(cg.id, (planned, "09:00", "10:00"))])
    vid = add_visit(client, world, start="09:00", end="16:00")
    # 09:00–14:00 and the way from and back home: five hours and more, the maximum is three.
    r = move(client, world, vid, cg.id, "13:00")
    assert_refused(r, "MOVE_OVER_MAX_WORKING_TIME")
    refusal = r.json["errors"]["refusals"][0]
    assert "180" in refusal["message"] and "180" in refusal["message_zh"]
    worked = int(refusal["message"].split("would work ")[1].split(" min")[0])
    assert worked > 300
    # Right after the planned visit the day is about two hours: allowed.
    ok = move(client, world, vid, cg.id, "10:00", dry_run=True)
    assert ok.json["allowed"] is True, ok.json
    # The same late move for a caregiver without that limit is fine.
    _limit(world, cg.id, 600)
    late = move(client, world, vid, cg.id, "13:00", dry_run=True).json
    assert late["allowed"] is True, late["refusals"]


def test_a_day_already_past_its_limit_is_judged_by_what_the_move_adds(
    client: Any, world: Any
) -> None:
    # Planned before the limit was lowered: a move inside the day's span adds no working time
    # and is allowed; one that makes the day longer still is refused.
    cg = world.p1.caregiver
    first = add_visit(client, world, start="09:00", end="10:00")
    last = add_visit(client, world, start="13:00", end="16:00")
    _plan(world, [_route(cg.id, (first, "09:00", "10:00"), (last, "14:00", "15:00"))])
    _limit(world, cg.id, 120)
    vid = add_visit(client, world, start="09:00", end="16:00")
    inside = move(client, world, vid, cg.id, "11:00", dry_run=True).json
    assert inside["allowed"] is True, inside["refusals"]
    assert_refused(move(client, world, vid, cg.id, "15:00"), "MOVE_OVER_MAX_WORKING_TIME")


def _double(client: Any, world: Any, partner: Any) -> int:
    vid = add_visit(client, world, service="BATH", start="09:00", end="12:00")
    start = datetime.fromisoformat(T.format("10:00"))
    for cg in (world.p1.caregiver, partner):
        world.db.add(
            VisitAssignment(
                visit_id=vid, caregiver_id=cg.id, planned_start_at=start, planned_arrival_at=start
            )
        )
    world.db.flush()
    return vid


def _seats(client: Any, world: Any, vid: int) -> list[int]:
    v = client.get(f"/api/v1/visits/{vid}", headers=world.headers(world.p1.dispatcher)).json
    return [a["caregiver_id"] for a in v["assignments"]]


def test_the_second_seat_of_a_double_visit_moves(client: Any, world: Any) -> None:
    first = world.p1.caregiver
    second = world.caregiver_at(world.p1.provider, "CG150", skills=("BATH",), name="陈红")
    third = world.caregiver_at(world.p1.provider, "CG151", skills=("BATH",), name="周敏")
    vid = _double(client, world, second)
    r = move(client, world, vid, third.id, "10:00", from_caregiver_id=second.id)
    assert r.status_code == 200, r.json
    assert r.json["caregiver_ids"] == [first.id, third.id]
    assert _seats(client, world, vid) == [first.id, third.id]
    v = client.get(f"/api/v1/visits/{vid}", headers=world.headers(world.p1.dispatcher)).json
    assert {a["planned_start_at"] for a in v["assignments"]} == {"2030-01-08T10:00:00+08:00"}
    # Without a seat the first caregiver's moves; a caregiver already on the visit cannot
    # take the other seat.
    assert_refused(move(client, world, vid, third.id, "10:00"), "MOVE_ALREADY_SECOND")
    r = move(client, world, vid, second.id, "10:30")
    assert r.status_code == 200, r.json
    assert _seats(client, world, vid) == [second.id, third.id]


def test_a_double_visit_keeps_one_start_or_is_refused(client: Any, world: Any) -> None:
    first = world.p1.caregiver
    second = world.caregiver_at(world.p1.provider, "CG152", skills=("BATH",), name="陈红")
    third = world.caregiver_at(world.p1.provider, "CG153", skills=("BATH",), name="周敏")
    vid = _double(client, world, second)
    busy = add_visit(client, world, start="08:00", end="12:00", duration_min=60)
    # The first caregiver is busy 10:00–11:00 elsewhere: the pair cannot start at 10:00 and
    # the shared start is refused for her, though the new second caregiver is free.
    _plan(world, [_route(first.id, (busy, "10:00", "11:00"))])
    r = move(client, world, vid, third.id, "09:30", from_caregiver_id=second.id)
    assert_refused(r, "MOVE_OVERLAP")
    assert any(first.name in x["message"] for x in r.json["errors"]["refusals"])
    assert _seats(client, world, vid) == [first.id, second.id]
    # After her other visit both can start together; the answer names the shared start.
    ok = move(client, world, vid, third.id, "11:00", from_caregiver_id=second.id)
    assert ok.status_code == 200, ok.json
    v = client.get(f"/api/v1/visits/{vid}", headers=world.headers(world.p1.dispatcher)).json
    assert {a["planned_start_at"] for a in v["assignments"]} == {"2030-01-08T11:00:00+08:00"}


def test_a_seat_the_visit_does_not_have_is_a_coded_422(client: Any, world: Any) -> None:
    other = world.caregiver_at(world.p1.provider, "CG154", skills=("CLEAN",))
    vid = add_visit(client, world)
    r = move(client, world, vid, world.p1.caregiver.id, "10:00", from_caregiver_id=other.id)
    assert r.status_code == 422 and r.json["code"] == "INVALID_FIELD"
    assert "from_caregiver_id" in r.json["errors"]
