"""Rows to the router's dataclasses and its solution back to plan JSON (seconds from midnight)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

import routing
from dispatch import config, qualification
from dispatch.models import (
    Caregiver,
    CarePlan,
    Client,
    ClientRefusal,
    EventKind,
    ServicePoint,
    ServiceType,
    Visit,
    VisitEvent,
    VisitStatus,
)

# Visits a plan considers: not cancelled, not missed.
PLANNABLE = (
    VisitStatus.planned,
    VisitStatus.assigned,
    VisitStatus.published,
    VisitStatus.in_progress,
    VisitStatus.completed,
)
STARTED = (VisitStatus.in_progress, VisitStatus.completed)
URGENT_PRIORITY = 10
# A meal leaves the kitchen at most this long before it is served (insulated boxes).
MEAL_MAX_RIDE_S = 90 * 60

# What a dispatcher can do about each reason the router gives.
ACTIONS: dict[str, tuple[str, str]] = {
    "NO_QUALIFIED_CAREGIVER": (
        "No caregiver working that day has the skill, gender or acceptance the visit needs: "
        "add a qualified caregiver's shift, renew a certificate, or review the client's refusals.",
        "当天没有具备所需技能、性别或未被服务对象拒绝的护理员：请增加合格护理员的班次、更新证书或核对拒绝名单。",
    ),
    "OUTSIDE_EVERY_SHIFT": (
        "No qualified caregiver's shift reaches the client inside the visit window: "
        "widen the window or extend a shift.",
        "没有合格护理员的班次能在时间窗内到达：请放宽时间窗或延长班次。",
    ),
    "MAX_WORKING_TIME": (
        "The visit exceeds every qualified caregiver's maximum working time: "
        "shorten it or raise max_minutes_per_day.",
        "该服务超出所有合格护理员的每日最长工时：请缩短时长或提高每日工时上限。",
    ),
    "CAPACITY": (
        "No caregiver can carry the meal boxes: set a box capacity on a caregiver.",
        "没有护理员能携带餐盒：请为护理员设置餐箱容量。",
    ),
    "RIDE_TIME": (
        "The kitchen is too far from the client for the meal's ride time: use a nearer kitchen.",
        "厨房离服务对象太远，超出送餐时限：请选择更近的助餐点。",
    ),
    "NO_TIME": (
        "Every qualified caregiver's route is full in the window: add a caregiver, widen the "
        "window, or move a less important visit.",
        "合格护理员在该时间窗内都已排满：请增加护理员、放宽时间窗或调整其他服务。",
    ),
    "GROUP_PARTNER_UNASSIGNED": (
        "A double-staffed visit found only one caregiver: free a second qualified caregiver.",
        "双人服务只找到一名护理员：请再安排一名合格护理员。",
    ),
    "PIN_CONFLICT": (
        "The pin contradicts the caregiver's qualifications or the window: unpin or move it.",
        "固定的安排与护理员资质或时间窗冲突：请取消固定或调整。",
    ),
    "INVALID_INPUT": (
        "The visit's data is incomplete (window, kitchen): correct the visit.",
        "服务数据不完整（时间窗、厨房等）：请修正。",
    ),
    "NOT_PLACED": (
        "A place existed but the search ended first: re-optimise with a longer time limit.",
        "存在可行位置但搜索提前结束：请延长时限后重新优化。",
    ),
    "NOBODY_ON_SHIFT": (
        "No caregiver is on shift now: escalate the call at once (120, the community or the "
        "family), or put a caregiver on call (a shift for today) and dispatch again.",
        "当前没有在班的护理员：请立即升级呼叫（120、社区或家属），或安排值班护理员（当天班次）后重新派单。",
    ),
    "NO_SHIFT": (
        "The caregiver this visit is pinned to does not work that day: unpin or move it.",
        "该服务固定的护理员当天不上班：请取消固定或改派。",
    ),
}


def origin_of(day: date) -> datetime:
    """Time zero of a day's plan: local midnight, as an aware UTC instant."""
    return datetime.combine(day, time(0), tzinfo=config.zone()).astimezone(UTC)


def seconds(origin: datetime, at: datetime) -> int:
    return int((at - origin).total_seconds())


def instant(origin: datetime, s: int) -> datetime:
    return origin + timedelta(seconds=int(s))


