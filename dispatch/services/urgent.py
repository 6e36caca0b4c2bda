"""Urgent insertion: the best caregiver and arrival time for one visit in a day's routes."""

from __future__ import annotations

import time as timer
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

import routing
from dispatch import config, error_codes
from dispatch.db import utcnow
from dispatch.models import Caregiver, Client, DayPlan, ServicePoint, Visit
from dispatch.services import problem as P
from dispatch.services.plans import PLAN_WRITE
from dispatch.services.proposals import ACTIVE, FINAL, travel_model
from dispatch.tenancy import Actor, get_scoped


def urgent_insertion(
    session: Session,
    actor: Actor,
    plan_id: int,
    visit_id: int,
    now: datetime | None = None,
    *,
    caregiver_id: int | None = None,
    working_now: bool = False,
) -> dict[str, Any]:
    """Best caregiver and arrival for one visit in this plan's routes; changes nothing.

    ``caregiver_id``: only that caregiver is tried (a dispatcher picked someone else).
    ``working_now`` (a call, today): only the caregivers whose shift covers now are tried;
    when there are none the answer says so (``NOBODY_ON_SHIFT``) at once.
    """
    actor.require(*PLAN_WRITE)
    t0 = timer.monotonic()
    plan = get_scoped(session, DayPlan, plan_id, actor)
    if plan.status not in ACTIVE:
        raise error_codes.PLAN_NOT_ACTIVE(status=plan.status.value)
    visit = session.get(Visit, visit_id)
    if visit is None or visit.provider_id != plan.provider_id or visit.date != plan.date:
        raise error_codes.REFERENCE_NOT_FOUND(
            "visit_on_day", id=visit_id, day=plan.date.isoformat(), field="visit_id"
        )
    if visit.caregivers_needed > 1:
        raise error_codes.URGENT_DOUBLE_STAFFED()
    today = utcnow().astimezone(config.zone()).date()
    if now is None and plan.date == today:
        now = utcnow()
    # A route over before now needs none of its visits (``real_day`` starts her afresh): the
    # day is read for this visit and the visits of the routes still running, not all of it.
    visit_ids = None
    if now is not None:
        visit_ids = {visit.id} | {
            s["visit_id"]
            for r in plan.routes or []
            if datetime.fromisoformat(r["return"]) > now
            for s in r["stops"]
            if s.get("visit_id") is not None
        }
    data = P.load_day(session, plan.provider_id, plan.date, visit_ids=visit_ids)
    built = P.build_problem(data)
    solution = P.solution_from_json(data, (plan.routes and {"routes": plan.routes}) or {})
    target = next(v for v in built.problem.visits if v.id == visit.id)
    target = routing.Visit(**{**target.__dict__, "priority": P.URGENT_PRIORITY})
    if caregiver_id is not None:
        allowed = frozenset({caregiver_id}) & (target.allowed_caregivers or {caregiver_id})
        target = routing.Visit(**{**target.__dict__, "allowed_caregivers": allowed})
    # The visit may already sit in the routes (a re-check): take it out first.
    routes = tuple(
        replace(r, stops=tuple(s for s in r.stops if s.visit_id != visit.id))
        for r in solution.routes
    )
    now_s = P.seconds(data.origin, now) if now else None
    problem = built.problem
    if now_s is not None:
        problem, routes = real_day(problem, routes, now_s)
    # So are stops of visits not read or no longer in the day (missed since the plan was made:
    # nobody goes there).
    known = {v.id for v in problem.visits}
    routes = tuple(
        replace(r, stops=tuple(s for s in r.stops if s.visit_id is None or s.visit_id in known))
        for r in routes
    )
    if working_now and now_s is not None and caregiver_id is None:
        on_shift = frozenset(
            c.id for c in problem.caregivers if c.shift_start_s <= now_s < c.shift_end_s
        )
        if not on_shift:
            return _nobody_on_shift(visit.id, data.origin, now_s, t0)
        allowed = on_shift & (target.allowed_caregivers or on_shift)
        target = routing.Visit(**{**target.__dict__, "allowed_caregivers": allowed})
    solution = routing.Solution(routes, (), solution.kpis, {})
    ins = routing.insert_urgent(problem, solution, target, travel_model(), now_s=now_s)
    if ins.possible and now_s is not None:
        ins = _leaving_now(problem, routes, ins, target, now_s)
    answer: dict[str, Any] = {
        "visit_id": visit.id,
        "possible": ins.possible,
        "caregiver_id": ins.caregiver_id,
        "position": ins.position,
        "arrival": P.iso(data.origin, ins.arrival_s),
        "start": P.iso(data.origin, ins.start_s),
        "added_travel_min": None if ins.added_travel_s is None else round(ins.added_travel_s / 60),
        "reason": ins.reason.value if ins.reason else None,
        "detail": ins.detail,
        "took_ms": round((timer.monotonic() - t0) * 1000),
    }
    if ins.reason:
        answer.update(
            {
                k: v
                for k, v in P.unassigned_entry(visit.id, ins.reason.value).items()
                if k.startswith("action")
            }
        )
    return answer


