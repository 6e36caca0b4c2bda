"""An event's distance from home is the server's, and the same figure the geofence flag gives."""

from __future__ import annotations

from typing import Any

from tests.evv.conftest import Evv, at


def test_events_carry_the_geofence_distance(evv: Evv, world: Any) -> None:
    visit = evv.visit()
    home = world.p1.client
    # About 820 m north of the client's home: outside the 200 m geofence.
    far = evv.event(visit, lat=home.lat + 820 / 111_320, accuracy_m=5.0)
    assert evv.post(visit.id, "check-in", far).status_code in (200, 201)
    near = evv.event(visit, when=at(10, 20))
    assert evv.post(visit.id, "check-out", near).status_code in (200, 201)
    flags = evv.get("/api/v1/flags?code=GEOFENCE_IN", world.finance).json
    assert len(flags) == 1
    events = evv.get(f"/api/v1/visits/{visit.id}/events", world.finance).json
    by_kind = {e["kind"]: e for e in events}
    assert by_kind["check_in"]["distance_home_m"] == flags[0]["evidence"]["distance_m"]
    assert 800 < by_kind["check_in"]["distance_home_m"] < 840
    assert by_kind["check_out"]["distance_home_m"] < 1
