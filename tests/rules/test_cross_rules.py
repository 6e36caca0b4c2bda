"""Rules across orders: overlap, duplicate, travel, photo reuse, repeated coordinates."""

from __future__ import annotations

from datetime import timedelta

from dispatch.models import Visit
from tests.factories import T0, Builder


def test_overlap_flags_both_orders_naming_each_other(b: Builder, world) -> None:
    c2 = world.client_at(world.p1.provider, "C1002", lat=29.3069 + 0.0005)
    a = b.order()  # 09:00-09:45
    o = b.order(start=T0 + timedelta(minutes=40), client=c2)  # 09:40-10:25: 5 min overlap >= 1
    fa, fo = b.flags(a)["OVERLAP"], b.flags(o)["OVERLAP"]
    assert (fa.other_work_order_id, fo.other_work_order_id) == (o.id, a.id)
    assert fa.evidence["overlap_min"] == 5
    assert b.status(a) == b.status(o) == "flagged"


def test_overlap_not_flagged_back_to_back(b: Builder, world) -> None:
    c2 = world.client_at(world.p1.provider, "C1002", lat=29.3069 + 0.0005)
    a = b.order()
    o = b.order(start=T0 + timedelta(minutes=45), client=c2)  # overlap 0 min
    assert "OVERLAP" not in b.codes(a) | b.codes(o)


def test_overlap_across_providers_same_person(b: Builder, world, db) -> None:
    world.p1.caregiver.person_hash = "h" * 64
    world.p2.caregiver.person_hash = "h" * 64
    db.flush()
    a = b.order()
    o = b.order(
        caregiver=world.p2.caregiver, client=world.p2.client, start=T0 + timedelta(minutes=30)
    )
    assert b.flags(o)["OVERLAP"].evidence["cross_provider"] is True
    assert "OVERLAP" in b.codes(a)


def test_overlap_different_people_across_providers_not_flagged(b: Builder, world) -> None:
    a = b.order()
    o = b.order(
        caregiver=world.p2.caregiver, client=world.p2.client, start=T0 + timedelta(minutes=30)
    )
    assert "OVERLAP" not in b.codes(a) | b.codes(o)


def test_duplicate_app_and_timesheet(b: Builder) -> None:
    # same client and service; 09:00-09:45 and 09:20-10:05 overlap 25 min / 45 = 0.56 >= 0.5
    a = b.order()
    t = b.order(
        source="timesheet",
        visit=False,
        start=T0 + timedelta(minutes=20),
        caregiver=b.world.caregiver_at(b.world.p1.provider, "CG2"),
    )
    f = b.flags(t)["DUPLICATE"]
    assert f.other_work_order_id == a.id and f.evidence["overlap_share"] == 0.556
    assert "DUPLICATE" in b.codes(a)


def test_duplicate_not_flagged_below_half(b: Builder) -> None:
    # 09:00-09:45 and 09:25-10:10: 20 / 45 = 0.44 < 0.5
    a = b.order()
    t = b.order(
        source="timesheet",
        visit=False,
        start=T0 + timedelta(minutes=25),
        caregiver=b.world.caregiver_at(b.world.p1.provider, "CG2"),
    )
    assert "DUPLICATE" not in b.codes(a) | b.codes(t)


def test_double_staffed_legs_are_no_duplicate(b: Builder, world, db) -> None:
    # BATH needs two caregivers: two orders of the same visit at the same time
    cg2 = world.caregiver_at(world.p1.provider, "CG2", skills=("BATH",))
    a = b.order(service="BATH", minutes=60)
    v = db.get(Visit, a.visit_id)
    o = b.order(service="BATH", minutes=60, caregiver=cg2, visit=v)
    assert "DUPLICATE" not in b.codes(a) | b.codes(o)
    assert "OVERLAP" not in b.codes(a) | b.codes(o)


def test_two_caregivers_on_a_single_staffed_visit_are_a_duplicate(b: Builder, world, db) -> None:
    cg2 = world.caregiver_at(world.p1.provider, "CG2")
    a = b.order()
    o = b.order(caregiver=cg2, visit=db.get(Visit, a.visit_id))
    assert "DUPLICATE" in b.codes(o)