def iso(origin: datetime, s: int | None) -> str | None:
    return None if s is None else instant(origin, s).astimezone(config.zone()).isoformat()


def start_window(origin: datetime, v: Visit) -> routing.TimeWindow:
    """When the visit may start: it should be over by the end of its window; a window shorter
    than the visit still lets it start at the window's opening."""
    ws, we = seconds(origin, v.window_start_at), seconds(origin, v.window_end_at)
    return routing.TimeWindow(ws, max(ws, we - v.duration_min * 60))


def second_leg(visit_id: int) -> int:
    """The router id of a double-staffed visit's second caregiver (the first is the visit id)."""
    return -visit_id


def visit_of(routing_id: int) -> int:
    return abs(routing_id)


def shift_of(cg: Caregiver, day: date) -> tuple[time, time] | None:
    """The caregiver's working hours on ``day``: a dated row overrides the weekly ones."""
    dated = [s for s in cg.shifts if s.on_date == day]
    rows = dated or [s for s in cg.shifts if s.on_date is None and s.weekday == day.weekday()]
    if not rows or any(s.off for s in rows):
        return None
    starts = [s.start_time for s in rows if s.start_time is not None]
    ends = [s.end_time for s in rows if s.end_time is not None]
    if not starts or not ends:
        return None
    return min(starts), max(ends)


def skills_on(cg: Caregiver, day: date) -> frozenset[str]:
    """The caregiver's skills that count on ``day`` (``qualification.skills_on``)."""
    return qualification.skills_on(
        (s.skill for s in cg.skills), [(c.skill, c.expires_on) for c in cg.certificates], day
    )


@dataclass
class DayData:
    """Everything a day's problem needs, loaded once."""

    provider_id: int
    day: date
    origin: datetime
    visits: list[Visit]
    caregivers: list[Caregiver]
    clients: dict[int, Client]
    plans: dict[int, CarePlan]
    refusals: dict[int, set[int]]
    points: dict[int, ServicePoint]
    services: dict[int, ServiceType]
    check_ins: dict[tuple[int, int], datetime] = field(default_factory=dict)


def load_day(
    session: Session,
    provider_id: int,
    day: date,
    *,
    visit_ids: Iterable[int] | None = None,
    caregiver_ids: Iterable[int] | None = None,
) -> DayData:
    vstmt = (
        select(Visit)
        .options(selectinload(Visit.assignments))
        .where(Visit.provider_id == provider_id, Visit.date == day, Visit.status.in_(PLANNABLE))
        .order_by(Visit.id)
    )
    if visit_ids is not None:
        vstmt = vstmt.where(Visit.id.in_(list(visit_ids)))
    visits = list(session.scalars(vstmt))
    cstmt = (
        select(Caregiver)
        .options(
            selectinload(Caregiver.shifts),
            selectinload(Caregiver.skills),
            selectinload(Caregiver.certificates),
        )
        .where(Caregiver.provider_id == provider_id, Caregiver.active.is_(True))
        .order_by(Caregiver.id)
    )
    if caregiver_ids is not None:
        cstmt = cstmt.where(Caregiver.id.in_(list(caregiver_ids)))
    caregivers = list(session.scalars(cstmt))
    client_ids = {v.client_id for v in visits}
    clients = {c.id: c for c in session.scalars(select(Client).where(Client.id.in_(client_ids)))}
    plan_ids = {v.care_plan_id for v in visits if v.care_plan_id}
    plans = {p.id: p for p in session.scalars(select(CarePlan).where(CarePlan.id.in_(plan_ids)))}
    refusals: dict[int, set[int]] = {}
    for r in session.scalars(select(ClientRefusal).where(ClientRefusal.client_id.in_(client_ids))):
        refusals.setdefault(r.client_id, set()).add(r.caregiver_id)
    point_ids = {v.service_point_id for v in visits if v.service_point_id}
    point_ids |= {c.start_point_id for c in caregivers if c.start_point_id}
    points = {
        p.id: p for p in session.scalars(select(ServicePoint).where(ServicePoint.id.in_(point_ids)))
    }
    services = {s.id: s for s in session.scalars(select(ServiceType))}
    started = [v.id for v in visits if v.status in STARTED]
    check_ins: dict[tuple[int, int], datetime] = {}
    if started:
        for e in session.scalars(
            select(VisitEvent).where(
                VisitEvent.visit_id.in_(started), VisitEvent.kind == EventKind.check_in
            )
        ):
            check_ins[(e.visit_id, e.caregiver_id)] = e.device_time_at
    return DayData(
        provider_id,
        day,
        origin_of(day),
        visits,
        caregivers,
        clients,
        plans,
        refusals,
        points,
        services,
        check_ins,
    )


