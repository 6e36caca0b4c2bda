"""The live board: each published visit's state and its late / missed alerts, from EVV events."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from dispatch import error_codes
from dispatch.db import utcnow
from dispatch.models import (
    Caregiver,
    Client,
    EventKind,
    Role,
    ServiceType,
    Visit,
    VisitEvent,
    VisitOutcome,
    VisitStatus,
)
from dispatch.tenancy import Actor, scoped

DEFAULT_LATE_AFTER_MIN = 15
ON_BOARD = (
    VisitStatus.published,
    VisitStatus.in_progress,
    VisitStatus.completed,
    VisitStatus.missed,
)
AWAY = (VisitOutcome.client_absent, VisitOutcome.refused)
BOARD_READ = (Role.dispatcher, Role.provider_admin, Role.admin, Role.finance)


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise error_codes.INVALID_DATE(
            text=text[:40], errors={"date": ["Not a valid date (YYYY-MM-DD)."]}
        ) from None


def visit_state(
    visit: Visit,
    check_in: datetime | None,
    check_out: datetime | None,
    at: datetime,
    late_after: timedelta,
) -> tuple[str, list[str], int | None]:
    """(state, alerts, minutes late) of one visit at instant ``at``.

    late: no check-in ``late_after`` after the planned start (window start if none);
    missed: no check-in by the end of the window. A missed visit is not also late.
    """
    planned = visit.planned_start_at or visit.window_start_at
    if visit.status == VisitStatus.missed:
        return "missed", ["missed"], None
    if check_out is not None or visit.status == VisitStatus.completed:
        return "completed", [], _late_by(check_in, planned, late_after)
    if check_in is not None or visit.status == VisitStatus.in_progress:
        return "in_progress", [], _late_by(check_in, planned, late_after)
    if at > visit.window_end_at:
        return "missed", ["missed"], None
    if at > planned + late_after:
        return "late", ["late"], int((at - planned).total_seconds() // 60)
    return "scheduled", [], None


def _late_by(check_in: datetime | None, planned: datetime, late_after: timedelta) -> int | None:
    if check_in is None or check_in <= planned + late_after:
        return None
    return int((check_in - planned).total_seconds() // 60)


def board(
    session: Session,
    actor: Actor,
    day: date,
    late_after_min: int = DEFAULT_LATE_AFTER_MIN,
    at: datetime | None = None,
    provider_id: int | None = None,
) -> dict[str, Any]:
    actor.require(*BOARD_READ)
    at = at or utcnow()
    late_after = timedelta(minutes=late_after_min)
    stmt = scoped(
        select(Visit)
        .options(selectinload(Visit.assignments))
        .where(Visit.date == day, Visit.status.in_(ON_BOARD)),
        Visit,
        actor,
    )
    if provider_id is not None:
        stmt = stmt.where(Visit.provider_id == provider_id)
    visits = list(session.scalars(stmt.order_by(Visit.planned_start_at, Visit.id)))
    ids = [v.id for v in visits]
    events: dict[tuple[int, EventKind], datetime] = {}
    for e in session.scalars(select(VisitEvent).where(VisitEvent.visit_id.in_(ids))):
        key = (e.visit_id, e.kind)
        # The first check-in and the last check-out of any of the visit's caregivers.
        if key not in events or (
            e.device_time_at < events[key]
            if e.kind == EventKind.check_in
            else e.device_time_at > events[key]
        ):
            events[key] = e.device_time_at
    clients = {
        c.id: c
        for c in session.scalars(select(Client).where(Client.id.in_({v.client_id for v in visits})))
    }
    services = {s.id: s for s in session.scalars(select(ServiceType))}
    cg_ids = {a.caregiver_id for v in visits for a in v.assignments}
    names = {
        c.id: c.name for c in session.scalars(select(Caregiver).where(Caregiver.id.in_(cg_ids)))
    }
    rows = []
    counts: dict[str, int] = {}
    for v in visits:
        check_in = events.get((v.id, EventKind.check_in))
        check_out = events.get((v.id, EventKind.check_out))
        state, alerts, late_min = visit_state(v, check_in, check_out, at, late_after)
        if state == "completed" and v.outcome in AWAY:
            state = v.outcome.value  # client_absent or refused: checked out, nothing to bill
        counts[state] = counts.get(state, 0) + 1
        client = clients[v.client_id]
        rows.append(
            {
                "visit_id": v.id,
                "status": v.status.value,
                "state": state,
                "alerts": alerts,
                "late_min": late_min,
                "client": {"id": client.id, "name": client.name, "address": client.address},
                "service_code": services[v.service_type_id].code,
                "service_name": services[v.service_type_id].name,
                "service_name_en": services[v.service_type_id].name_en,
                "duration_min": v.duration_min,
                "caregivers": [
                    {"id": a.caregiver_id, "name": names.get(a.caregiver_id)} for a in v.assignments
                ],
                "planned_start": v.planned_start_at,
                "window_start": v.window_start_at,
                "window_end": v.window_end_at,
                "check_in_at": check_in,
                "check_out_at": check_out,
            }
        )
    return {
        "date": day,
        "at": at,
        "late_after_min": late_after_min,
        "counts": counts,
        "visits": rows,
    }
