"""The demo district's last 30 days, as if it had run: visits, EVV events, photos, work orders.

Each past day is generated from the care plans (the real generator), staffed by a quick
greedy schedule (the optimiser would take minutes for 30 days; the history only has to be
plausible), and performed: check-in and check-out events with GPS and a photo. A few visits go
wrong on purpose in the ways the rules catch (a check-in far from home, a visit cut short, a
mock location, a reused or missing photo, ...): the flags come from the real validation rules
run over the period, never written by hand. Then the people act through the real services:
finance approves, rejects and overrides, providers appeal, each month is billed and closed.
Deterministic from the seed.
"""

from __future__ import annotations

import io
import logging
import math
import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from PIL import Image, ImageDraw
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

import routing
from dispatch import config
from dispatch.demo.seed import demo_providers
from dispatch.models import (
    Caregiver,
    DayPlan,
    EventKind,
    Flag,
    PlanStatus,
    Visit,
    VisitAssignment,
    VisitEvent,
    VisitOutcome,
    VisitStatus,
    WorkOrder,
    WorkOrderSource,
    WorkOrderStatus,
)
from dispatch.photos import inspect_photo, photo_store
from dispatch.services import billable, checkins, photo_rows, proposals
from dispatch.services import problem as P
from dispatch.services.visit_generation import generate_for_day
from dispatch.tenancy import SYSTEM
from dispatch.validation.engine import validate_period

log = logging.getLogger(__name__)

DAYS = 30
BUFFER = timedelta(minutes=10)  # slack after travel, so real-life noise never looks impossible
# Shares of performed visits that go wrong in a way a rule catches. With the clients whose
# care plans run over their monthly entitlement (about 2.6 % of this district's orders end up
# OVER_ENTITLEMENT), about 4.8 % of the orders are abnormal in all: the Yiwu figure.
ANOMALIES = (
    ("far_checkin", 0.007),  # GEOFENCE_IN
    ("short", 0.005),  # SHORT_VISIT
    ("long", 0.002),  # LONG_VISIT
    ("mock", 0.002),  # MOCK_LOCATION
    ("reused_photo", 0.003),  # PHOTO_REUSED
    ("no_photo", 0.003),  # PHOTO_MISSING
    ("coarse_gps", 0.010),  # GPS_POOR (info: shown, does not hold payment)
    ("late_sync", 0.006),  # LATE_SYNC (info)
)
ABSENT_SHARE = 0.01  # checked out "client absent": nothing to bill
MISSED_SHARE = 0.004  # nobody came


@dataclass
class _Carer:
    row: Caregiver
    skills: frozenset[str]
    shift: tuple[datetime, datetime]
    free_at: datetime
    at: routing.Location
    worked_min: int = 0
    stops: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class HistoryReport:
    days: int = 0
    visits: int = 0
    orders: int = 0
    flagged: int = 0
    appeals: int = 0
    batches: int = 0
    counts: dict[str, int] = field(default_factory=dict)


def has_history(session: Session, today: date) -> bool:
    """Whether the demo providers already have work orders before ``today``."""
    ids = [p.id for p in demo_providers(session)]
    start = datetime.combine(today, time(0), tzinfo=config.zone())
    return bool(
        session.scalar(
            select(func.count())
            .select_from(WorkOrder)
            .where(WorkOrder.provider_id.in_(ids), WorkOrder.start_at < start)
        )
    )


def photo_bytes(rng: random.Random, stamp: str) -> bytes:
    """A small JPEG unlike any other (random colour blocks, so perceptual hashes differ)."""
    img = Image.new("RGB", (8, 6))
    img.putdata([tuple(rng.randrange(256) for _ in range(3)) for _ in range(48)])
    img = img.resize((160, 120), Image.Resampling.BILINEAR)
    ImageDraw.Draw(img).text((4, 104), stamp, fill=(255, 255, 255))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=70)
    return out.getvalue()


def _near(rng: random.Random, lat: float, lon: float, metres: float) -> tuple[float, float]:
    """A point about ``metres`` from (lat, lon) in a random direction."""
    bearing = rng.uniform(0, 2 * math.pi)
    dlat = metres * math.cos(bearing) / 111_320
    dlon = metres * math.sin(bearing) / (111_320 * math.cos(math.radians(lat)))
    return round(lat + dlat, 6), round(lon + dlon, 6)


def _local(day: date, t: time) -> datetime:
    return datetime.combine(day, t, tzinfo=config.zone())


def _carers(data: P.DayData) -> dict[int, _Carer]:
    out = {}
    for c in data.caregivers:
        shift = P.shift_of(c, data.day)
        if shift is None:
            continue
        s0, s1 = _local(data.day, shift[0]), _local(data.day, shift[1])
        home = routing.Location(c.home_lat, c.home_lon)
        out[c.id] = _Carer(c, P.skills_on(c, data.day), (s0, s1), s0, home)
    return out


