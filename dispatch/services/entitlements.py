"""Entitlements: a client's approved minutes per month against the monthly entitlement."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from dispatch import config, error_codes
from dispatch.models import Client, Role, WorkOrder, WorkOrderStatus
from dispatch.tenancy import Actor, get_scoped

APPROVED = (WorkOrderStatus.approved, WorkOrderStatus.billed)
PENDING = (WorkOrderStatus.submitted, WorkOrderStatus.flagged, WorkOrderStatus.verified)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def local_midnight(day: date, *, next_day: bool = False) -> datetime:
    """The instant a local calendar day starts (or, with ``next_day``, ends), in UTC."""
    try:
        if next_day:
            day = day + timedelta(days=1)
        return datetime.combine(day, time(0), tzinfo=config.zone()).astimezone(UTC)
    except OverflowError:  # year 1 or 9999 in a filter: no order is that old or that new
        return (
            datetime.max.replace(tzinfo=UTC) if day.year > 1 else datetime.min.replace(tzinfo=UTC)
        )


def month_of(moment: datetime) -> date:
    local = moment.astimezone(config.zone())
    return date(local.year, local.month, 1)


def parse_month(text: str) -> date:
    m = _MONTH.match(text or "")
    if m is None or not 1 <= int(m.group(2)) <= 12 or not 1900 <= int(m.group(1)) <= 2200:
        raise error_codes.INVALID_MONTH(errors={"month": ["Use YYYY-MM."]})
    return date(int(m.group(1)), int(m.group(2)), 1)


def month_range(first: date) -> tuple[datetime, datetime]:
    nxt = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return local_midnight(first), local_midnight(nxt)


def used_minutes(
    session: Session, client_id: int, first: date, exclude_order: int | None = None
) -> tuple[int, int]:
    """(approved, pending) billable minutes of the client's orders starting in that month."""
    start, end = month_range(first)
    stmt = select(
        func.coalesce(
            func.sum(case((WorkOrder.status.in_(APPROVED), WorkOrder.billable_min), else_=0)), 0
        ),
        func.coalesce(
            func.sum(case((WorkOrder.status.in_(PENDING), WorkOrder.billable_min), else_=0)), 0
        ),
    ).where(WorkOrder.client_id == client_id, WorkOrder.start_at >= start, WorkOrder.start_at < end)
    if exclude_order is not None:
        stmt = stmt.where(WorkOrder.id != exclude_order)
    approved, pending = session.execute(stmt).one()
    return int(approved), int(pending)


def client_month(session: Session, actor: Actor, client_id: int, month: str) -> dict[str, Any]:
    """Approved and pending minutes of one client in one month, against the entitlement."""
    actor.require(Role.dispatcher, Role.provider_admin, Role.finance, Role.admin)
    client = get_scoped(session, Client, client_id, actor)
    first = parse_month(month)
    approved, pending = used_minutes(session, client.id, first)
    limit = client.monthly_entitlement_min
    return {
        "client_id": client.id,
        "month": first.strftime("%Y-%m"),
        "entitlement_min": limit,
        "approved_min": approved,
        "pending_min": pending,
        "remaining_min": None if limit is None else limit - approved,
        "over_by_min": None if limit is None else max(0, approved - limit),
        "over_if_all_approved": limit is not None and approved + pending > limit,
    }


def for_order(session: Session, order: WorkOrder) -> dict[str, Any]:
    """What approving this order does to its client's month: shown before finance decides."""
    client = session.get(Client, order.client_id)
    first = month_of(order.start_at)
    approved, _pending = used_minutes(session, order.client_id, first, exclude_order=order.id)
    limit = client.monthly_entitlement_min if client else None
    after = approved + order.billable_min
    return {
        "month": first.strftime("%Y-%m"),
        "entitlement_min": limit,
        "approved_min": approved,
        "approved_with_this_min": after,
        "over_entitlement": limit is not None and after > limit,
    }
