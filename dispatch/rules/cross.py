"""Rules that compare an order with others: the same person's, the same client's, any photo's.

A pairwise finding names the other order; the engine keeps one flag per (order, code, other)
and, when the evaluated order's partner lies outside the evaluation, still updates the partner.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

from dispatch.config import zone
from dispatch.geo import distance_m
from dispatch.models import WorkOrderStatus
from dispatch.rules.data import (
    NEAR,
    Context,
    OrderData,
    double_staffed,
    iso,
    overlap_s,
)
from dispatch.rules.registry import Finding, rule

# Longest believable order; neighbours starting earlier than this cannot overlap one.
MAX_ORDER = timedelta(hours=24)


def _pair_evidence(a: OrderData, b: OrderData) -> dict[str, object]:
    return {
        "order_start": iso(a.start_at),
        "order_end": iso(a.end_at),
        "other_start": iso(b.start_at),
        "other_end": iso(b.end_at),
        "other_provider_id": b.provider_id,
        "other_caregiver_id": b.caregiver_id,
        "other_client_id": b.client_id,
    }


def _both(
    code: str,
    a: OrderData,
    b: OrderData,
    shared: dict[str, object],
    side: Callable[[OrderData, OrderData], dict[str, object]] = lambda mine, other: {},
) -> Iterator[Finding]:
    """Symmetric findings: one on each order, each naming the other.

    ``shared`` must read the same from either order; what depends on the side goes in ``side``
    (mine, other), so that a flag's evidence does not depend on which order was evaluated.
    """
    for mine, other in ((a, b), (b, a)):
        evidence = {**shared, **side(mine, other), **_pair_evidence(mine, other)}
        yield Finding(mine.id, code, {**evidence, "other_work_order_id": other.id}, other.id)


@rule(
    "OVERLAP",
    severity="block",
    default=1,
    unit="min",
    low=0,
    high=240,
    pairwise=True,
    zh="同一护理员工单时间重叠",
)
def overlap(o: OrderData, ctx: Context, min_overlap: float) -> Iterator[Finding]:
    """One person's orders overlap in time (across providers; double-staffed legs excepted)."""
    for other in ctx.person_near(o, MAX_ORDER, o.end_at - o.start_at):
        if other.id == o.id or other.start_at >= o.end_at or other.end_at <= o.start_at:
            continue
        minutes = overlap_s(o, other) / 60
        if minutes >= min_overlap and minutes > 0 and not double_staffed(o, other, ctx):
            yield from _both(
                "OVERLAP",
                o,
                other,
                {
                    "overlap_min": round(minutes, 1),
                    "threshold_min": min_overlap,
                    "cross_provider": o.provider_id != other.provider_id,
                },
            )


@rule(
    "DUPLICATE",
    severity="block",
    default=0.5,
    unit="share of the shorter order",
    low=0.01,
    high=1.0,
    pairwise=True,
    zh="重复工单",
)
def duplicate(o: OrderData, ctx: Context, share: float) -> Iterator[Finding]:
    """Another order for the same client and service overlaps this one by at least the share."""
    for other in ctx.client_near(o, MAX_ORDER, o.end_at - o.start_at):
        if other.id == o.id or other.service_type_id != o.service_type_id:
            continue
        if other.start_at >= o.end_at or other.end_at <= o.start_at:
            continue
        if double_staffed(o, other, ctx):
            continue
        shorter = min((o.end_at - o.start_at), (other.end_at - other.start_at)).total_seconds()
        ov = overlap_s(o, other)
        if shorter > 0 and ov / shorter >= share:
            yield from _both(
                "DUPLICATE",
                o,
                other,
                {
                    "overlap_min": round(ov / 60, 1),
                    "overlap_share": round(ov / shorter, 3),
                    "threshold_share": share,
                },
                lambda mine, other: {"sources": [mine.source, other.source]},
            )