def real_day(
    problem: routing.Problem, routes: tuple[routing.Route, ...], now_s: int
) -> tuple[routing.Problem, tuple[routing.Route, ...]]:
    """Each caregiver's working time counted on her real day: one whose route was over (home
    again) before now starts a new trip when called out, with what is left of her daily
    maximum after the trip she made; the time she spent at home is not work. The router sees
    her with an empty route, free from now, and that remainder as her maximum working time.
    """
    by_id = {r.caregiver_id: r for r in routes}
    cgs = []
    for c in problem.caregivers:
        r = by_id.get(c.id)
        if r is not None and r.stops and r.return_s <= now_s < c.shift_end_s:
            worked = r.return_s - r.depart_s
            c = replace(
                c,
                shift_start_s=max(c.shift_start_s, now_s),
                max_work_s=None if c.max_work_s is None else max(0, c.max_work_s - worked),
                breaks=tuple(b for b in c.breaks if b.latest_start_s >= now_s),
            )
            by_id[c.id] = replace(r, stops=(), depart_s=c.shift_start_s, return_s=c.shift_start_s)
        cgs.append(c)
    out = tuple(by_id[r.caregiver_id] for r in routes)
    return replace(problem, caregivers=tuple(cgs)), out


def _nobody_on_shift(visit_id: int, origin: datetime, now_s: int, t0: float) -> dict[str, Any]:
    reason = "NOBODY_ON_SHIFT"
    at = P.instant(origin, now_s).astimezone(config.zone()).strftime("%H:%M")
    return {
        "visit_id": visit_id,
        "possible": False,
        "caregiver_id": None,
        "position": None,
        "arrival": None,
        "start": None,
        "added_travel_min": None,
        "reason": reason,
        "detail": f"no caregiver's shift covers {at}",
        "took_ms": round((timer.monotonic() - t0) * 1000),
        **{k: v for k, v in P.unassigned_entry(visit_id, reason).items() if k.startswith("action")},
    }


def _leaving_now(
    problem: routing.Problem,
    routes: tuple[routing.Route, ...],
    ins: routing.Insertion,
    target: routing.Visit,
    now_s: int,
) -> routing.Insertion:
    """Arrival counted from now: the router has the caregiver leave the previous stop as soon
    as it ends, which for a stop that ended an hour ago is an arrival in the past."""
    cg = next(c for c in problem.caregivers if c.id == ins.caregiver_id)
    route = next((r for r in routes if r.caregiver_id == ins.caregiver_id), None)
    stops = route.stops if route is not None else ()
    prev = stops[ins.position - 1] if ins.position and ins.position <= len(stops) else None
    if prev is None:
        origin, free_s = cg.start, cg.shift_start_s
    else:
        free_s = prev.end_s
        if prev.kind == "visit":
            origin = next((v.location for v in problem.visits if v.id == prev.visit_id), None)
        else:  # a kitchen pickup (or a stop this model does not place): where it happened
            origin = next((k.location for k in problem.kitchens if k.id == prev.kitchen_id), None)
    leg_s = 0  # nowhere to measure from: at least not before now
    if origin is not None:
        leg = travel_model().matrix([origin], [target.location], cg.travel_mode)
        leg_s = int(leg.seconds[0][0])
    arrival_s = max(ins.arrival_s or 0, max(now_s, free_s) + leg_s)
    return replace(ins, arrival_s=arrival_s, start_s=max(ins.start_s or 0, arrival_s))


# Far in the day: the end of a window that no longer binds (re-timing a day off its plan).
_OPEN_END_S = 10**9


