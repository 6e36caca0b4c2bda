"""Rules about one order and its own events, photos, client, caregiver and visit."""

from __future__ import annotations

from collections.abc import Iterator

from dispatch.models import VisitStatus
from dispatch.qualification import lapsed_on
from dispatch.rules.data import Context, OrderData, farther_than, iso
from dispatch.rules.registry import Finding, rule


@rule("MISSING_CHECKIN", severity="block", zh="缺少签到记录")
def missing_checkin(o: OrderData, ctx: Context, _t: None) -> Iterator[Finding]:
    """An app order has no check-in event."""
    if o.source == "app" and "check_in" not in ctx.events.get(o.id, {}):
        yield Finding(o.id, "MISSING_CHECKIN", {"visit_id": o.visit_id, "missing": "check_in"})


@rule("MISSING_CHECKOUT", severity="block", zh="缺少签退记录")
def missing_checkout(o: OrderData, ctx: Context, _t: None) -> Iterator[Finding]:
    """An app order has no check-out event."""
    if o.source == "app" and "check_out" not in ctx.events.get(o.id, {}):
        yield Finding(o.id, "MISSING_CHECKOUT", {"visit_id": o.visit_id, "missing": "check_out"})


def _geofence(o: OrderData, ctx: Context, radius_m: float, kind: str, code: str):
    event = ctx.events.get(o.id, {}).get(kind)
    client = ctx.clients.get(o.client_id)
    if event is None or client is None:
        return
    # Reported accuracy widens the fence, but only up to the GPS_POOR threshold: a phone that
    # claims 5 km accuracy must not pass every geofence.
    cap = ctx_threshold(ctx, "GPS_POOR", 150.0)
    accuracy = min(max(event.accuracy_m or 0.0, 0.0), cap)
    limit = radius_m + accuracy
    d = farther_than(event.lat, event.lon, client.lat, client.lon, limit)
    if d is not None:
        yield Finding(
            o.id,
            code,
            {
                "event": kind,
                "distance_m": round(d, 1),
                "radius_m": radius_m,
                "accuracy_m": event.accuracy_m,
                "accuracy_credited_m": accuracy,
                "limit_m": limit,
                "event_lat": event.lat,
                "event_lon": event.lon,
                "client_lat": client.lat,
                "client_lon": client.lon,
            },
        )


def ctx_threshold(ctx: Context, code: str, default: float) -> float:
    value = ctx.thresholds.get(code)
    return default if value is None else float(value)


@rule(
    "GEOFENCE_IN",
    severity="review",
    default=200,
    unit="m",
    low=10,
    high=5000,
    zh="签到位置超出范围",
)
def geofence_in(o: OrderData, ctx: Context, radius_m: float) -> Iterator[Finding]:
    """The check-in is farther from the client's home than radius + reported accuracy."""
    yield from _geofence(o, ctx, radius_m, "check_in", "GEOFENCE_IN")


@rule(
    "GEOFENCE_OUT",
    severity="review",
    default=200,
    unit="m",
    low=10,
    high=5000,
    zh="签退位置超出范围",
)
def geofence_out(o: OrderData, ctx: Context, radius_m: float) -> Iterator[Finding]:
    """The check-out is farther from the client's home than radius + reported accuracy."""
    yield from _geofence(o, ctx, radius_m, "check_out", "GEOFENCE_OUT")


@rule("GPS_POOR", severity="info", default=150, unit="m", low=5, high=10000, zh="定位精度差")
def gps_poor(o: OrderData, ctx: Context, limit_m: float) -> Iterator[Finding]:
    """An event's reported accuracy is too coarse to judge the geofence."""
    for kind, e in sorted(ctx.events.get(o.id, {}).items()):
        if e.accuracy_m is not None and e.accuracy_m > limit_m:
            yield Finding(
                o.id, "GPS_POOR", {"event": kind, "accuracy_m": e.accuracy_m, "limit_m": limit_m}
            )
            return


