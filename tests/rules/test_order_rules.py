"""Each single-order rule: one case that trips it and one just inside it, arithmetic shown."""

from __future__ import annotations

from datetime import timedelta

from dispatch.models import Callback, Certificate, ClientAbsence
from dispatch.validation.engine import validate_orders
from tests.factories import T0, Builder


def test_missing_checkin_flagged(b: Builder) -> None:
    o = b.order(events=("check_out",))
    assert {"MISSING_CHECKIN"} <= b.codes(o)
    assert "MISSING_CHECKOUT" not in b.codes(o)
    assert b.status(o) == "flagged"


def test_missing_checkout_flagged_and_timesheet_needs_no_events(b: Builder) -> None:
    o = b.order(events=("check_in",))
    assert "MISSING_CHECKOUT" in b.codes(o)
    t = b.order(source="timesheet", start=T0 + timedelta(days=1))
    assert not {"MISSING_CHECKIN", "MISSING_CHECKOUT"} & b.codes(t)


def test_geofence_in_flagged(b: Builder) -> None:
    # 260 m from home > 200 m radius + 10 m accuracy = 210 m
    o = b.order(checkin={"north_m": 260})
    f = b.flags(o)["GEOFENCE_IN"]
    assert 255 < f.evidence["distance_m"] < 265
    assert f.evidence["limit_m"] == 210
    assert "GEOFENCE_OUT" not in b.codes(o)


def test_geofence_in_not_flagged_within_radius_plus_accuracy(b: Builder) -> None:
    # 240 m from home <= 200 m radius + 50 m accuracy = 250 m
    o = b.order(checkin={"north_m": 240, "accuracy_m": 50.0})
    assert "GEOFENCE_IN" not in b.codes(o)


def test_geofence_out_flagged_and_accuracy_credited_only_up_to_gps_poor(b: Builder) -> None:
    # 1000 m away claiming 5000 m accuracy: credit capped at 150 m -> limit 350 m < 1000 m
    o = b.order(checkout={"north_m": 1000, "accuracy_m": 5000.0})
    f = b.flags(o)["GEOFENCE_OUT"]
    assert f.evidence["accuracy_credited_m"] == 150
    assert "GPS_POOR" in b.codes(o)  # 5000 m > 150 m


def test_gps_poor_not_flagged_at_limit(b: Builder) -> None:
    # 150 m accuracy is not > 150 m
    o = b.order(checkin={"accuracy_m": 150.0})
    assert "GPS_POOR" not in b.codes(o)


def test_mock_location_device_flag(b: Builder) -> None:
    o = b.order(checkin={"mock_location": True})
    f = b.flags(o)["MOCK_LOCATION"]
    assert f.evidence["events"] == ["check_in"]
    assert b.status(o) == "flagged"


def test_mock_location_not_flagged_for_honest_device(b: Builder) -> None:
    assert "MOCK_LOCATION" not in b.codes(b.order())


def test_short_visit(b: Builder) -> None:
    # CHAT plans 45 min; 45 × 0.67 = 30.15 min: 30 min is short, 31 min is not
    assert "SHORT_VISIT" in b.codes(b.order(minutes=30))
    assert "SHORT_VISIT" not in b.codes(b.order(minutes=31, start=T0 + timedelta(hours=3)))


def test_long_visit(b: Builder) -> None:
    # 45 × 1.5 = 67.5 min: 68 min is long, 67 min is not
    o = b.order(minutes=68)
    assert b.flags(o)["LONG_VISIT"].evidence["limit_min"] == 67.5
    assert "LONG_VISIT" not in b.codes(b.order(minutes=67, start=T0 + timedelta(hours=3)))


