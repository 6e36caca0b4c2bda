"""The funnel report: generated, normal, abnormal, appealed, not billed, billed, billed hours.

Definitions (docs/rules.md explains them at length), for orders whose start falls in the period:
- generated: every work order;
- abnormal: orders with a block or review flag that held at the last evaluation (open, or
  overridden by finance); normal = generated − abnormal;
- appealed: abnormal orders whose provider appealed (any appeal state but none);
- not_billed: abnormal − abnormal orders whose appeal was upheld;
- billed / billed_hours: orders in status billed, and their billable minutes / 60.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.orm import Session

from dispatch import config, error_codes
from dispatch.models import Flag, Provider, WorkOrder
from dispatch.tenancy import Actor, resolve_provider


def _period(start: date, end: date) -> tuple[datetime, datetime]:
    if end < start:
        raise error_codes.INVALID_PERIOD(errors={"to": ["Must not be before from."]})
    zone = config.zone()
    if end >= date(9999, 12, 31) or start <= date(1, 1, 2):
        raise error_codes.INVALID_PERIOD("out_of_range", errors={"to": ["Out of range."]})
    return (
        datetime.combine(start, time(), zone),
        datetime.combine(end + timedelta(days=1), time(), zone),
    )


def funnel(
    session: Session, actor: Actor, start: date, end: date, provider_id: int | None = None
) -> dict[str, Any]:
    """The funnel over [from, to] (local dates, both included), in total and per provider."""
    lo, hi = _period(start, end)
    if not actor.platform_level or provider_id is not None:
        provider_id = resolve_provider(actor, provider_id)
    holding = exists().where(
        Flag.work_order_id == WorkOrder.id,
        Flag.severity.in_(("block", "review")),
        Flag.status.in_(("open", "overridden")),
    )
    abnormal = case((holding, 1), else_=0)
    appealed = case((and_(holding, WorkOrder.appeal_state != "none"), 1), else_=0)
    upheld = case((and_(holding, WorkOrder.appeal_state == "upheld"), 1), else_=0)
    billed = case((WorkOrder.status == "billed", 1), else_=0)
    billed_min = case((WorkOrder.status == "billed", WorkOrder.billable_min), else_=0)
    stmt = (
        select(
            WorkOrder.provider_id,
            func.count(),
            func.sum(abnormal),
            func.sum(appealed),
            func.sum(upheld),
            func.sum(billed),
            func.sum(billed_min),
        )
        .where(WorkOrder.start_at >= lo, WorkOrder.start_at < hi)
        .group_by(WorkOrder.provider_id)
        .order_by(WorkOrder.provider_id)
    )
    if provider_id is not None:
        stmt = stmt.where(WorkOrder.provider_id == provider_id)
    names = dict(session.execute(select(Provider.id, Provider.name)).all())
    rows = []
    for pid, gen, abn, app, up, bil, mins in session.execute(stmt):
        rows.append(
            _figures(
                int(gen), int(abn or 0), int(app or 0), int(up or 0), int(bil or 0), int(mins or 0)
            )
            | {"provider_id": pid, "provider_name": names.get(pid)}
        )
    total = _figures(
        *(sum(r[k] for r in rows) for k in ("generated", "abnormal", "appealed")),
        sum(r["_upheld"] for r in rows),
        sum(r["billed"] for r in rows),
        sum(r["_billed_min"] for r in rows),
    )
    for r in rows:
        r.pop("_upheld")
        r.pop("_billed_min")
    total.pop("_upheld")
    billed_minutes = total.pop("_billed_min")
    return {
        **total,
        "billed_minutes": billed_minutes,
        "from": start,
        "to": end,
        "provider_id": provider_id,
        "by_provider": rows,
    }


def _figures(
    gen: int, abn: int, app: int, upheld: int, billed: int, minutes: int
) -> dict[str, Any]:
    return {
        "generated": gen,
        "normal": gen - abn,
        "abnormal": abn,
        "appealed": app,
        "not_billed": abn - upheld,
        "billed": billed,
        "billed_hours": Decimal(minutes) / Decimal(60),
        "_upheld": upheld,
        "_billed_min": minutes,
    }
