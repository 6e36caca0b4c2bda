"""Property tests of the geometric and interval rules, on plain data (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from geopy.distance import geodesic
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.rules import RULES
from dispatch.rules.data import ClientData, Context, EventData, OrderData, ServiceData
from routing import GeodesicTravel, Location

T = datetime(2026, 11, 16, 1, 0, tzinfo=UTC)
HOME = (29.3069, 120.0763)


def order(
    oid: int, start_min: float, minutes: float, *, client: int = 1, person: str = "p"
) -> OrderData:
    start = T + timedelta(minutes=start_min)
    return OrderData(
        id=oid,
        provider_id=1,
        client_id=client,
        caregiver_id=oid,
        person=person,
        service_type_id=1,
        visit_id=None,
        source="app",
        start_at=start,
        end_at=start + timedelta(minutes=minutes),
        billable_min=round(minutes),
        status="submitted",
    )


def context(*orders: OrderData, clients: dict[int, tuple[float, float]] | None = None) -> Context:
    ctx = Context()
    for o in orders:
        ctx.orders[o.id] = o
    for cid, (lat, lon) in (clients or {1: HOME}).items():
        ctx.clients[cid] = ClientData(cid, lat, lon, None)
    ctx.services[1] = ServiceData(1, "CHAT", None, False, 1, 45)
    ctx.rebuild_indexes()
    return ctx


def run(code: str, o: OrderData, ctx: Context, threshold: float | None) -> list:
    ctx.thresholds.setdefault("GPS_POOR", 150.0)
    return list(RULES[code].func(o, ctx, threshold))


@settings(max_examples=200, deadline=None)
@given(
    bearing=st.floats(0, 360),
    dist=st.floats(0, 2000),
    accuracy=st.floats(0, 1000),
    radius=st.floats(10, 1000),
)
def test_geofence_fires_exactly_beyond_radius_plus_capped_accuracy(
    bearing, dist, accuracy, radius
) -> None:
    point = geodesic(meters=dist).destination(HOME, bearing)
    o = order(1, 0, 45)
    ctx = context(o)
    ctx.events[1] = {
        "check_in": EventData(
            "check_in",
            point.latitude,
            point.longitude,
            accuracy,
            False,
            o.start_at,
            o.start_at,
            None,
        )
    }
    actual = geodesic(HOME, (point.latitude, point.longitude)).meters
    limit = radius + min(accuracy, 150.0)
    if abs(actual - limit) < 0.01:
        return  # floating point at the boundary
    found = run("GEOFENCE_IN", o, ctx, radius)
    assert bool(found) == (actual > limit)
    if found:
        assert abs(found[0].evidence["distance_m"] - actual) < 0.1


intervals = st.tuples(st.integers(0, 600), st.integers(1, 240))


@settings(max_examples=300, deadline=None)
@given(a=intervals, b=intervals, threshold=st.integers(0, 60))
def test_overlap_is_symmetric_and_matches_the_interval_arithmetic(a, b, threshold) -> None:
    oa, ob = order(1, *a, client=1), order(2, *b, client=2)
    ctx = context(oa, ob, clients={1: HOME, 2: (HOME[0] + 0.01, HOME[1])})
    overlap = min(a[0] + a[1], b[0] + b[1]) - max(a[0], b[0])
    expected = overlap > 0 and overlap >= threshold
    fa = {f.key for f in run("OVERLAP", oa, ctx, threshold)}
    fb = {f.key for f in run("OVERLAP", ob, ctx, threshold)}
    assert fa == fb  # each evaluation yields both findings, one per order
    assert fa == ({(1, "OVERLAP", 2), (2, "OVERLAP", 1)} if expected else set())


@settings(max_examples=300, deadline=None)
@given(a=intervals, b=intervals, share=st.floats(0.01, 1.0))
def test_duplicate_uses_the_share_of_the_shorter_order(a, b, share) -> None:
    oa, ob = order(1, *a, person="x"), order(2, *b, person="y")
    ctx = context(oa, ob)
    overlap = max(0, min(a[0] + a[1], b[0] + b[1]) - max(a[0], b[0]))
    ratio = overlap / min(a[1], b[1])
    if abs(ratio - share) < 1e-9:
        return
    found = run("DUPLICATE", oa, ctx, share)
    assert bool(found) == (overlap > 0 and ratio >= share)


@settings(max_examples=200, deadline=None)
@given(gap=st.integers(0, 180), north_m=st.floats(50, 20000), factor=st.floats(0.5, 2.0))
def test_impossible_travel_compares_the_gap_with_the_routers_travel_time(
    gap, north_m, factor
) -> None:
    far = geodesic(meters=north_m).destination(HOME, 0)
    oa, ob = order(1, 0, 45, client=1), order(2, 45 + gap, 45, client=2)
    ctx = context(oa, ob, clients={1: HOME, 2: (far.latitude, far.longitude)})
    model = GeodesicTravel()
    travel_s = int(
        model.matrix([Location(*HOME)], [Location(far.latitude, far.longitude)], "ebike").seconds[
            0, 0
        ]
    )
    ctx.travel_seconds = lambda a, b, mode: int(
        model.matrix([Location(*a)], [Location(*b)], mode).seconds[0, 0]
    )
    if abs(gap * 60 - travel_s * factor) < 1e-6:
        return
    found = {f.key for f in run("IMPOSSIBLE_TRAVEL", ob, ctx, factor)}
    expected = gap * 60 < travel_s * factor
    assert found == (
        {(1, "IMPOSSIBLE_TRAVEL", 2), (2, "IMPOSSIBLE_TRAVEL", 1)} if expected else set()
    )