def test_off_schedule(b: Builder) -> None:
    # window 09:00-10:00; start 11:01 is 61 min after the window end > 60 min slack
    win = (T0, T0 + timedelta(hours=1))
    late = b.order(start=T0 + timedelta(hours=2, minutes=1), window=win)
    assert b.flags(late)["OFF_SCHEDULE"].evidence["minutes_outside"] == 61
    # start 10:59 is 59 min after: inside the slack
    ok = b.order(
        start=T0 + timedelta(days=1, hours=1, minutes=59),
        window=(win[0] + timedelta(days=1), win[1] + timedelta(days=1)),
    )
    assert "OFF_SCHEDULE" not in b.codes(ok)


def test_photo_missing(b: Builder) -> None:
    # VISIT requires a photo; none came
    o = b.order(service="VISIT", minutes=30)
    assert "PHOTO_MISSING" in b.codes(o)
    p = b.photo()
    ok = b.order(
        service="VISIT", minutes=30, start=T0 + timedelta(hours=3), checkin={"photo_id": p.id}
    )
    assert "PHOTO_MISSING" not in b.codes(ok)


def test_photo_stale(b: Builder) -> None:
    # EXIF 31 min before the check-in > 30 min; 29 min is fine
    stale = b.photo(exif=T0 - timedelta(minutes=31))
    o = b.order(checkin={"photo_id": stale.id})
    assert b.flags(o)["PHOTO_STALE"].evidence["minutes_apart"] == 31
    fresh = b.photo(exif=T0 + timedelta(hours=3) - timedelta(minutes=29))
    ok = b.order(start=T0 + timedelta(hours=3), checkin={"photo_id": fresh.id})
    assert "PHOTO_STALE" not in b.codes(ok)


def test_skill_mismatch_missing_skill(b: Builder, world) -> None:
    # CLEAN needs skill CLEAN; this caregiver has none
    cg = world.caregiver_at(world.p1.provider, "CGX", skills=())
    o = b.order(service="CLEAN", minutes=60, caregiver=cg)
    assert b.flags(o)["SKILL_MISMATCH"].evidence["required_skill"] == "CLEAN"
    assert "SKILL_MISMATCH" not in b.codes(
        b.order(service="CLEAN", minutes=60, start=T0 + timedelta(hours=3))
    )


def test_skill_mismatch_expired_certificate(b: Builder, world, db) -> None:
    cg = world.caregiver_at(world.p1.provider, "CGN", skills=("NURSE",))
    # certificate for NURSE expired the day before the order (2026-11-15 < 2026-11-16)
    cg.certificates = [
        Certificate(kind="护理证", skill="NURSE", expires_on=(T0 - timedelta(days=1)).date())
    ]
    db.flush()
    o = b.order(service="NURSE", minutes=60, caregiver=cg)
    assert b.flags(o)["SKILL_MISMATCH"].evidence["certificate_expired_on"] == "2026-11-15"
    cg.certificates[0].expires_on = T0.date()  # valid through the order's day
    db.flush()
    o2 = b.order(service="NURSE", minutes=60, caregiver=cg, start=T0 + timedelta(hours=3))
    assert "SKILL_MISMATCH" not in b.codes(o2)


def test_client_absent(b: Builder, world, db) -> None:
    c = world.p1.client
    db.add(
        ClientAbsence(
            client_id=c.id,
            start_at=T0 - timedelta(days=1),
            end_at=T0 + timedelta(minutes=10),
            reason="hospital",
        )
    )
    db.flush()
    # the order 09:00-09:45 starts inside the absence that ends 09:10
    assert "CLIENT_ABSENT" in b.codes(b.order())
    # the next day is outside it
    assert "CLIENT_ABSENT" not in b.codes(b.order(start=T0 + timedelta(days=1)))


def test_over_entitlement(b: Builder, world, db) -> None:
    world.p1.client.monthly_entitlement_min = 100
    db.flush()
    # 45 + 45 = 90 <= 100; the third makes 135 > 100
    a = b.order()
    c = b.order(start=T0 + timedelta(days=1))
    d = b.order(start=T0 + timedelta(days=2))
    assert "OVER_ENTITLEMENT" not in b.codes(a) | b.codes(c)
    f = b.flags(d)["OVER_ENTITLEMENT"]
    assert (f.evidence["minutes_before"], f.evidence["month_total_min"]) == (90, 135)