@dataclass
class Built:
    problem: routing.Problem
    # caregivers with no shift that day (not in the problem)
    caregivers_off: list[int]


def _caregiver(data: DayData, cg: Caregiver, shift: tuple[time, time]) -> routing.Caregiver:
    o = data.origin
    start_s = seconds(o, datetime.combine(data.day, shift[0], tzinfo=config.zone()))
    end_s = seconds(o, datetime.combine(data.day, shift[1], tzinfo=config.zone()))
    home = routing.Location(cg.home_lat, cg.home_lon)
    point = data.points.get(cg.start_point_id) if cg.start_point_id else None
    base = routing.Location(point.lat, point.lon) if point else home
    breaks: tuple[routing.Break, ...] = ()
    if cg.break_minutes and cg.break_earliest and cg.break_latest:
        b0 = seconds(o, datetime.combine(data.day, cg.break_earliest, tzinfo=config.zone()))
        b1 = seconds(o, datetime.combine(data.day, cg.break_latest, tzinfo=config.zone()))
        # A break outside the shift cannot be taken; the router would drop the whole shift.
        if start_s <= b0 <= b1 and b1 + cg.break_minutes * 60 <= end_s:
            breaks = (routing.Break(b0, b1, cg.break_minutes * 60),)
    return routing.Caregiver(
        id=cg.id,
        start=base,
        end=base,
        shift_start_s=start_s,
        shift_end_s=end_s,
        skills=skills_on(cg, data.day),
        gender=cg.gender.value if cg.gender else None,
        travel_mode=cg.travel_mode.value,
        max_work_s=cg.max_minutes_per_day * 60 if cg.max_minutes_per_day else None,
        breaks=breaks,
        # Anyone can carry one lunch box by hand; box_capacity is the insulated box on a bike.
        box_capacity=max(1, cg.box_capacity or 0),
    )


