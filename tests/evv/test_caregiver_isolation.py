"""A caregiver reads no other caregiver's visits, events or photos (same provider included)."""

from __future__ import annotations

from dispatch.models import Role
from tests.evv.conftest import DAY, Evv


def test_a_caregiver_sees_nothing_of_a_colleagues_visit(evv: Evv) -> None:
    world, p1 = evv.world, evv.world.p1
    colleague = world.caregiver_at(p1.provider, "CG102", skills=("CLEAN",))
    colleague_user = world.user(
        "caregiver1_2", Role.caregiver, p1.provider, caregiver_id=colleague.id
    )
    theirs = evv.visit(caregivers=(colleague,))
    mine = evv.visit(start_hour=14)

    checked_in = evv.post(theirs.id, "check-in", evv.event(theirs), user=colleague_user)
    assert checked_in.status_code == 201, checked_in.get_data(as_text=True)
    event_id, photo_id = checked_in.json["event_id"], checked_in.json["photo_id"]
    assert photo_id is not None
    # The colleague reads their own (the control: the ids are real and readable).
    assert evv.get(f"/api/v1/visits/{theirs.id}/events", colleague_user).status_code == 200
    assert evv.get(f"/api/v1/photos/{photo_id}", colleague_user).status_code == 200

    me = p1.caregiver_user
    events = evv.get(f"/api/v1/visits/{theirs.id}/events", me)
    photo = evv.get(f"/api/v1/photos/{photo_id}", me)
    visit = evv.get(f"/api/v1/visits/{theirs.id}", me)
    route = evv.get(f"/api/v1/me/visits?date={DAY.isoformat()}", me)
    assert events.status_code == 404 and events.json["code"]
    assert photo.status_code == 404 and photo.json["code"]
    assert visit.status_code == 403  # caregivers read visits through their route only
    assert route.status_code == 200
    assert [v["id"] for v in route.json] == [mine.id]
    assert event_id not in {e["id"] for e in evv.get(f"/api/v1/visits/{mine.id}/events", me).json}
    # Nor may they act on it.
    foreign_checkin = evv.post(theirs.id, "check-in", evv.event(theirs), user=me)
    assert foreign_checkin.status_code == 404