def test_over_entitlement_moves_to_the_later_order_when_an_earlier_arrives(
    b: Builder, world, db
) -> None:
    world.p1.client.monthly_entitlement_min = 100
    db.flush()
    a = b.order(start=T0 + timedelta(days=1))
    c = b.order(start=T0 + timedelta(days=2))  # 45 + 45 = 90
    late = b.order(start=T0)  # arrives last but starts first: 45, then a 90, then c 135 > 100
    assert "OVER_ENTITLEMENT" not in b.codes(late) | b.codes(a)
    assert "OVER_ENTITLEMENT" in b.codes(c)


def test_daily_hours(b: Builder) -> None:
    # 7 h + 6 h = 13 h > 12 h in one local day: the second order passes the limit
    first = b.order(minutes=420, planned_min=420, start=T0 - timedelta(hours=2))
    second = b.order(minutes=360, planned_min=360, start=T0 + timedelta(hours=5, minutes=30))
    assert "DAILY_HOURS" not in b.codes(first)
    assert b.flags(second)["DAILY_HOURS"].evidence["day_total_min"] == 780


def test_daily_hours_not_flagged_at_limit(b: Builder) -> None:
    # 6 h + 6 h = 12 h, not above 12 h
    b.order(minutes=360, planned_min=360, start=T0 - timedelta(hours=2))
    second = b.order(minutes=360, planned_min=360, start=T0 + timedelta(hours=5))
    assert "DAILY_HOURS" not in b.codes(second)


def test_unscheduled(b: Builder) -> None:
    # a timesheet order with no visit that day for this client and service
    o = b.order(source="timesheet", visit=False)
    assert b.flags(o)["UNSCHEDULED"].severity.value == "info"
    assert b.status(o) == "verified"  # info flags do not hold an order


def test_unscheduled_not_flagged_when_a_visit_matches(b: Builder) -> None:
    planned = b.order(validate=False, source="timesheet")  # creates the visit of the day
    o = b.order(source="timesheet", visit=False, start=T0 + timedelta(hours=4))
    assert planned.visit_id is not None
    assert "UNSCHEDULED" not in b.codes(o)


def test_late_sync(b: Builder) -> None:
    # received 73 h after the device time > 72 h; 71 h is fine
    o = b.order(checkout={"received_at": T0 + timedelta(minutes=45, hours=73)})
    assert b.flags(o)["LATE_SYNC"].evidence["delay_h"] == 73
    ok = b.order(
        start=T0 + timedelta(hours=4),
        checkout={"received_at": T0 + timedelta(hours=4, minutes=45) + timedelta(hours=71)},
    )
    assert "LATE_SYNC" not in b.codes(ok)


def _answered(db, order, took_place: str, reached: bool = True) -> None:
    db.add(
        Callback(
            work_order_id=order.id,
            provider_id=order.provider_id,
            client_id=order.client_id,
            period_from=T0.date(),
            period_to=T0.date(),
            seed=1,
            status="answered",
            reached=reached,
            took_place=took_place,
            satisfaction=None,
        )
    )
    db.flush()


def test_callback_denied_flagged(b: Builder, db) -> None:
    # the elder, reached, says the service did not take place -> block
    o = b.order()
    _answered(db, o, "no")
    validate_orders(db, [o.id])
    f = b.flags(o)["CALLBACK_DENIED"]
    assert f.severity == "block" and f.evidence["took_place"] == "no"
    assert b.status(o) == "flagged"


def test_callback_denied_not_flagged_when_unsure_or_not_reached(b: Builder, db) -> None:
    unsure = b.order()
    _answered(db, unsure, "unsure")
    unreached = b.order(start=T0 + timedelta(days=1))
    _answered(db, unreached, "no", reached=False)  # a "no" nobody said counts for nothing
    validate_orders(db, [unsure.id, unreached.id])
    assert "CALLBACK_DENIED" not in b.codes(unsure) | b.codes(unreached)
