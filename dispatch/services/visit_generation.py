"""Generate a day's visits from the care plans that recur on it; idempotent."""

from __future__ import annotations

import calendar
import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import audit, config
from dispatch.models import (
    CarePlan,
    Client,
    ClientAbsence,
    Provider,
    Recurrence,
    ServiceType,
    Visit,
    VisitStatus,
)
from dispatch.tenancy import Actor

log = logging.getLogger(__name__)

MONTH_STEP = {Recurrence.monthly: 1, Recurrence.quarterly: 3, Recurrence.half_yearly: 6}


def local_instant(day: date, at: time) -> datetime:
    """``day`` at wall-clock ``at`` in the platform's zone, as an aware UTC instant."""
    zone = config.zone()
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def clamped_day(year: int, month: int, day_of_month: int) -> int:
    """The 31st of a 30-day month is its 30th; of February its 28th or 29th."""
    return min(day_of_month, calendar.monthrange(year, month)[1])


def occurs_on(plan: CarePlan, day: date) -> bool:
    """Does ``plan`` recur on ``day``? Pure: the plan's dates and recurrence only."""
    if day < plan.start_date or (plan.end_date is not None and day > plan.end_date):
        return False
    if plan.recurrence == Recurrence.weekly:
        return day.weekday() in (plan.days_of_week or [])
    if plan.recurrence == Recurrence.every_n_days:
        step = plan.interval_days or 1
        return (day - plan.start_date).days % step == 0
    step = MONTH_STEP[plan.recurrence]
    months = (day.year - plan.start_date.year) * 12 + day.month - plan.start_date.month
    if months % step:
        return False
    dom = plan.day_of_month or plan.start_date.day
    return day.day == clamped_day(day.year, day.month, dom)


@dataclass
class GenerationResult:
    created: int = 0
    skipped: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    visit_ids: list[int] = field(default_factory=list)

    def skip(self, reason: str) -> None:
        self.skipped += 1
        self.reasons[reason] = self.reasons.get(reason, 0) + 1


def generate_for_day(
    session: Session, actor: Actor, provider_id: int | None, day: date
) -> GenerationResult:
    """Create the visits of ``day`` for one provider (or every provider when None).

    Skipped, and counted: plans whose visit for the day exists already (idempotency), whose
    client is inactive, or whose client is away (a recorded absence overlapping the window).
    """
    stmt = (
        select(CarePlan, Client, ServiceType)
        .join(Client, Client.id == CarePlan.client_id)
        .join(ServiceType, ServiceType.id == CarePlan.service_type_id)
        .where(CarePlan.active.is_(True), CarePlan.start_date <= day)
        .where((CarePlan.end_date.is_(None)) | (CarePlan.end_date >= day))
        .order_by(CarePlan.id)
    )
    if provider_id is not None:
        stmt = stmt.where(CarePlan.provider_id == provider_id)
    rows = [r for r in session.execute(stmt).all() if occurs_on(r[0], day)]
    result = GenerationResult()
    if not rows:
        return result
    plan_ids = [r[0].id for r in rows]
    existing = set(
        session.scalars(
            select(Visit.care_plan_id).where(Visit.date == day, Visit.care_plan_id.in_(plan_ids))
        )
    )
    client_ids = {r[1].id for r in rows}
    day_start = local_instant(day, time(0))
    absences: dict[int, list[ClientAbsence]] = {}
    for a in session.scalars(
        select(ClientAbsence).where(
            ClientAbsence.client_id.in_(client_ids),
            ClientAbsence.end_at > day_start,
            ClientAbsence.start_at < local_instant(day, time(23, 59, 59)),
        )
    ):
        absences.setdefault(a.client_id, []).append(a)
    created: list[Visit] = []
    for plan, client, service in rows:
        if plan.id in existing:
            result.skip("exists")
            continue
        if not client.active or not service.active:
            result.skip("inactive")
            continue
        start = local_instant(day, plan.window_start)
        end = local_instant(day, plan.window_end)
        if any(a.start_at < end and a.end_at > start for a in absences.get(client.id, [])):
            result.skip("client_absent")
            continue
        visit = Visit(
            provider_id=plan.provider_id,
            client_id=client.id,
            service_type_id=service.id,
            care_plan_id=plan.id,
            date=day,
            window_start_at=start,
            window_end_at=end,
            duration_min=plan.duration_min,
            required_skill=service.required_skill,
            caregivers_needed=service.caregivers_needed,
            service_point_id=plan.service_point_id,
            priority=plan.priority,
            status=VisitStatus.planned,
        )
        session.add(visit)
        created.append(visit)
    session.flush()
    result.created = len(created)
    result.visit_ids = [v.id for v in created]
    if created:
        providers = sorted({v.provider_id for v in created})
        for pid in providers:
            n = sum(1 for v in created if v.provider_id == pid)
            audit.record(
                session,
                actor,
                "generate_visits",
                entity_type="visits",
                after={"date": day.isoformat(), "created": n},
                provider_id=pid,
            )
    log.info("generated %d visits for %s (%d skipped)", result.created, day, result.skipped)
    return result


def provider_ids(session: Session) -> list[int]:
    return list(session.scalars(select(Provider.id).where(Provider.active.is_(True))))