def retime_after(
    session: Session, plan: DayPlan, caregiver_id: int, visit: Visit
) -> list[dict[str, Any]]:
    """Re-time the caregiver's stops after an inserted urgent ``visit`` (its start is fixed).

    The router's own route check (``routing.check_route``) times the rest of the route from the
    urgent visit on: each stop as early as its window allows; pinned and double-staffed visits
    keep their start unless the urgent visit pushes them later; what already happened (checked
    in, done, missed, cancelled) is left as it is. When the route
    can no longer keep every window or the shift's end, the stops are timed when the caregiver
    can really get there (late), for the live board to show. Writes the plan's route and the
    caregiver's assignments; answers ``[{visit_id, planned_start}]`` for the stops that moved.
    """
    routes = [dict(r) for r in plan.routes or []]
    route = next((r for r in routes if r["caregiver_id"] == caregiver_id), None)
    stops = list(route["stops"]) if route is not None else []
    k = next(
        (
            i
            for i, s in enumerate(stops)
            if s.get("visit_id") == visit.id and not s.get("second_caregiver")
        ),
        None,
    )
    if route is None or k is None or k == len(stops) - 1:
        return []
    cg = session.get(Caregiver, caregiver_id)
    client = session.get(Client, visit.client_id)
    shift = P.shift_of(cg, visit.date) if cg is not None else None
    if cg is None or client is None or shift is None:
        return []
    origin = P.origin_of(visit.date)
    tail = stops[k + 1 :]
    vids = [s["visit_id"] for s in tail if s.get("visit_id") is not None]
    rows = {v.id: v for v in session.scalars(select(Visit).where(Visit.id.in_(vids)))}
    # What happened (checked in, done, missed, cancelled) stays as it was: only plans move.
    kept = [
        s
        for s in tail
        if s.get("visit_id") is not None
        and (rows.get(s["visit_id"]) is None or rows[s["visit_id"]].status in FINAL)
    ]
    tail = [s for s in tail if not any(s is x for x in kept)]
    if not tail:
        return []
    places = {
        c.id: routing.Location(c.lat, c.lon)
        for c in session.scalars(
            select(Client).where(Client.id.in_({v.client_id for v in rows.values()}))
        )
    }
    kitchens = {s.get("kitchen_id") for s in tail if s.get("kitchen_id") is not None}
    if cg.start_point_id is not None:
        kitchens.add(cg.start_point_id)
    points = {
        p.id: routing.Location(p.lat, p.lon)
        for p in session.scalars(select(ServicePoint).where(ServicePoint.id.in_(kitchens)))
    }
    urgent_start = P.seconds(origin, visit.planned_start_at)

    def sec(s: dict[str, Any], key: str) -> int:
        return P.seconds(origin, datetime.fromisoformat(s[key]))

    def stop_of(s: dict[str, Any], relaxed: bool) -> routing.RouteStop:
        start, length = sec(s, "start"), sec(s, "end") - sec(s, "start")
        end = _OPEN_END_S if relaxed else start
        kind = s.get("kind", "visit")
        if kind == "pickup":  # from its kitchen, not earlier than planned
            kitchen = points.get(s.get("kitchen_id"))
            return routing.RouteStop(kitchen, (routing.TimeWindow(start, _OPEN_END_S),), length)
        v = rows.get(s["visit_id"]) if kind == "visit" else None
        if v is None and cg.break_earliest and cg.break_latest:
            b0 = P.seconds(origin, datetime.combine(visit.date, cg.break_earliest, config.zone()))
            b1 = P.seconds(origin, datetime.combine(visit.date, cg.break_latest, config.zone()))
            window = (b0, _OPEN_END_S if relaxed else b1) if b0 <= start <= b1 else (start, end)
            return routing.RouteStop(None, (routing.TimeWindow(*window),), length)
        if v is None:  # a break outside its window, or a stop this model does not know
            return routing.RouteStop(None, (routing.TimeWindow(start, end),), length)
        where = places[v.client_id]
        if v.pinned or v.caregivers_needed > 1:
            return routing.RouteStop(where, (routing.TimeWindow(start, end),), length)
        w = P.start_window(origin, v)
        return routing.RouteStop(
            where,
            (routing.TimeWindow(w.start_s, _OPEN_END_S if relaxed else w.end_s),),
            v.duration_min * 60,
        )

    # Where the route ends: the caregiver's start point, else home (as planned).
    base = points.get(cg.start_point_id) or routing.Location(cg.home_lat, cg.home_lon)
    here = routing.Location(client.lat, client.lon)
    shift_end = P.seconds(origin, datetime.combine(visit.date, shift[1], config.zone()))
    first = routing.RouteStop(
        here, (routing.TimeWindow(urgent_start, urgent_start),), visit.duration_min * 60
    )
    verdict = None
    for relaxed in (False, True):
        caregiver = routing.Caregiver(
            id=cg.id,
            start=here,
            end=base,
            shift_start_s=urgent_start,
            shift_end_s=_OPEN_END_S if relaxed else shift_end,
            travel_mode=cg.travel_mode.value,
        )
        verdict = routing.check_route(
            caregiver, [first, *(stop_of(s, relaxed) for s in tail)], travel_model()
        )
        if verdict.starts_s:
            break
    if verdict is None or not verdict.starts_s:
        return []
    moved: list[dict[str, Any]] = []
    new_tail = []
    for s, arrival_s, start_s in zip(
        tail, verdict.arrivals_s[1:], verdict.starts_s[1:], strict=True
    ):
        length = sec(s, "end") - sec(s, "start")
        new = {
            **s,
            "arrival": P.iso(origin, arrival_s),
            "start": P.iso(origin, start_s),
            "end": P.iso(origin, start_s + length),
        }
        new_tail.append(new)
        if start_s == sec(s, "start") or s.get("kind", "visit") != "visit":
            continue
        v = rows.get(s["visit_id"])
        if v is None:
            continue
        at = P.instant(origin, start_s)
        for a in v.assignments:
            if a.caregiver_id == caregiver_id:
                a.planned_start_at = at
                a.planned_arrival_at = P.instant(origin, arrival_s)
        if v.caregivers_needed == 1:
            v.planned_start_at = at
        moved.append({"visit_id": v.id, "planned_start": at})
    later = sorted([*kept, *new_tail], key=lambda s: datetime.fromisoformat(s["start"]))
    route["stops"] = [*stops[: k + 1], *later]
    route["return"] = P.iso(origin, verdict.return_s)
    plan.routes = routes
    flag_modified(plan, "routes")
    session.flush()
    return moved
