"""The batch (set-based prefilters, then the rules on the candidates) against incremental.

Each case puts one rule at its threshold edge: an order just past it and one just inside. The
orders are validated one by one as they arrive (incremental); then flags and statuses are wiped
and ``validate_period`` re-evaluates the period. Flags (code, partner, status, severity,
evidence) and statuses must come out the same: a prefilter that misses an order the rule flags
makes the batch verify it, and the case fails. The flagged order of each case trips no other
rule's prefilter, so that no other prefilter hides a miss.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from geopy.distance import geodesic
from sqlalchemy import select, update

from dispatch.geo import distance_m
from dispatch.models import Callback, Certificate, ClientAbsence, Flag, RuleSetting, WorkOrder
from dispatch.rules import WORK_ORDER, rules_for
from dispatch.rules import prefilter as pf
from dispatch.validation.batch import prefilters_naming
from dispatch.validation.engine import rule_configs, validate_orders, validate_period
from tests.factories import T0, Builder

FROM, TO = T0 - timedelta(days=3), T0 + timedelta(days=12)
H = timedelta(hours=1)
M = timedelta(minutes=1)


def _state(db: Any) -> tuple[list[tuple], list[tuple]]:
    flags = sorted(
        (
            f.work_order_id,
            f.code,
            f.other_work_order_id,
            f.status.value,
            f.severity.value,
            repr(sorted(f.evidence.items())),
            f.resolution,
        )
        for f in db.scalars(select(Flag))
    )
    statuses = sorted((o.id, o.status.value) for o in db.scalars(select(WorkOrder)))
    return flags, statuses


def _wipe(db: Any) -> None:
    db.execute(Flag.__table__.delete())
    db.execute(update(WorkOrder.__table__).values(status="submitted"))
    db.expire_all()


def _at(client: Any, metres: float, bearing: float) -> dict[str, float]:
    """A point at an exact WGS84-ellipsoid distance and bearing from the client's home."""
    p = geodesic(meters=metres).destination((client.lat, client.lon), bearing)
    return {"lat": p.latitude, "lon": p.longitude}


# Each case builds its orders (validated on arrival) and answers (code, flagged, clear).
Case = Callable[[Builder, Any, Any], tuple[str, WorkOrder, WorkOrder]]


def missing_checkin(b, world, db):
    return "MISSING_CHECKIN", b.order(events=("check_out",)), b.order(start=T0 + 3 * H)


def missing_checkout(b, world, db):
    return "MISSING_CHECKOUT", b.order(events=("check_in",)), b.order(start=T0 + 3 * H)


def geofence_in(b, world, db):
    # East-west the ellipsoid is longer than the sphere: 210.3 m on the ellipsoid is ~209.9 m
    # on the sphere, under the 200 + 10 m limit, yet flagged; 209.7 m is not.
    c = world.p1.client
    out, inside = _at(c, 210.3, 90), _at(c, 209.7, 90)
    assert distance_m(out["lat"], out["lon"], c.lat, c.lon) < 210
    return (
        "GEOFENCE_IN",
        b.order(checkin=out),
        b.order(start=T0 + 3 * H, checkin=inside),
    )


def geofence_out(b, world, db):
    # North-south the sphere is longer: 209.7 m on the ellipsoid is ~210.4 m on the sphere,
    # over the limit there, yet not flagged; 210.3 m is.
    c = world.p1.client
    out, inside = _at(c, 210.3, 0), _at(c, 209.7, 0)
    assert distance_m(inside["lat"], inside["lon"], c.lat, c.lon) > 210
    return (
        "GEOFENCE_OUT",
        b.order(checkout=out),
        b.order(start=T0 + 3 * H, checkout=inside),
    )


def gps_poor(b, world, db):
    return (
        "GPS_POOR",
        b.order(checkin={"accuracy_m": 150.01}),
        b.order(start=T0 + 3 * H, checkin={"accuracy_m": 150.0}),
    )


def short_visit(b, world, db):
    # CHAT plans 45 min: 45 × 0.67 = 30.15
    return "SHORT_VISIT", b.order(minutes=30.1), b.order(minutes=30.2, start=T0 + 3 * H)


def long_visit(b, world, db):
    # 45 × 1.5 = 67.5
    return "LONG_VISIT", b.order(minutes=67.6), b.order(minutes=67.5, start=T0 + 3 * H)


def off_schedule(b, world, db):
    win = (T0 - 2 * H, T0 - H)  # the order starts 60 min after the window: not > 60
    late = b.order(start=T0 + timedelta(seconds=6), window=win)
    ok = b.order(start=T0 + 24 * H, window=(win[0] + 24 * H, win[1] + 24 * H))
    return "OFF_SCHEDULE", late, ok