@rule(
    "IMPOSSIBLE_TRAVEL",
    severity="review",
    default=1.0,
    unit="× router travel time",
    low=0.1,
    high=5.0,
    pairwise=True,
    zh="行程时间不可能",
)
def impossible_travel(o: OrderData, ctx: Context, factor: float) -> Iterator[Finding]:
    """The gap between a person's consecutive orders is shorter than the router's travel time."""
    rows = ctx.by_person.get(o.person, [])
    idx = ctx.person_index(o)
    if idx is None or ctx.travel_seconds is None:
        return
    pairs = []
    if idx > 0:
        pairs.append((rows[idx - 1], o))
    if idx + 1 < len(rows):
        pairs.append((o, rows[idx + 1]))
    for a, b in pairs:
        gap_s = (b.start_at - a.end_at).total_seconds()
        if gap_s < 0 or gap_s > MAX_ORDER.total_seconds():
            continue  # overlapping orders are OVERLAP's; a day apart, anything is reachable
        ca, cb = ctx.clients.get(a.client_id), ctx.clients.get(b.client_id)
        if ca is None or cb is None or (ca.lat, ca.lon) == (cb.lat, cb.lon):
            continue
        caregiver = ctx.caregivers.get(b.caregiver_id)
        mode = caregiver.travel_mode if caregiver else "ebike"
        travel_s = ctx.travel_seconds((ca.lat, ca.lon), (cb.lat, cb.lon), mode)
        needed_s = travel_s * factor
        if gap_s < needed_s:
            yield from _both(
                "IMPOSSIBLE_TRAVEL",
                a,
                b,
                {
                    "gap_min": round(gap_s / 60, 1),
                    "travel_min": round(travel_s / 60, 1),
                    "required_min": round(needed_s / 60, 1),
                    "speed_factor": factor,
                    "travel_mode": mode,
                    "distance_m": round(distance_m(ca.lat, ca.lon, cb.lat, cb.lon)),
                    "from_order": a.id,
                    "to_order": b.id,
                },
            )


def _hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


@rule(
    "PHOTO_REUSED",
    severity="block",
    default=6,
    unit="bits of perceptual-hash distance",
    low=0,
    high=20,
    pairwise=True,
    zh="照片重复使用",
)
def photo_reused(o: OrderData, ctx: Context, max_bits: float) -> Iterator[Finding]:
    """A photo (same content, or a perceptual hash within the distance) was used on another visit.

    The later of the two orders (by start) is flagged, naming the earlier one that first used it.
    """
    mine = ctx.photo_ids(o.id)
    if not mine:
        return
    candidates: set[int] = set()
    for pid in mine:
        candidates.update(ctx.photo_orders.get(pid, ()))
        photo = ctx.photos.get(pid)
        if photo is None or photo.phash is None:
            continue
        candidates.update(oid for oid, _ in ctx.phash_orders.get(photo.phash, ()))
        # Near-identical copies (re-encoded, cropped) among the person's and client's orders.
        for key in (("p", o.person), ("c", o.client_id)):
            for _start, oid, qid in ctx.photos_near(key, o.start_at):
                q = ctx.photos.get(qid)
                if (
                    q is not None
                    and q.phash is not None
                    and _hamming(photo.phash, q.phash) <= max_bits
                ):
                    candidates.add(oid)
    for oid in sorted(candidates):
        other = ctx.orders.get(oid)
        if (
            other is None
            or oid == o.id
            or (other.visit_id is not None and other.visit_id == o.visit_id)
        ):
            continue
        first, later = (other, o) if other.sort_key < o.sort_key else (o, other)
        match = _photo_match(ctx, first, later, max_bits)
        if match is None:
            continue
        how, bits, p_first, p_later = match
        yield Finding(
            later.id,
            "PHOTO_REUSED",
            {
                "match": how,
                "hamming_bits": bits,
                "threshold_bits": max_bits,
                "photo_id": p_later,
                "first_photo_id": p_first,
                "first_used_on_work_order": first.id,
                "first_used_at": iso(first.start_at),
                "other_work_order_id": first.id,
            },
            first.id,
        )