def test_impossible_travel(b: Builder, world) -> None:
    # clients 5 km apart (0.045° of latitude ≈ 5004 m); e-bike 4.2 m/s, detour 1.3:
    # 5004 × 1.3 / 4.2 ≈ 1549 s ≈ 25.8 min > 10 min gap
    far = world.client_at(world.p1.provider, "C1009", lat=29.3069 + 0.045)
    a = b.order()
    o = b.order(client=far, start=T0 + timedelta(minutes=55))
    f = b.flags(o)["IMPOSSIBLE_TRAVEL"]
    assert f.evidence["gap_min"] == 10 and 25 < f.evidence["travel_min"] < 27
    assert f.other_work_order_id == a.id and "IMPOSSIBLE_TRAVEL" in b.codes(a)


def test_possible_travel_not_flagged(b: Builder, world) -> None:
    # same 25.8 min of travel, 30 min gap
    far = world.client_at(world.p1.provider, "C1009", lat=29.3069 + 0.045)
    a = b.order()
    o = b.order(client=far, start=T0 + timedelta(minutes=75))
    assert "IMPOSSIBLE_TRAVEL" not in b.codes(a) | b.codes(o)


def test_photo_reused_by_content_flags_the_later_order(b: Builder, world) -> None:
    p = b.photo()
    c2 = world.client_at(world.p1.provider, "C1002")
    first = b.order(service="VISIT", minutes=30, checkin={"photo_id": p.id})
    later = b.order(
        service="VISIT",
        minutes=30,
        client=c2,
        start=T0 + timedelta(days=1),
        checkin={"photo_id": p.id},
    )
    f = b.flags(later)["PHOTO_REUSED"]
    assert (
        f.evidence["match"] == "content_hash" and f.evidence["first_used_on_work_order"] == first.id
    )
    assert "PHOTO_REUSED" not in b.codes(first)


def test_photo_reused_by_perceptual_hash(b: Builder) -> None:
    # phashes differ in 3 bits (0x...07) <= 6
    p1, p2 = b.photo(phash="a1b2c3d4e5f60000"), b.photo(phash="a1b2c3d4e5f60007")
    b.order(service="VISIT", minutes=30, checkin={"photo_id": p1.id})
    later = b.order(
        service="VISIT", minutes=30, start=T0 + timedelta(hours=5), checkin={"photo_id": p2.id}
    )
    assert b.flags(later)["PHOTO_REUSED"].evidence["hamming_bits"] == 3


def test_photo_not_reused_when_far_in_hash(b: Builder) -> None:
    # 0x7f differs in 7 bits > 6
    p1, p2 = b.photo(phash="a1b2c3d4e5f60000"), b.photo(phash="a1b2c3d4e5f6007f")
    b.order(service="VISIT", minutes=30, checkin={"photo_id": p1.id})
    later = b.order(
        service="VISIT", minutes=30, start=T0 + timedelta(hours=5), checkin={"photo_id": p2.id}
    )
    assert "PHOTO_REUSED" not in b.codes(later)


def test_same_coordinates_at_two_clients_is_mock_location(b: Builder, world) -> None:
    c2 = world.client_at(world.p1.provider, "C1002", lat=29.3069 + 0.0005)  # 56 m away
    spot = {"lat": 29.30712345, "lon": 120.07631234}
    a = b.order(checkin=dict(spot))
    o = b.order(client=c2, start=T0 + timedelta(hours=2), checkin=dict(spot))
    assert b.flags(o)["MOCK_LOCATION"].other_work_order_id == a.id
    assert "MOCK_LOCATION" in b.codes(a)


def test_nearby_but_different_coordinates_are_no_mock(b: Builder, world) -> None:
    c2 = world.client_at(world.p1.provider, "C1002", lat=29.3069 + 0.0005)
    a = b.order(checkin={"lat": 29.30712345, "lon": 120.07631234})
    o = b.order(
        client=c2, start=T0 + timedelta(hours=2), checkin={"lat": 29.30712445, "lon": 120.07631234}
    )
    assert "MOCK_LOCATION" not in b.codes(a) | b.codes(o)