def _travel(c: _Carer, to: routing.Location) -> timedelta:
    m = proposals.travel_model().matrix([c.at], [to], c.row.travel_mode.value)
    return timedelta(seconds=int(m.seconds[0, 0]))


def schedule(data: P.DayData) -> tuple[dict[int, tuple[list[int], datetime]], dict[int, _Carer]]:
    """A greedy day: visits by window, each to the qualified caregivers who can start first
    (the usual caregiver when she is at most 30 minutes later)."""
    carers = _carers(data)
    placed: dict[int, tuple[list[int], datetime]] = {}
    for v in sorted(data.visits, key=lambda v: (v.window_start_at, -v.priority, v.id)):
        client = data.clients[v.client_id]
        here = routing.Location(client.lat, client.lon)
        dur = timedelta(minutes=v.duration_min)
        latest = max(v.window_start_at, v.window_end_at - dur)
        refused = data.refusals.get(client.id, set())
        wish = client.preferred_caregiver_gender
        options = []
        for c in carers.values():
            if (v.required_skill and v.required_skill not in c.skills) or c.row.id in refused:
                continue
            if (wish and c.row.gender != wish) or (
                c.worked_min + v.duration_min > c.row.max_minutes_per_day
            ):
                continue
            start = max(c.free_at + _travel(c, here) + BUFFER, v.window_start_at)
            if start <= latest and start + dur <= c.shift[1]:
                options.append((start, c.row.id, c))
        if len(options) < v.caregivers_needed:
            continue
        options.sort(key=lambda o: (o[0], o[1]))
        care_plan = data.plans.get(v.care_plan_id) if v.care_plan_id else None
        usual = care_plan.preferred_caregiver_id if care_plan else None
        mine = [o for o in options if o[1] == usual]
        if mine and mine[0][0] <= options[0][0] + timedelta(minutes=30):
            options.remove(mine[0])
            options.insert(0, mine[0])
        chosen = options[: v.caregivers_needed]
        start = max(o[0] for o in chosen)
        for _, _, c in chosen:
            travel = _travel(c, here)
            c.stops.append(
                {
                    "visit_id": v.id,
                    "kind": "visit",
                    "arrival": (start - BUFFER).isoformat(),
                    "start": start.isoformat(),
                    "end": (start + dur).isoformat(),
                    "travel_min": round(travel.total_seconds() / 60),
                    "travel_m": None,
                    "kitchen_id": None,
                    "second_caregiver": c is not chosen[0][2],
                }
            )
            c.free_at, c.at = start + dur, here
            c.worked_min += v.duration_min
        placed[v.id] = ([o[1] for o in chosen], start)
    return placed, carers


def _plan_row(
    session: Session, data: P.DayData, carers: dict[int, _Carer], placed: Any, status: PlanStatus
) -> DayPlan:
    routes = [
        {
            "caregiver_id": c.row.id,
            "depart": c.stops[0]["arrival"],
            "return": c.stops[-1]["end"],
            "travel_min": sum(s["travel_min"] for s in c.stops),
            "travel_m": None,
            "stops": c.stops,
        }
        for c in carers.values()
        if c.stops
    ]
    unassigned = [P.unassigned_entry(v.id, "NO_TIME") for v in data.visits if v.id not in placed]
    latest = session.scalar(
        select(func.max(DayPlan.version)).where(
            DayPlan.provider_id == data.provider_id, DayPlan.date == data.day
        )
    )
    plan = DayPlan(
        provider_id=data.provider_id,
        date=data.day,
        version=(latest or 0) + 1,
        status=status,
        time_limit_s=0,
        options={"quick_plan": True},
        progress={"stage": "done", "percent": 100},
        routes=routes,
        unassigned=unassigned,
        kpis={
            "visits_assigned": len(placed),
            "visits_unassigned": len(unassigned),
            "travel_min": sum(r["travel_min"] for r in routes),
            "caregivers_used": len(routes),
            "caregivers_available": len(carers),
        },
        stats={"quick_plan": True},
        finished_at=_local(data.day, time(6)),
        published_at=_local(data.day, time(6, 30)) if status == PlanStatus.published else None,
    )
    session.add(plan)
    session.flush()
    return plan