def photo_missing(b, world, db):
    p = b.photo()
    ok = b.order(service="VISIT", minutes=30, start=T0 + 3 * H, checkin={"photo_id": p.id})
    return "PHOTO_MISSING", b.order(service="VISIT", minutes=30), ok


def photo_stale(b, world, db):
    stale = b.photo(exif=T0 - 30 * M - timedelta(seconds=6))
    fresh = b.photo(exif=T0 + 3 * H - 30 * M)
    return (
        "PHOTO_STALE",
        b.order(checkin={"photo_id": stale.id}),
        b.order(start=T0 + 3 * H, checkin={"photo_id": fresh.id}),
    )


def skill_mismatch(b, world, db):
    expired = world.caregiver_at(world.p1.provider, "CGE", skills=("NURSE",))
    valid = world.caregiver_at(world.p1.provider, "CGV", skills=("NURSE",))
    expired.certificates = [
        Certificate(kind="护理证", skill="NURSE", expires_on=(T0 - 24 * H).date())
    ]
    valid.certificates = [Certificate(kind="护理证", skill="NURSE", expires_on=T0.date())]
    db.flush()
    p1, p2 = b.photo(), b.photo()
    return (
        "SKILL_MISMATCH",
        b.order(service="NURSE", minutes=60, caregiver=expired, checkin={"photo_id": p1.id}),
        b.order(
            service="NURSE",
            minutes=60,
            caregiver=valid,
            start=T0 + 3 * H,
            checkin={"photo_id": p2.id},
        ),
    )


def client_absent(b, world, db):
    away = world.client_at(world.p1.provider, "C1201", lat=29.3169)
    back = world.client_at(world.p1.provider, "C1202", lat=29.3269)
    db.add(ClientAbsence(client_id=away.id, start_at=T0 - 48 * H, end_at=T0 + M, reason="hospital"))
    db.add(ClientAbsence(client_id=back.id, start_at=T0 - 48 * H, end_at=T0, reason="hospital"))
    db.flush()
    return (
        "CLIENT_ABSENT",
        b.order(client=away),
        b.order(client=back, start=T0 + 3 * H),
    )


def callback_denied(b, world, db):
    # A call-back where the elder says "no" flags; one answered "unsure" does not.
    hit = b.order(validate=False)
    clear = b.order(start=T0 + 3 * H, validate=False)
    for order, took in ((hit, "no"), (clear, "unsure")):
        db.add(
            Callback(
                work_order_id=order.id,
                provider_id=order.provider_id,
                client_id=order.client_id,
                period_from=T0.date(),
                period_to=T0.date(),
                seed=1,
                status="answered",
                reached=True,
                took_place=took,
            )
        )
    db.flush()
    validate_orders(db, [hit.id, clear.id])
    return "CALLBACK_DENIED", hit, clear


def unscheduled(b, world, db):
    other = world.client_at(world.p1.provider, "C1203")
    b.order(validate=False, source="timesheet", client=other, start=T0 + 8 * H)  # the day's visit
    return (
        "UNSCHEDULED",
        b.order(source="timesheet", visit=False),
        b.order(source="timesheet", visit=False, client=other, start=T0 + 4 * H),
    )


def late_sync(b, world, db):
    end = T0 + 45 * M
    return (
        "LATE_SYNC",
        b.order(checkout={"received_at": end + 72 * H + timedelta(seconds=4)}),
        b.order(start=T0 + 4 * H, checkout={"received_at": end + 4 * H + 72 * H}),
    )


def mock_location(b, world, db):
    # 29.3070015 sits on a rounding edge: Python rounds its float down to k = 29.307001, while
    # the float 29.3070015 × 1e6 + 0.5 is exactly 29307002. k − 4e-7 rounds to the same k: the
    # same spot at two clients. k − 6e-7 rounds elsewhere: no repeat.
    c2 = world.client_at(world.p1.provider, "C1002", lat=29.3069 + 0.0005)
    lon, edge = 120.07631234, 29.3070015
    k = round(edge, 6)
    assert round(k - 4e-7, 6) == k != round(k - 6e-7, 6)
    a = b.order(checkin={"lat": edge, "lon": lon})
    hit = b.order(client=c2, start=T0 + 2 * H, checkin={"lat": k - 4e-7, "lon": lon})
    c = b.order(start=T0 + 48 * H, checkin={"lat": edge, "lon": lon})
    clear = b.order(client=c2, start=T0 + 50 * H, checkin={"lat": k - 6e-7, "lon": lon})
    assert "MOCK_LOCATION" in b.codes(a) and "MOCK_LOCATION" not in b.codes(c)
    return "MOCK_LOCATION", hit, clear