def _actual_and_planned(o: OrderData, ctx: Context) -> tuple[float, int] | None:
    visit = ctx.visits.get(o.visit_id) if o.visit_id else None
    service = ctx.services.get(o.service_type_id)
    planned = visit.duration_min if visit else service.default_duration_min if service else None
    if not planned:
        return None
    return (o.end_at - o.start_at).total_seconds() / 60, planned


@rule(
    "SHORT_VISIT",
    severity="review",
    default=0.67,
    unit="× planned",
    low=0.05,
    high=1.0,
    zh="服务时长过短",
)
def short_visit(o: OrderData, ctx: Context, factor: float) -> Iterator[Finding]:
    """The actual duration is below planned × factor."""
    got = _actual_and_planned(o, ctx)
    if got and got[0] < got[1] * factor:
        actual, planned = got
        yield Finding(
            o.id,
            "SHORT_VISIT",
            {
                "actual_min": round(actual, 1),
                "planned_min": planned,
                "factor": factor,
                "limit_min": round(planned * factor, 1),
            },
        )


@rule(
    "LONG_VISIT",
    severity="review",
    default=1.5,
    unit="× planned",
    low=1.0,
    high=10.0,
    zh="服务时长过长",
)
def long_visit(o: OrderData, ctx: Context, factor: float) -> Iterator[Finding]:
    """The actual duration is above planned × factor."""
    got = _actual_and_planned(o, ctx)
    if got and got[0] > got[1] * factor:
        actual, planned = got
        yield Finding(
            o.id,
            "LONG_VISIT",
            {
                "actual_min": round(actual, 1),
                "planned_min": planned,
                "factor": factor,
                "limit_min": round(planned * factor, 1),
            },
        )


@rule("OFF_SCHEDULE", severity="info", default=60, unit="min", low=0, high=1440, zh="偏离计划时间")
def off_schedule(o: OrderData, ctx: Context, slack_min: float) -> Iterator[Finding]:
    """The order starts more than the slack before or after its visit's planned window."""
    visit = ctx.visits.get(o.visit_id) if o.visit_id else None
    if visit is None:
        return
    early = (visit.window_start_at - o.start_at).total_seconds() / 60
    late = (o.start_at - visit.window_end_at).total_seconds() / 60
    off = max(early, late)
    if off > slack_min:
        yield Finding(
            o.id,
            "OFF_SCHEDULE",
            {
                "start_at": iso(o.start_at),
                "window_start": iso(visit.window_start_at),
                "window_end": iso(visit.window_end_at),
                "minutes_outside": round(off, 1),
                "slack_min": slack_min,
            },
        )


@rule("PHOTO_MISSING", severity="review", zh="缺少照片")
def photo_missing(o: OrderData, ctx: Context, _t: None) -> Iterator[Finding]:
    """The service requires photo proof and no event of an app order carried one."""
    service = ctx.services.get(o.service_type_id)
    if o.source != "app" or service is None or not service.photo_required:
        return
    if not ctx.photo_ids(o.id):
        yield Finding(o.id, "PHOTO_MISSING", {"service": service.code, "photo_required": True})


@rule(
    "PHOTO_STALE",
    severity="review",
    default=30,
    unit="min",
    low=1,
    high=10080,
    zh="照片拍摄时间不符",
)
def photo_stale(o: OrderData, ctx: Context, limit_min: float) -> Iterator[Finding]:
    """A photo's own capture time (EXIF) is far from the event it came with."""
    for kind, e in sorted(ctx.events.get(o.id, {}).items()):
        photo = ctx.photos.get(e.photo_id) if e.photo_id else None
        if photo is None or photo.exif_taken_at is None:
            continue
        diff = abs((photo.exif_taken_at - e.device_time_at).total_seconds()) / 60
        if diff > limit_min:
            yield Finding(
                o.id,
                "PHOTO_STALE",
                {
                    "event": kind,
                    "photo_id": photo.id,
                    "exif_taken_at": iso(photo.exif_taken_at),
                    "event_time": iso(e.device_time_at),
                    "minutes_apart": round(diff, 1),
                    "limit_min": limit_min,
                },
            )
            return


