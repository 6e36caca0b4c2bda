"""A dispatcher's hand move is checked like the optimiser would: new times, or coded refusals."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from dispatch.models import ClientRefusal, DayPlan, Gender, PlanStatus, Shift

DAY = date(2030, 1, 8)  # a Tuesday
T = "2030-01-08T{}:00+08:00"


def add_visit(
    client: Any,
    world: Any,
    service: str = "CLEAN",
    start: str = "09:00",
    end: str = "12:00",
    **kw: Any,
) -> int:
    r = client.post(
        "/api/v1/visits",
        json={
            "client_id": kw.get("client_id", world.p1.client.id),
            "service_type_id": world.services[service].id,
            "date": DAY.isoformat(),
            "window_start": T.format(start),
            "window_end": T.format(end),
            "duration_min": kw.get("duration_min", 60),
        },
        headers=world.headers(world.p1.dispatcher),
    )
    assert r.status_code == 201, r.json
    return int(r.json["id"])


def move(
    client: Any, world: Any, visit_id: int, caregiver_id: int, at: str | None, **kw: Any
) -> Any:
    body: dict[str, Any] = {"caregiver_id": caregiver_id, **kw}
    if at:
        body["planned_start"] = T.format(at)
    return client.post(
        f"/api/v1/visits/{visit_id}/move", json=body, headers=world.headers(world.p1.dispatcher)
    )


def test_an_allowed_move_answers_times_moves_and_pins(client: Any, world: Any) -> None:
    vid = add_visit(client, world)
    cg = world.p1.caregiver
    r = move(client, world, vid, cg.id, "10:00")
    assert r.status_code == 200, r.json
    assert r.json["allowed"] is True and r.json["refusals"] == []
    assert r.json["start"] == "2030-01-08T10:00:00+08:00"
    assert r.json["end"] == "2030-01-08T11:00:00+08:00"
    visit = client.get(f"/api/v1/visits/{vid}", headers=world.headers(world.p1.dispatcher)).json
    assert visit["pinned"] is True
    day = client.get(
        f"/api/v1/days/{DAY}/dispatch", headers=world.headers(world.p1.dispatcher)
    ).json
    mine = next(v for v in day["visits"] if v["id"] == vid)
    assert mine["caregiver_ids"] == [cg.id]
    assert mine["planned_start"] == "2030-01-08T10:00:00+08:00"


def test_a_drop_before_the_window_starts_at_the_window(client: Any, world: Any) -> None:
    vid = add_visit(client, world, start="09:00", end="12:00")
    r = move(client, world, vid, world.p1.caregiver.id, "08:00", dry_run=True)
    assert r.json["allowed"] is True
    assert r.json["start"] == "2030-01-08T09:00:00+08:00"


def test_dry_run_changes_nothing(client: Any, world: Any) -> None:
    vid = add_visit(client, world)
    r = move(client, world, vid, world.p1.caregiver.id, "10:00", dry_run=True)
    assert r.status_code == 200 and r.json["allowed"] is True
    visit = client.get(f"/api/v1/visits/{vid}", headers=world.headers(world.p1.dispatcher)).json
    assert visit["pinned"] is False and visit["status"] == "planned"


def assert_refused(r: Any, code: str) -> None:
    assert r.status_code == 409, r.json
    assert r.json["code"] == code
    assert code in [x["code"] for x in r.json["errors"]["refusals"]]


def test_a_caregiver_without_the_skill_is_refused(client: Any, world: Any) -> None:
    vid = add_visit(client, world, service="NURSE")
    other = world.caregiver_at(world.p1.provider, "CG199", skills=("CLEAN",), name="赵丽萍")
    assert_refused(move(client, world, vid, other.id, "10:00"), "MOVE_SKILL_MISSING")
    dry = move(client, world, vid, other.id, "10:00", dry_run=True)
    assert dry.status_code == 200 and dry.json["allowed"] is False
    assert "MOVE_SKILL_MISSING" in [x["code"] for x in dry.json["refusals"]]


def test_a_caregiver_the_client_refused_is_refused(client: Any, world: Any) -> None:
    vid = add_visit(client, world)
    world.db.add(ClientRefusal(client_id=world.p1.client.id, caregiver_id=world.p1.caregiver.id))
    world.db.flush()
    assert_refused(
        move(client, world, vid, world.p1.caregiver.id, "10:00"), "MOVE_REFUSED_BY_CLIENT"
    )


def test_the_clients_gender_wish_holds(client: Any, world: Any) -> None:
    him = world.client_at(world.p1.provider, "C1999", preferred_caregiver_gender=Gender.male)
    vid = add_visit(client, world, client_id=him.id)
    assert_refused(move(client, world, vid, world.p1.caregiver.id, "10:00"), "MOVE_GENDER")


def test_a_start_past_the_window_is_refused(client: Any, world: Any) -> None:
    vid = add_visit(client, world, start="09:00", end="11:00")
    # 60 minutes must fit before 11:00: the latest start is 10:00.
    assert_refused(move(client, world, vid, world.p1.caregiver.id, "10:30"), "MOVE_OUTSIDE_WINDOW")
    assert move(client, world, vid, world.p1.caregiver.id, "10:00").status_code == 200


def test_outside_the_shift_or_off_that_day_is_refused(client: Any, world: Any) -> None:
    vid = add_visit(client, world, start="15:00", end="20:00")
    # The shift ends at 17:00: 16:30 + 60 min does not fit.
    assert_refused(move(client, world, vid, world.p1.caregiver.id, "16:30"), "MOVE_OUTSIDE_SHIFT")
    off = world.caregiver_at(world.p1.provider, "CG198", skills=("CLEAN",))
    off.shifts = [Shift(weekday=d, start_time=None, end_time=None, off=True) for d in range(7)]
    world.db.flush()
    assert_refused(move(client, world, vid, off.id, "15:00"), "MOVE_NOT_WORKING")


def test_the_next_stop_must_still_be_reached(client: Any, world: Any) -> None:
    cg = world.p1.caregiver
    first, second = add_visit(client, world), add_visit(client, world, start="09:00", end="13:00")
    plan = DayPlan(
        provider_id=world.p1.provider.id,
        date=DAY,
        version=1,
        status=PlanStatus.published,
        time_limit_s=10,
        routes=[
            {
                "caregiver_id": cg.id,
                "depart": T.format("10:00"),
                "return": T.format("12:00"),
                "stops": [
                    {
                        "visit_id": second,
                        "kind": "visit",
                        "arrival": T.format("11:00"),
                        "start": T.format("11:00"),
                        "end": T.format("12:00"),
                        "travel_min": 0,
                    },
                ],
            }
        ],
        unassigned=[],
    )
    world.db.add(plan)
    world.db.flush()
    # 10:30 + 60 min ends after 11:00, when the next stop starts.
    assert_refused(move(client, world, first, cg.id, "10:30"), "MOVE_OVERLAP")
    ok = move(client, world, first, cg.id, "09:00", dry_run=True)
    assert ok.json["allowed"] is True and ok.json["next_visit_id"] == second


@pytest.mark.parametrize("who", ["p2_dispatcher", "caregiver"])
def test_other_providers_and_caregivers_cannot_move(client: Any, world: Any, who: str) -> None:
    vid = add_visit(client, world)
    user = world.p2.dispatcher if who == "p2_dispatcher" else world.p1.caregiver_user
    r = client.post(
        f"/api/v1/visits/{vid}/move",
        json={"caregiver_id": world.p1.caregiver.id},
        headers=world.headers(user),
    )
    assert r.status_code == (404 if who == "p2_dispatcher" else 403)


def test_another_providers_caregiver_is_an_unknown_reference(client: Any, world: Any) -> None:
    vid = add_visit(client, world)
    r = move(client, world, vid, world.p2.caregiver.id, "10:00")
    assert r.status_code == 422 and r.json["code"] == "REFERENCE_NOT_FOUND"
    huge = move(client, world, vid, 2**62, "10:00")
    assert huge.status_code == 422


def test_the_day_read_needs_a_provider_for_platform_users(client: Any, world: Any) -> None:
    r = client.get(f"/api/v1/days/{DAY}/dispatch", headers=world.headers(world.admin))
    assert r.status_code == 422 and r.json["code"] == "PROVIDER_REQUIRED"
    r = client.get(
        f"/api/v1/days/{DAY}/dispatch?provider_id={world.p1.provider.id}",
        headers=world.headers(world.admin),
    )
    assert r.status_code == 200 and r.json["provider_id"] == world.p1.provider.id
    cg = next(c for c in r.json["caregivers"] if c["id"] == world.p1.caregiver.id)
    assert cg["shift_start"] == "08:00" and "NURSE" in cg["skills"]