def overlap(b, world, db):
    c2 = world.client_at(world.p1.provider, "C1002", lat=29.3069 + 0.0005)
    b.order()  # 09:00-09:45
    hit = b.order(client=c2, start=T0 + 44 * M)  # 1 min overlap >= 1
    b.order(start=T0 + 24 * H)
    clear = b.order(client=c2, start=T0 + 24 * H + 44 * M + timedelta(seconds=30))  # 0.5 min
    return "OVERLAP", hit, clear


def duplicate(b, world, db):
    cg2 = world.caregiver_at(world.p1.provider, "CG2")
    b.order()  # 09:00-09:45; a timesheet row 22.5 min in: overlap share 22.5 / 45 = 0.5
    hit = b.order(source="timesheet", visit=False, caregiver=cg2, start=T0 + 22.5 * M)
    b.order(start=T0 + 24 * H)
    clear = b.order(source="timesheet", visit=False, caregiver=cg2, start=T0 + 24 * H + 23 * M)
    return "DUPLICATE", hit, clear


def impossible_travel(b, world, db):
    # 0.045° north ≈ 5004 m: × 1.3 / 4.2 m/s = 1549 s of e-bike travel
    far = world.client_at(world.p1.provider, "C1009", lat=29.3069 + 0.045)
    b.order()
    hit = b.order(client=far, start=T0 + 45 * M + timedelta(seconds=1548))
    b.order(start=T0 + 24 * H)
    clear = b.order(client=far, start=T0 + 24 * H + 45 * M + timedelta(seconds=1549))
    return "IMPOSSIBLE_TRAVEL", hit, clear


def photo_reused(b, world, db):
    # 6 bits apart within 7 days is a reuse; 6 bits apart 7 days and 1 min later is not
    p1, p2 = b.photo(phash="a1b2c3d4e5f60000"), b.photo(phash="a1b2c3d4e5f6003f")
    q1, q2 = b.photo(phash="0f0f0f0f0f0f0000"), b.photo(phash="0f0f0f0f0f0f003f")
    b.order(service="VISIT", minutes=30, checkin={"photo_id": p1.id})
    hit = b.order(service="VISIT", minutes=30, start=T0 + 7 * 24 * H, checkin={"photo_id": p2.id})
    b.order(service="VISIT", minutes=30, start=T0 + 2 * H, checkin={"photo_id": q1.id})
    clear = b.order(
        service="VISIT", minutes=30, start=T0 + 7 * 24 * H + 2 * H + M, checkin={"photo_id": q2.id}
    )
    return "PHOTO_REUSED", hit, clear


def daily_hours(b, world, db):
    # 12 h = 720 min: 400 + 321 passes it, 400 + 320 does not
    b.order(billable_min=400)
    hit = b.order(billable_min=321, start=T0 + H)
    b.order(billable_min=400, start=T0 + 24 * H)
    clear = b.order(billable_min=320, start=T0 + 25 * H)
    return "DAILY_HOURS", hit, clear


def over_entitlement(b, world, db):
    over = world.client_at(world.p1.provider, "C1301", monthly_entitlement_min=100, lat=29.3169)
    under = world.client_at(world.p1.provider, "C1302", monthly_entitlement_min=100, lat=29.3269)
    b.order(client=over, minutes=60)
    hit = b.order(client=over, minutes=41, start=T0 + 24 * H)
    b.order(client=under, minutes=60, start=T0 + 2 * H)
    clear = b.order(client=under, minutes=40, start=T0 + 26 * H)
    return "OVER_ENTITLEMENT", hit, clear


CASES: list[Case] = [
    missing_checkin,
    missing_checkout,
    geofence_in,
    geofence_out,
    gps_poor,
    short_visit,
    long_visit,
    off_schedule,
    photo_missing,
    photo_stale,
    skill_mismatch,
    client_absent,
    callback_denied,
    unscheduled,
    late_sync,
    mock_location,
    overlap,
    duplicate,
    impossible_travel,
    photo_reused,
    daily_hours,
    over_entitlement,
]


def test_every_rule_has_a_case_and_a_prefilter() -> None:
    codes = {case.__name__.upper() for case in CASES}
    assert codes == set(rules_for(WORK_ORDER))
    assert set(rules_for(WORK_ORDER)) <= pf.covered()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__.upper())