def _assign(data: P.DayData, placed: Any, plan: DayPlan, status: VisitStatus) -> None:
    for v in data.visits:
        v.plan_id = plan.id
        if v.id not in placed:
            v.unassigned_reason = "NO_TIME"
            continue
        cg_ids, start = placed[v.id]
        v.assignments.clear()
        for seq, cg in enumerate(cg_ids):
            v.assignments.append(
                VisitAssignment(
                    caregiver_id=cg,
                    sequence=seq + 1,
                    planned_start_at=start,
                    planned_arrival_at=start,
                )
            )
        v.planned_start_at, v.status = start, status


def quick_plan(
    session: Session, provider_id: int, day: date, status: PlanStatus = PlanStatus.published
) -> tuple[DayPlan, P.DayData, dict[int, tuple[list[int], datetime]]] | None:
    """Generate a provider's day and staff it greedily (demo history, tests, benchmarks)."""
    generate_for_day(session, SYSTEM, provider_id, day)
    session.flush()
    data = P.load_day(session, provider_id, day)
    if not data.visits:
        return None
    placed, carers = schedule(data)
    plan = _plan_row(session, data, carers, placed, status)
    done = VisitStatus.published if status == PlanStatus.published else VisitStatus.assigned
    _assign(data, placed, plan, done)
    session.flush()
    return plan, data, placed


@dataclass
class _Day:
    """What performing one provider-day needs besides the session."""

    rng: random.Random
    data: P.DayData
    late_sync_ok: bool
    photos: dict[int, list[bytes]]  # caregiver id -> photo bytes already used
    store: Any
    counts: dict[str, int]
    cap: float  # billable minutes stop at planned x this (the LONG_VISIT threshold)


def _anomaly(rng: random.Random) -> str | None:
    r = rng.random()
    for name, share in ANOMALIES:
        if r < share:
            return name
        r -= share
    return None


def _event(
    session: Session,
    d: _Day,
    visit: Visit,
    cg: int,
    kind: EventKind,
    at: datetime,
    where: tuple[float, float],
    accuracy: float,
    photo: bytes | None,
    **extra: Any,
) -> VisitEvent:
    key = str(uuid.UUID(int=d.rng.getrandbits(128), version=4))
    data = {
        "idempotency_key": key,
        "device_time": at,
        "lat": where[0],
        "lon": where[1],
        "accuracy_m": accuracy,
        "crs": "wgs84",
        "mock_location": extra.get("mock", False),
        "device_id": f"demo-phone-{cg}",
        "outcome": extra.get("outcome"),
    }
    photo_id = None
    sha = None
    if photo is not None:
        facts = inspect_photo(photo)
        sha = facts.sha256
        photo_id = photo_rows.photo_row(session, SYSTEM, facts, visit.provider_id, "create").id
        d.store.put(facts.sha256, photo)
    received = at + timedelta(seconds=d.rng.randint(2, 40))
    if extra.get("late"):
        received = at + timedelta(hours=d.rng.uniform(80, 120))
    event = VisitEvent(
        idempotency_key=key,
        content_hash=checkins.content_hash(cg, visit.id, kind, data, sha),
        visit_id=visit.id,
        caregiver_id=cg,
        kind=kind,
        device_time_at=at,
        received_at=received,
        lat=where[0],
        lon=where[1],
        raw_lat=where[0],
        raw_lon=where[1],
        crs="wgs84",
        accuracy_m=accuracy,
        mock_location=bool(extra.get("mock")),
        device_id=data["device_id"],
        offline=bool(extra.get("late")),
        photo_id=photo_id,
        outcome=extra.get("outcome"),
        tasks_done=["服务完成"] if kind == EventKind.check_out else None,
    )
    session.add(event)
    return event