def build_problem(
    data: DayData,
    *,
    time_limit_s: float = 10,
    unavailable: Iterable[int] = (),
    urgent: Iterable[int] = (),
    now: datetime | None = None,
    lock_started: bool = True,
) -> Built:
    """The router's Problem for a day: pins from pinned visits, locks from started ones."""
    o = data.origin
    unavailable = set(unavailable)
    urgent = set(urgent)
    now_s = seconds(o, now) if now is not None else None
    cgs: dict[int, routing.Caregiver] = {}
    off: list[int] = []
    for cg in data.caregivers:
        shift = shift_of(cg, data.day)
        if shift is None:
            off.append(cg.id)
            continue
        cgs[cg.id] = _caregiver(data, cg, shift)
    kitchens: dict[int, routing.Kitchen] = {}
    visits: list[routing.Visit] = []
    groups: list[routing.VisitGroup] = []
    pins: list[routing.Pin] = []
    locked: dict[int, list[tuple[int, int]]] = {}
    for v in data.visits:
        client = data.clients[v.client_id]
        service = data.services.get(v.service_type_id)
        dur = v.duration_min * 60
        window = start_window(o, v)
        plan = data.plans.get(v.care_plan_id) if v.care_plan_id else None
        preferred = plan.preferred_caregiver_id if plan else None
        kw: dict[str, Any] = {}
        point = data.points.get(v.service_point_id) if v.service_point_id else None
        if service is not None and service.is_meal and point is not None:
            kitchens[point.id] = routing.Kitchen(point.id, routing.Location(point.lat, point.lon))
            kw = {"meal_boxes": 1, "kitchen_id": point.id, "max_ride_s": MEAL_MAX_RIDE_S}
        legs = [v.id] if v.caregivers_needed < 2 else [v.id, second_leg(v.id)]
        staff = [a.caregiver_id for a in v.assignments]
        started = v.status in STARTED and lock_started
        if started and any(c not in cgs for c in staff):
            # Someone on a started visit has no shift in the problem: give them one that
            # covers what they already did, so that the lock holds.
            for c in staff:
                if c not in cgs:
                    row = next((x for x in data.caregivers if x.id == c), None)
                    if row is not None:
                        t0 = v.window_start_at.astimezone(config.zone()).time()
                        t1 = v.window_end_at.astimezone(config.zone()).time()
                        cgs[c] = _caregiver(data, row, (min(t0, time(6)), max(t1, time(22))))
        for i, rid in enumerate(legs):
            visits.append(
                routing.Visit(
                    id=rid,
                    location=routing.Location(client.lat, client.lon),
                    windows=(window,),
                    duration_s=dur,
                    required_skills=frozenset({v.required_skill})
                    if v.required_skill
                    else frozenset(),
                    forbidden_caregivers=frozenset(data.refusals.get(client.id, set())),
                    required_gender=(
                        client.preferred_caregiver_gender.value
                        if client.preferred_caregiver_gender
                        else None
                    ),
                    preferred_caregiver=preferred if i == 0 else None,
                    priority=URGENT_PRIORITY
                    if (v.urgent or v.id in urgent)
                    else max(1, v.priority),
                    **kw,
                )
            )
            cg_id = staff[i] if i < len(staff) else None
            if started and cg_id is not None and cg_id in cgs:
                at = data.check_ins.get((v.id, cg_id)) or v.planned_start_at or v.window_start_at
                locked.setdefault(cg_id, []).append((seconds(o, at), rid))
                pins.append(routing.Pin(rid, cg_id, seconds(o, at)))
            elif v.pinned and cg_id is not None:
                start_s = seconds(o, v.planned_start_at) if v.planned_start_at else None
                if cg_id in unavailable or cg_id not in cgs:
                    # The pin names someone who is not working: keep the time, free the caregiver.
                    if start_s is not None:
                        pins.append(routing.Pin(rid, None, start_s))
                else:
                    pins.append(routing.Pin(rid, cg_id, start_s))
            elif v.pinned and v.planned_start_at is not None:
                pins.append(routing.Pin(rid, None, seconds(o, v.planned_start_at)))
        if len(legs) > 1:
            groups.append(routing.VisitGroup(tuple(legs)))
    # Caregivers who dropped out keep only what they already started.
    for c in unavailable:
        if c in cgs:
            if c in locked:
                last = max(s for s, _ in locked[c])
                cg = cgs[c]
                cgs[c] = routing.Caregiver(
                    **{**cg.__dict__, "shift_end_s": max(cg.shift_start_s, last + 4 * 3600)}
                )
                # Nothing new goes to them: every unstarted visit forbids them.
                locked_ids = {rid for _, rid in locked[c]}
                visits = [
                    x
                    if x.id in locked_ids
                    else routing.Visit(
                        **{**x.__dict__, "forbidden_caregivers": x.forbidden_caregivers | {c}}
                    )
                    for x in visits
                ]
            else:
                del cgs[c]
    if now_s is not None:
        # Nobody can start anything new in the past.
        for c, cg in list(cgs.items()):
            if c not in locked and cg.shift_start_s < now_s:
                cgs[c] = routing.Caregiver(
                    **{**cg.__dict__, "shift_start_s": min(now_s, cg.shift_end_s)}
                )
    problem = routing.Problem(
        caregivers=tuple(cgs.values()),
        visits=tuple(visits),
        groups=tuple(groups),
        kitchens=tuple(kitchens.values()),
        pins=tuple(pins),
        locked=tuple(
            routing.LockedPrefix(c, tuple(rid for _, rid in sorted(items)))
            for c, items in sorted(locked.items())
        ),
        # Local cheapest insertion finds a first plan with kitchen pickups several times
        # faster than the parallel variant on the demo district (measured: 3 s vs > 10 s).
        settings=routing.Settings(
            time_limit_s=time_limit_s, first_solution="LOCAL_CHEAPEST_INSERTION"
        ),
    )
    return Built(problem, off)


def _minutes(s: int | None) -> int | None:
    return None if s is None else round(s / 60)