@rule("SKILL_MISMATCH", severity="block", zh="技能或证书不符")
def skill_mismatch(o: OrderData, ctx: Context, _t: None) -> Iterator[Finding]:
    """The caregiver lacks the required skill, or every certificate proving it had expired."""
    visit = ctx.visits.get(o.visit_id) if o.visit_id else None
    service = ctx.services.get(o.service_type_id)
    skill = (visit.required_skill if visit else None) or (
        service.required_skill if service else None
    )
    caregiver = ctx.caregivers.get(o.caregiver_id)
    if not skill or caregiver is None:
        return
    if skill not in caregiver.skills:
        yield Finding(
            o.id,
            "SKILL_MISMATCH",
            {"required_skill": skill, "caregiver_skills": sorted(caregiver.skills)},
        )
        return
    day = o.local_date
    latest = lapsed_on(skill, ((c[0], c[2]) for c in caregiver.certificates), day)
    if latest is not None:
        yield Finding(
            o.id,
            "SKILL_MISMATCH",
            {
                "required_skill": skill,
                "certificate_expired_on": latest.isoformat(),
                "order_date": day.isoformat(),
            },
        )


@rule("CLIENT_ABSENT", severity="block", zh="服务对象不在家期间")
def client_absent(o: OrderData, ctx: Context, _t: None) -> Iterator[Finding]:
    """The order falls inside a recorded absence of the client (hospital, travel)."""
    client = ctx.clients.get(o.client_id)
    if client is None:
        return
    for start, end, reason in client.absences:
        if o.start_at < end and start < o.end_at:
            yield Finding(
                o.id,
                "CLIENT_ABSENT",
                {
                    "absence_start": iso(start),
                    "absence_end": iso(end),
                    "reason": reason,
                    "order_start": iso(o.start_at),
                    "order_end": iso(o.end_at),
                },
            )
            return


@rule("UNSCHEDULED", severity="info", zh="无对应计划")
def unscheduled(o: OrderData, ctx: Context, _t: None) -> Iterator[Finding]:
    """No planned visit matches the order (same client, service and local day)."""
    if o.visit_id is not None and o.visit_id in ctx.visits:
        return
    for v in ctx.client_visits.get((o.client_id, o.local_date), []):
        if v.service_type_id == o.service_type_id and v.status != VisitStatus.cancelled:
            return
    yield Finding(
        o.id,
        "UNSCHEDULED",
        {
            "client_id": o.client_id,
            "service_type_id": o.service_type_id,
            "date": o.local_date.isoformat(),
        },
    )


@rule("LATE_SYNC", severity="info", default=72, unit="h", low=1, high=2160, zh="数据上传过晚")
def late_sync(o: OrderData, ctx: Context, limit_h: float) -> Iterator[Finding]:
    """An event reached the server long after the device recorded it."""
    for kind, e in sorted(ctx.events.get(o.id, {}).items()):
        delay_h = (e.received_at - e.device_time_at).total_seconds() / 3600
        if delay_h > limit_h:
            yield Finding(
                o.id,
                "LATE_SYNC",
                {
                    "event": kind,
                    "device_time": iso(e.device_time_at),
                    "received_at": iso(e.received_at),
                    "delay_h": round(delay_h, 2),
                    "limit_h": limit_h,
                },
            )
            return


@rule("CALLBACK_DENIED", severity="block", zh="回访称服务未发生")
def callback_denied(o: OrderData, ctx: Context, _t: None) -> Iterator[Finding]:
    """A call-back (回访) reached the elder, who said the service did not take place."""
    cb = ctx.callbacks.get(o.id)
    if cb is not None and cb.reached and cb.took_place == "no":
        yield Finding(
            o.id,
            "CALLBACK_DENIED",
            {
                "callback_id": cb.id,
                "took_place": cb.took_place,
                "answered_at": iso(cb.answered_at),
                "satisfaction": cb.satisfaction,
                "note": cb.note,
            },
        )
