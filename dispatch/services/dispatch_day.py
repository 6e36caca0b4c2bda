"""The dispatcher's day in one read: the newest plan, its visits, caregivers, clients, kitchens."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import config
from dispatch.models import DayPlan, ServicePoint
from dispatch.services import planning
from dispatch.services import problem as P
from dispatch.tenancy import Actor, resolve_provider


def _local(at: Any) -> str | None:
    return at.astimezone(config.zone()).isoformat() if at is not None else None


def latest_plan(session: Session, provider_id: int, day: date) -> DayPlan | None:
    """The newest version of the day's plan (the one the dispatcher works on)."""
    return session.scalar(
        select(DayPlan)
        .where(DayPlan.provider_id == provider_id, DayPlan.date == day)
        .order_by(DayPlan.version.desc())
        .limit(1)
    )


def dispatch_day(
    session: Session, actor: Actor, day: date, provider_id: int | None = None
) -> dict[str, Any]:
    """Everything the day's timeline and map draw, in one answer (times in the zone)."""
    actor.require(*planning.PLAN_READ)
    pid = resolve_provider(actor, provider_id)
    data = P.load_day(session, pid, day)
    plan = latest_plan(session, pid, day)
    if plan is not None:
        planning.refresh_status(session, plan)
    services = data.services
    caregivers = []
    for c in data.caregivers:
        shift = P.shift_of(c, day)
        caregivers.append(
            {
                "id": c.id,
                "code": c.code,
                "name": c.name,
                "gender": c.gender.value,
                "skills": sorted(P.skills_on(c, day)),
                "shift_start": shift[0].strftime("%H:%M") if shift else None,
                "shift_end": shift[1].strftime("%H:%M") if shift else None,
                "travel_mode": c.travel_mode.value,
                "home_lat": c.home_lat,
                "home_lon": c.home_lon,
            }
        )
    visits = []
    for v in data.visits:
        care_plan = data.plans.get(v.care_plan_id) if v.care_plan_id else None
        st = services[v.service_type_id]
        visits.append(
            {
                "id": v.id,
                "client_id": v.client_id,
                "service_code": st.code,
                "service_name": st.name,
                "service_name_en": st.name_en,
                "window_start": _local(v.window_start_at),
                "window_end": _local(v.window_end_at),
                "duration_min": v.duration_min,
                "required_skill": v.required_skill,
                "caregivers_needed": v.caregivers_needed,
                "status": v.status.value,
                "pinned": v.pinned,
                "urgent": v.urgent,
                "planned_start": _local(v.planned_start_at),
                "caregiver_ids": [a.caregiver_id for a in v.assignments],
                "preferred_caregiver_id": care_plan.preferred_caregiver_id if care_plan else None,
                "unassigned_reason": v.unassigned_reason,
                "service_point_id": v.service_point_id,
            }
        )
    clients = [
        {
            "id": c.id,
            "code": c.code,
            "name": c.name,
            "address": c.address,
            "street": c.street,
            "lat": c.lat,
            "lon": c.lon,
            "preferred_caregiver_gender": (
                c.preferred_caregiver_gender.value if c.preferred_caregiver_gender else None
            ),
            "refused_caregiver_ids": sorted(data.refusals.get(c.id, ())),
        }
        for c in data.clients.values()
    ]
    points = [
        {"id": p.id, "name": p.name, "kind": p.kind.value, "lat": p.lat, "lon": p.lon}
        for p in session.scalars(
            select(ServicePoint).where(ServicePoint.provider_id == pid).order_by(ServicePoint.id)
        )
    ]
    return {
        "date": day,
        "provider_id": pid,
        "timezone": config.zone().key,
        "plan": plan,
        "caregivers": caregivers,
        "visits": visits,
        "clients": clients,
        "points": points,
    }
