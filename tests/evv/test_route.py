"""GET /api/v1/me/visits: the caregiver's own published visits of a day, in route order."""

from __future__ import annotations

from datetime import timedelta

from dispatch.models import VisitStatus
from tests.evv.conftest import DAY, Evv


def test_route_lists_own_published_visits_in_route_order(evv: Evv) -> None:
    w = evv.world
    third = evv.visit(sequence=3, start_hour=14)
    first = evv.visit(sequence=1, start_hour=8, service="MEAL")
    second = evv.visit(sequence=2, start_hour=10)
    evv.visit(status=VisitStatus.planned, sequence=4)  # not published yet
    evv.visit(status=VisitStatus.cancelled, sequence=5)
    evv.visit(day=DAY + timedelta(days=1), sequence=1)  # another day
    colleague = w.caregiver_at(w.p1.provider, "CG160")
    evv.visit(caregivers=(colleague,), sequence=1)  # a colleague's visit
    evv.visit(w.p2, sequence=1)  # another provider's

    r = evv.get(f"/api/v1/me/visits?date={DAY.isoformat()}")
    assert r.status_code == 200, r.json
    assert [v["id"] for v in r.json] == [first.id, second.id, third.id]
    one = r.json[0]
    client = w.p1.client
    assert one["sequence"] == 1
    assert one["status"] == "published"
    assert one["service"] == {"code": "MEAL", "name": "助餐"}
    assert one["client"] == {
        "id": client.id,
        "name": client.name,
        "address": client.address,
        "phone": client.phone,
        "lat": client.lat,
        "lon": client.lon,
    }
    assert one["window_start"] == "2026-11-23T08:00:00+08:00"
    assert one["window_end"] == "2026-11-23T10:00:00+08:00"
    assert one["planned_start"] == "2026-11-23T08:15:00+08:00"
    assert one["duration_min"] == 10
    assert one["photo_required"] is True
    assert (one["checked_in"], one["checked_out"]) == (False, False)


def test_route_shows_progress_after_check_in(evv: Evv) -> None:
    visit = evv.visit(sequence=1)
    evv.post(visit.id, "check-in", evv.event(visit))
    r = evv.get(f"/api/v1/me/visits?date={DAY.isoformat()}")
    assert [(v["status"], v["checked_in"], v["checked_out"]) for v in r.json] == [
        ("in_progress", True, False)
    ]


def test_route_of_a_day_without_visits_is_empty(evv: Evv) -> None:
    evv.visit()
    r = evv.get("/api/v1/me/visits?date=2026-01-01")
    assert (r.status_code, r.json) == (200, [])


def test_route_bad_date_is_422(evv: Evv) -> None:
    r = evv.get("/api/v1/me/visits?date=23/11/2026")
    assert (r.status_code, r.json["code"]) == (422, "VALIDATION_ERROR")
    assert "date" in r.json["errors"]


def test_route_is_for_caregivers_only(evv: Evv) -> None:
    r = evv.get("/api/v1/me/visits", evv.world.p1.dispatcher)
    assert (r.status_code, r.json["code"]) == (403, "FORBIDDEN")