def _photo_match(
    ctx: Context, first: OrderData, later: OrderData, max_bits: float
) -> tuple[str, int, int, int] | None:
    """How two orders' photos match, the same answer from either side: content, else closest."""
    a, b = sorted(set(ctx.photo_ids(first.id))), sorted(set(ctx.photo_ids(later.id)))
    shared = sorted(set(a) & set(b))
    if shared:
        return ("content_hash", 0, shared[0], shared[0])
    best: tuple[int, int, int] | None = None
    for p in a:
        pp = ctx.photos.get(p)
        if pp is None or pp.phash is None:
            continue
        for q in b:
            qq = ctx.photos.get(q)
            if qq is None or qq.phash is None:
                continue
            cand = (_hamming(pp.phash, qq.phash), p, q)
            if cand[0] <= max_bits and (best is None or cand < best):
                best = cand
    if best is None:
        return None
    return ("perceptual_hash", best[0], best[1], best[2])


@rule("MOCK_LOCATION", severity="block", pairwise=True, zh="虚拟定位")
def mock_location(o: OrderData, ctx: Context, _t: None) -> Iterator[Finding]:
    """The device reported a mock location, or the same coordinates (1e-6°) at two clients."""
    events = ctx.events.get(o.id, {})
    mocked = sorted(k for k, e in events.items() if e.mock_location)
    if mocked:
        yield Finding(o.id, "MOCK_LOCATION", {"device_mock_location": True, "events": mocked})
    mine = ctx.coords(o.id)
    if not mine:
        return
    for other in ctx.person_near(o):
        if other.id == o.id or other.client_id == o.client_id:
            continue
        same = mine & ctx.coords(other.id)
        if same:
            lat, lon = min(same)
            yield from _both(
                "MOCK_LOCATION",
                o,
                other,
                {"repeated_coordinates": [lat, lon]},
                lambda mine, other: {"client_id": mine.client_id, "other_client": other.client_id},
            )


@rule("DAILY_HOURS", severity="review", default=12, unit="h", low=1, high=24, zh="日服务时长超限")
def daily_hours(o: OrderData, ctx: Context, limit_h: float) -> Iterator[Finding]:
    """The person's billable minutes that local day, counted in start order, pass the limit here."""
    day = o.local_date
    before = 0
    for other in ctx.person_near(o, NEAR, timedelta(0)):
        if other.sort_key >= o.sort_key:
            break
        if other.status != WorkOrderStatus.rejected and other.local_date == day:
            before += other.billable_min
    total = before + o.billable_min
    if total > limit_h * 60 and o.status != WorkOrderStatus.rejected:
        yield Finding(
            o.id,
            "DAILY_HOURS",
            {
                "date": day.isoformat(),
                "minutes_before": before,
                "order_min": o.billable_min,
                "day_total_min": total,
                "limit_min": round(limit_h * 60),
            },
        )


@rule("OVER_ENTITLEMENT", severity="review", zh="超出月度服务额度")
def over_entitlement(o: OrderData, ctx: Context, _t: None) -> Iterator[Finding]:
    """The client's billable minutes this local month, in start order, pass the entitlement here."""
    client = ctx.clients.get(o.client_id)
    if (
        client is None
        or client.monthly_entitlement_min is None
        or o.status == WorkOrderStatus.rejected
    ):
        return
    before = ctx.month_before_min.get(o.id, 0)
    total = before + o.billable_min
    if total > client.monthly_entitlement_min:
        yield Finding(
            o.id,
            "OVER_ENTITLEMENT",
            {
                "month": o.start_at.astimezone(zone()).strftime("%Y-%m"),
                "minutes_before": before,
                "order_min": o.billable_min,
                "month_total_min": total,
                "entitlement_min": client.monthly_entitlement_min,
            },
        )