def test_batch_equals_incremental_at_the_threshold_edge(case: Case, b: Builder, world, db) -> None:
    code, hit, clear = case(b, world, db)
    assert code in b.codes(hit)
    assert code not in b.codes(clear)
    # Only the rule's own prefilter names the flagged order: none other hides a miss.
    named = prefilters_naming(db, FROM, TO, hit.id, rule_configs(db))
    shared = {c for codes, _ in pf.CROSS if code in codes for c in codes} | {code}
    assert code in named and named <= shared, named
    incremental = _state(db)
    _wipe(db)
    validate_period(db, FROM, TO)
    assert _state(db) == incremental
    validate_period(db, FROM, TO)  # a rerun changes nothing
    assert _state(db) == incremental


def test_after_threshold_changes_batch_equals_incremental(b: Builder, world, db) -> None:
    """Both ways of applying changed thresholds close, reopen and keep the same flags."""
    # Several cases in one world: they meet (one caregiver, one home), which only adds flags.
    for case in (geofence_in, short_visit, overlap, duplicate, impossible_travel, photo_reused):
        case(b, world, db)
    for case in (daily_hours, late_sync, missing_checkin, over_entitlement, client_absent):
        case(b, world, db)
    ids = list(db.scalars(select(WorkOrder.id)))
    validate_orders(db, ids)
    for code, threshold in (
        ("GEOFENCE_IN", 220),
        ("SHORT_VISIT", 0.6),
        ("OVERLAP", 0),
        ("DUPLICATE", 0.45),
        ("IMPOSSIBLE_TRAVEL", 1.2),
        ("PHOTO_REUSED", 8),
        ("DAILY_HOURS", 11),
        ("LATE_SYNC", 73),
    ):
        db.add(RuleSetting(code=code, threshold=threshold))
    db.add(RuleSetting(code="MISSING_CHECKIN", enabled=False))
    db.flush()
    nested = db.begin_nested()
    validate_period(db, FROM, TO)
    batch = _state(db)
    nested.rollback()
    db.expire_all()
    validate_orders(db, ids)
    incremental = _state(db)
    assert batch == incremental
    assert any(f[3] == "closed" for f in batch[0])


def _near_brute(order_id, visit_id, person, client, start_s, phash, max_bits, horizon_s):
    out = set()
    n = len(order_id)
    for i in range(n):
        for j in range(n):
            if i == j or visit_id[i] == visit_id[j] or abs(start_s[i] - start_s[j]) > horizon_s:
                continue
            if person[i] != person[j] and client[i] != client[j]:
                continue
            if bin((int(phash[i]) ^ int(phash[j])) & (2**64 - 1)).count("1") <= max_bits:
                out.update((int(order_id[i]), int(order_id[j])))
    return out


@pytest.mark.parametrize("seed", range(20))
def test_near_photo_pairs_equal_the_pairwise_search(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.randint(0, 60)
    base = [rng.getrandbits(64) - 2**63 for _ in range(4)]
    cols = [
        np.arange(n, dtype=np.int64),
        np.array([rng.randint(0, n) for _ in range(n)], dtype=np.int64),
        np.array([rng.randint(0, 3) for _ in range(n)], dtype=np.int64),
        np.array([rng.randint(0, 3) for _ in range(n)], dtype=np.int64),
        np.array([rng.randint(0, 20) * 3600 for _ in range(n)], dtype=np.int64),
        np.array(
            [(rng.choice(base) ^ rng.getrandbits(rng.choice((2, 4, 8)))) for _ in range(n)],
            dtype=np.int64,
        ),
    ]
    got = pf.near_photo_pairs(*cols, max_bits=3, horizon_s=7 * 3600)
    assert set(got.tolist()) == _near_brute(*cols, 3, 7 * 3600)


def test_one_providers_batch_equals_every_order_through_the_rules(b: Builder, world, db) -> None:
    """A provider's batch touches its orders (and the partners they name), as the rules would."""
    world.p1.caregiver.person_hash = "h" * 64
    world.p2.caregiver.person_hash = "h" * 64  # one person at two providers
    db.flush()
    mine = b.order(caregiver=world.p2.caregiver, client=world.p2.client, minutes=30)  # short
    theirs = b.order(start=T0 + 20 * M)  # overlaps it: the same person
    away = world.client_at(world.p1.provider, "C1401", lat=29.3369)
    short = b.order(client=away, start=T0 + 5 * H, minutes=30)  # provider 1's own short visit
    _wipe(db)
    nested = db.begin_nested()
    validate_period(db, FROM, TO, world.p2.provider.id, prefilters=False)
    expected = _state(db)
    nested.rollback()
    db.expire_all()
    validate_period(db, FROM, TO, provider_id=world.p2.provider.id)
    assert _state(db) == expected
    assert {"SHORT_VISIT", "OVERLAP"} <= b.codes(mine)
    assert "OVERLAP" in b.codes(theirs)  # the partner's side of the pair
    assert not b.codes(short) and b.status(short) == "submitted"  # not this provider's