def solution_json(
    data: DayData, solution: routing.Solution, problem: routing.Problem | None = None
) -> dict[str, Any]:
    """Plan JSON: routes with local ISO times, unassigned visits with an actionable reason."""
    o = data.origin
    routes = []
    for r in solution.routes:
        if not r.stops:
            continue
        stops = []
        for s in r.stops:
            stops.append(
                {
                    "visit_id": visit_of(s.visit_id) if s.visit_id is not None else None,
                    "kind": s.kind,
                    "arrival": iso(o, s.arrival_s),
                    "start": iso(o, s.start_s),
                    "end": iso(o, s.end_s),
                    "travel_min": _minutes(s.travel_s),
                    "travel_m": s.travel_m,
                    "kitchen_id": s.kitchen_id,
                    "second_caregiver": s.visit_id is not None and s.visit_id < 0,
                }
            )
        routes.append(
            {
                "caregiver_id": r.caregiver_id,
                "depart": iso(o, r.depart_s),
                "return": iso(o, r.return_s),
                "travel_min": _minutes(r.travel_s),
                "travel_m": r.travel_m,
                "stops": stops,
            }
        )
    by_visit: dict[int, routing.Unassigned] = {}
    for u in solution.unassigned:
        vid = visit_of(u.visit_id)
        prev = by_visit.get(vid)
        # For a double visit keep the leg that explains the failure, not "partner unassigned".
        if prev is None or prev.reason == routing.UnassignedReason.GROUP_PARTNER_UNASSIGNED:
            by_visit[vid] = u
    unassigned = [unassigned_entry(vid, u.reason.value, u.detail) for vid, u in by_visit.items()]
    k = solution.kpis
    kpis = {
        "visits_assigned": len(
            {
                visit_of(s.visit_id)
                for r in solution.routes
                for s in r.stops
                if s.kind == "visit" and s.visit_id is not None
            }
        ),
        "visits_unassigned": len(unassigned),
        "travel_min": _minutes(k.travel_s),
        "travel_km": round(k.travel_m / 1000, 1),
        "travel_min_by_caregiver": {
            str(c): _minutes(s) for c, s in k.travel_s_by_caregiver.items() if s
        },
        "idle_min": _minutes(k.idle_s),
        "lateness_min": _minutes(k.lateness_s),
        "continuity_rate": None if k.continuity_rate is None else round(k.continuity_rate, 3),
        "overtime_min": _minutes(k.overtime_s),
        "utilisation": round(k.utilisation, 3),
        "caregivers_used": k.caregivers_used,
        "caregivers_available": len(problem.caregivers) if problem is not None else None,
    }
    stats = {key: val for key, val in solution.stats.items() if isinstance(val, int | float | str)}
    return {"routes": routes, "unassigned": unassigned, "kpis": kpis, "stats": stats}


def unassigned_entry(visit_id: int, reason: str, detail: str = "") -> dict[str, Any]:
    action, action_zh = ACTIONS.get(reason, ("", ""))
    return {
        "visit_id": visit_id,
        "reason": reason,
        "detail": detail,
        "action": action,
        "action_zh": action_zh,
    }


def solution_from_json(data: DayData, plan_json: dict[str, Any]) -> routing.Solution:
    """A stored plan back as a router Solution (for urgent insertion into a running day)."""
    o = data.origin
    routes = []
    for r in plan_json.get("routes") or []:
        stops = []
        for s in r["stops"]:
            vid = s["visit_id"]
            if vid is not None and s.get("second_caregiver"):
                vid = second_leg(vid)

            def sec(key: str, s: dict[str, Any] = s) -> int:
                return seconds(o, datetime.fromisoformat(s[key]))

            stops.append(
                routing.Stop(
                    vid,
                    sec("arrival"),
                    sec("start"),
                    sec("end"),
                    (s.get("travel_min") or 0) * 60,
                    s.get("travel_m") or 0,
                    kind=s.get("kind", "visit"),
                    kitchen_id=s.get("kitchen_id"),
                )
            )
        routes.append(
            routing.Route(
                r["caregiver_id"],
                tuple(stops),
                depart_s=seconds(o, datetime.fromisoformat(r["depart"])),
                return_s=seconds(o, datetime.fromisoformat(r["return"])),
                travel_s=(r.get("travel_min") or 0) * 60,
                travel_m=r.get("travel_m") or 0,
            )
        )
    empty = routing.Kpis(0, 0, 0, 0, {}, 0, 0, None, 0, 0.0, 0)
    return routing.Solution(tuple(routes), (), empty, {})