def _perform(session: Session, d: _Day, placed: Any) -> list[WorkOrder]:
    """Visit by visit what happened: events, photos, then the work orders."""
    rng, orders = d.rng, []
    services = d.data.services
    for v in d.data.visits:
        if v.id not in placed:
            continue
        cg_ids, start = placed[v.id]
        if rng.random() < MISSED_SHARE:
            v.status = VisitStatus.missed
            d.counts["missed"] = d.counts.get("missed", 0) + 1
            continue
        absent = rng.random() < ABSENT_SHARE
        anomaly = None if absent else _anomaly(rng)
        client = d.data.clients[v.client_id]
        dur = v.duration_min
        photo_required = services[v.service_type_id].photo_required
        if anomaly in ("no_photo", "reused_photo") and not photo_required:
            anomaly = None  # nothing to leave out or reuse on a service without photos
        if anomaly == "reused_photo" and not any(d.photos.get(cg) for cg in cg_ids):
            anomaly = None
        if anomaly:
            d.counts[anomaly] = d.counts.get(anomaly, 0) + 1
        for cg in cg_ids:
            check_in = start + timedelta(minutes=rng.uniform(0, 5))
            factor = rng.uniform(0.85, 1.0)
            if anomaly == "short":
                factor = rng.uniform(0.35, 0.55)
            elif anomaly == "long":
                factor = rng.uniform(1.6, 1.9)
            check_out = check_in + timedelta(minutes=5 if absent else dur * factor)
            where_in = _near(rng, client.lat, client.lon, rng.uniform(3, 40))
            if anomaly == "far_checkin":
                where_in = _near(rng, client.lat, client.lon, rng.uniform(350, 900))
            acc = round(rng.uniform(6, 25), 1)
            photo = None
            if photo_required and anomaly != "no_photo":
                used = d.photos.setdefault(cg, [])
                if anomaly == "reused_photo" and used:
                    photo = rng.choice(used)
                else:
                    photo = photo_bytes(
                        rng, f"{check_in.astimezone(config.zone()):%m-%d %H:%M} #{v.id}"
                    )
                    used.append(photo)
            _event(
                session,
                d,
                v,
                cg,
                EventKind.check_in,
                check_in,
                where_in,
                round(rng.uniform(160, 300)) if anomaly == "coarse_gps" else acc,
                photo,
                mock=anomaly == "mock",
            )
            _event(
                session,
                d,
                v,
                cg,
                EventKind.check_out,
                check_out,
                _near(rng, client.lat, client.lon, rng.uniform(3, 40)),
                acc,
                None,
                outcome=VisitOutcome.client_absent if absent else VisitOutcome.completed,
                late=anomaly == "late_sync" and d.late_sync_ok,
            )
            if absent:
                continue
            orders.append(
                WorkOrder(
                    provider_id=v.provider_id,
                    client_id=v.client_id,
                    caregiver_id=cg,
                    service_type_id=v.service_type_id,
                    visit_id=v.id,
                    source=WorkOrderSource.app,
                    start_at=check_in,
                    end_at=check_out,
                    billable_min=billable.billable_minutes(check_in, check_out, dur, d.cap),
                    created_at=check_out + timedelta(seconds=30),
                )
            )
        v.status = VisitStatus.completed
        v.outcome = VisitOutcome.client_absent if absent else VisitOutcome.completed
    session.add_all(orders)
    return orders


def seed_history(session: Session, seed: int, today: date, days: int = DAYS) -> HistoryReport:
    """Run the district's last ``days`` days (flushes, never commits); once per database."""
    report = HistoryReport()
    if has_history(session, today):
        log.info("demo history already there: nothing added")
        return report
    rng = random.Random(f"{seed}:history")
    photos: dict[int, list[bytes]] = {}
    store = photo_store()
    providers = demo_providers(session)
    cap = billable.cap_factor(session)
    for back in range(days, 0, -1):
        day = today - timedelta(days=back)
        for provider in providers:
            planned = quick_plan(session, provider.id, day)
            if planned is None:
                continue
            _, data, placed = planned
            d = _Day(rng, data, back > 5, photos, store, report.counts, cap)
            report.orders += len(_perform(session, d, placed))
            report.visits += len(data.visits)
        session.flush()
        report.days += 1
    start, end = _local(today - timedelta(days=days), time(0)), _local(today, time(0))
    stats = validate_period(session, start, end)
    # The rules ran once over the period here; in the district they ran on each order as it
    # came in: its flags carry the order's time, not the seeding's.
    session.execute(
        update(Flag)
        .where(
            Flag.work_order_id == WorkOrder.id,
            WorkOrder.start_at >= start,
            WorkOrder.start_at < end,
        )
        .values(created_at=WorkOrder.created_at)
        .execution_options(synchronize_session=False)
    )
    report.flagged = session.scalar(
        select(func.count())
        .select_from(WorkOrder)
        .where(
            WorkOrder.start_at >= start,
            WorkOrder.start_at < end,
            WorkOrder.status == WorkOrderStatus.flagged,
        )
    )
    log.info(
        "demo history: %d days, %d visits, %d work orders, %d flagged (%s); mishaps %s",
        report.days,
        report.visits,
        report.orders,
        report.flagged,
        stats.as_dict() if hasattr(stats, "as_dict") else stats,
        report.counts,
    )
    return report


def month_ranges(first: date, today: date) -> list[tuple[date, date]]:
    """Whole calendar months that end before ``today`` and hold a day from ``first`` on."""
    out = []
    start = first.replace(day=1)
    while True:
        nxt = (start + timedelta(days=32)).replace(day=1)
        if nxt > today:
            return out
        out.append((start, nxt - timedelta(days=1)))
        start = nxt


__all__ = [
    "DAYS",
    "HistoryReport",
    "has_history",
    "month_ranges",
    "photo_bytes",
    "quick_plan",
    "schedule",
    "seed_history",
]
