"""Visits: list and read them, move or cancel one by hand, add an ad-hoc one, generate a day's.

A hand edit keeps the day's plan in step: a cancelled visit leaves its routes, a moved one is
put where the dispatcher put it (marked ``edited``, times not re-optimised) and pinned, so that
re-optimising keeps it there. Moving a visit to a caregiver asks ``qualification.why_not``,
the optimiser's own constraints.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from dispatch import audit, config, error_codes, qualification
from dispatch.models import (
    Caregiver,
    Client,
    DayPlan,
    Role,
    ServiceType,
    Visit,
    VisitAssignment,
    VisitStatus,
)
from dispatch.services import day_lock, proposals
from dispatch.services import problem as P
from dispatch.services.pages import page_of
from dispatch.services.plans import PLAN_READ, PLAN_WRITE
from dispatch.services.visit_generation import generate_for_day
from dispatch.tenancy import Actor, get_scoped, resolve_provider, scoped

# Supervisors read the visits of their area too (dispatch.areas), but no plans.
VISIT_READ = (*PLAN_READ, Role.supervisor)


def list_visits(
    session: Session, actor: Actor, filters: Mapping[str, Any], page: int, page_size: int
) -> tuple[list[Visit], int]:
    actor.require(*VISIT_READ)
    stmt = scoped(select(Visit).options(selectinload(Visit.assignments)), Visit, actor)
    if filters.get("date"):
        stmt = stmt.where(Visit.date == filters["date"])
    if filters.get("status"):
        stmt = stmt.where(Visit.status == filters["status"])
    if filters.get("client_id"):
        stmt = stmt.where(Visit.client_id == filters["client_id"])
    if filters.get("provider_id"):
        stmt = stmt.where(Visit.provider_id == filters["provider_id"])
    if filters.get("caregiver_id"):
        stmt = stmt.where(
            Visit.id.in_(
                select(VisitAssignment.visit_id).where(
                    VisitAssignment.caregiver_id == filters["caregiver_id"]
                )
            )
        )
    stmt = stmt.order_by(Visit.date, Visit.window_start_at, Visit.id)
    return page_of(session, stmt, page, page_size)


def get_visit(session: Session, actor: Actor, visit_id: int) -> Visit:
    actor.require(*VISIT_READ)
    return get_scoped(session, Visit, visit_id, actor)


def _on_day(at: datetime, day: date, field_name: str) -> None:
    if at.astimezone(config.zone()).date() != day:
        raise error_codes.INVALID_FIELD(
            "on_visit_date", name=field_name, day=day.isoformat(), field=field_name
        )


def update_visit(session: Session, actor: Actor, visit_id: int, data: dict[str, Any]) -> Visit:
    """Move a visit to another caregiver or time, pin or unpin it, or cancel it; under the day's
    lock (``day_lock``), onto the visit as stored now."""
    actor.require(*PLAN_WRITE)
    visit = get_scoped(session, Visit, visit_id, actor)
    day_lock.lock(session, visit.provider_id, visit.date)
    day_lock.visits(session, [visit.id])
    before = audit.snapshot(visit)
    before["caregiver_ids"] = [a.caregiver_id for a in visit.assignments]
    if visit.status in proposals.FINAL:
        raise error_codes.VISIT_CLOSED(status=visit.status.value)
    if data.get("status") == VisitStatus.cancelled:
        visit.status = VisitStatus.cancelled
        visit.cancel_reason = data.get("cancel_reason")
        visit.pinned = False
        _drop_from_plan(session, visit)
    moved = "caregiver_id" in data or "planned_start" in data
    if "caregiver_id" in data and data["caregiver_id"] is not None:
        cg = session.get(Caregiver, data["caregiver_id"])
        if cg is None or cg.provider_id != visit.provider_id or not cg.active:
            raise error_codes.REFERENCE_NOT_FOUND(
                "active_caregiver", id=data["caregiver_id"], field="caregiver_id"
            )
        _check_qualified(session, visit, cg)
        # The seat that changes hands: the one ``from_caregiver_id`` holds, else the first.
        held = [a.caregiver_id for a in visit.assignments]
        seat = held.index(data["from_caregiver_id"]) if data.get("from_caregiver_id") in held else 0
        others = [c for i, c in enumerate(held) if i != seat]
        if cg.id in others:
            raise error_codes.INVALID_FIELD("already_second", field="caregiver_id")
        if visit.assignments:
            visit.assignments[seat].caregiver_id = cg.id
        else:
            visit.assignments.append(VisitAssignment(caregiver_id=cg.id, sequence=visit.sequence))
        if visit.status == VisitStatus.planned:
            visit.status = VisitStatus.assigned
        visit.unassigned_reason = None
    if data.get("caregiver_id") is not None and data.get("planned_start") is None:
        # A new caregiver without a time: her route decides the start when re-optimised; the
        # old start (planned for someone else's route) shows in the plan but is not pinned.
        visit.planned_start_at = None
        for a in visit.assignments:
            a.planned_start_at = a.planned_arrival_at = None
    if data.get("planned_start") is not None:
        start = data["planned_start"]
        _on_day(start, visit.date, "planned_start")
        visit.planned_start_at = start
        for a in visit.assignments:
            a.planned_start_at = start
            a.planned_arrival_at = start
    if "pinned" in data:
        visit.pinned = bool(data["pinned"])
    elif moved:
        # A visit moved by hand stays where the dispatcher put it when re-optimising.
        visit.pinned = True
    if moved and visit.assignments:
        _move_in_plan(session, visit)
    session.flush()
    after = audit.snapshot(visit)
    after["caregiver_ids"] = [a.caregiver_id for a in visit.assignments]
    old, new = audit.changed(before, after)
    if new:
        audit.record(session, actor, "update", visit, before=old, after=new)
    return visit


def move_to_day(
    session: Session, actor: Actor, visit: Visit, day: date, window_end: datetime
) -> None:
    """Date a visit on ``day`` (help for a late call arrives after midnight): it leaves the old
    day's plan, its window starts no earlier than ``day``'s midnight and ends at ``window_end``
    (at the latest). Under both days' locks; the caller puts it into ``day``'s routes."""
    if day == visit.date:
        return
    day_lock.lock(session, visit.provider_id, visit.date)
    day_lock.lock(session, visit.provider_id, day)
    _drop_from_plan(session, visit)
    before = audit.snapshot(visit)
    midnight = datetime.combine(day, time(0), config.zone())
    visit.date = day
    visit.plan_id = None
    visit.window_start_at = max(visit.window_start_at, midnight)
    visit.window_end_at = max(window_end, visit.window_start_at)
    old, new = audit.changed(before, audit.snapshot(visit))
    audit.record(session, actor, "update", visit, before=old, after=new)


def _check_qualified(session: Session, visit: Visit, cg: Caregiver) -> None:
    """The same rules the optimiser applies: skill (with a valid certificate), gender, refusal."""
    client = session.get(Client, visit.client_id)
    problems = qualification.why_not(
        required_skill=visit.required_skill,
        skills=P.skills_on(cg, visit.date),
        gender=cg.gender,
        preferred_gender=client.preferred_caregiver_gender if client else None,
        refused=client is not None and any(r.caregiver_id == cg.id for r in client.refusals),
    )
    if problems:
        raise error_codes.CAREGIVER_NOT_QUALIFIED(
            caregiver=cg.code, problems="; ".join(problems), field="caregiver_id"
        )


def _plan_of(session: Session, visit: Visit) -> DayPlan | None:
    if visit.plan_id is None:
        return None
    plan = session.get(DayPlan, visit.plan_id)
    return plan if plan is not None and plan.status in proposals.ACTIVE else None


def _drop_from_plan(session: Session, visit: Visit) -> None:
    plan = _plan_of(session, visit)
    if plan is None:
        return
    plan.routes = [
        {**r, "stops": [s for s in r["stops"] if s.get("visit_id") != visit.id]}
        for r in plan.routes or []
    ]
    plan.unassigned = [u for u in plan.unassigned or [] if u["visit_id"] != visit.id]


def _move_in_plan(session: Session, visit: Visit) -> None:
    """Mirror a hand edit in the plan's routes, marked ``edited`` (times not re-optimised)."""
    plan = _plan_of(session, visit)
    if plan is None:
        return
    old = next(
        (s for r in plan.routes or [] for s in r["stops"] if s.get("visit_id") == visit.id),
        None,
    )
    _drop_from_plan(session, visit)
    start = visit.planned_start_at
    if start is None and old is not None:
        start = datetime.fromisoformat(old["start"])
    if start is None:
        return
    end = start + timedelta(minutes=visit.duration_min)
    routes = list(plan.routes or [])
    for i, a in enumerate(visit.assignments):
        stop = {
            "visit_id": visit.id,
            "kind": "visit",
            "arrival": P.iso(P.origin_of(visit.date), P.seconds(P.origin_of(visit.date), start)),
            "start": start.astimezone(config.zone()).isoformat(),
            "end": end.astimezone(config.zone()).isoformat(),
            "travel_min": None,
            "travel_m": None,
            "kitchen_id": None,
            "second_caregiver": i > 0,
            "edited": True,
        }
        route = next((r for r in routes if r["caregiver_id"] == a.caregiver_id), None)
        if route is None:
            route = {
                "caregiver_id": a.caregiver_id,
                "depart": stop["start"],
                "return": stop["end"],
                "travel_min": 0,
                "travel_m": 0,
                "stops": [],
            }
            routes.append(route)
        stops = [*route["stops"], stop]
        stops.sort(key=lambda s: datetime.fromisoformat(s["start"]))
        route["stops"] = stops
    plan.routes = routes
    plan.kpis = {**(plan.kpis or {}), "edited": True}


def create_visit(session: Session, actor: Actor, data: dict[str, Any]) -> Visit:
    """An ad-hoc or urgent visit, outside any care plan."""
    actor.require(*PLAN_WRITE)
    pid = resolve_provider(actor, data.get("provider_id"))
    client = session.get(Client, data["client_id"])
    if client is None or client.provider_id != pid:
        raise error_codes.REFERENCE_NOT_FOUND("client", id=data["client_id"], field="client_id")
    service = session.get(ServiceType, data["service_type_id"])
    if service is None or not service.active:
        raise error_codes.REFERENCE_NOT_FOUND(
            "active_service_type", id=data["service_type_id"], field="service_type_id"
        )
    day: date = data["date"]
    ws, we = data["window_start"], data["window_end"]
    _on_day(ws, day, "window_start")
    if we <= ws:
        raise error_codes.INVALID_FIELD("after_start", name="window_end", field="window_end")
    visit = Visit(
        provider_id=pid,
        client_id=client.id,
        service_type_id=service.id,
        date=day,
        window_start_at=ws,
        window_end_at=we,
        duration_min=data.get("duration_min") or service.default_duration_min,
        required_skill=service.required_skill,
        caregivers_needed=service.caregivers_needed,
        service_point_id=data.get("service_point_id"),
        priority=data.get("priority") or 1,
        urgent=bool(data.get("urgent")),
        status=VisitStatus.planned,
    )
    session.add(visit)
    session.flush()
    audit.record(session, actor, "create", visit, after=audit.snapshot(visit))
    return visit


def generate(session: Session, actor: Actor, day: date, provider_id: int | None) -> Any:
    actor.require(*PLAN_WRITE)
    pid = resolve_provider(actor, provider_id)
    return generate_for_day(session, actor, pid, day)
