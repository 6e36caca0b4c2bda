"""Services ordered à la carte (点单): an elder's family, or a dispatcher on the elder's behalf,
orders a catalogue service for a date and window; the provider accepts it (a visit of that
day, planned with the rest) or declines it with a reason.

Coverage, shown when ordering (what the answer says the elder would pay):

- ``self_paid``: the elder pays the catalogue price.
- ``allowance`` (电子津贴): ``allowance_left`` is the balance of the elder's allowance account
  (the ledger), or, for an elder without one, the monthly allowance less this month's orders
  (approved and pending, at catalogue rates); the elder pays what it does not cover. Any elder
  with an account sees its balance.
- ``government`` / ``ltc_insurance``: ``entitlement_left_min`` is the monthly entitlement less
  this month's approved and pending minutes (no entitlement set: no cap); the elder pays the
  share of the price beyond it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import audit, config, error_codes
from dispatch.db import utcnow
from dispatch.models import (
    Client,
    FundingSource,
    NotificationKind,
    OrderStatus,
    Role,
    ServiceOrder,
    ServiceType,
    WorkOrder,
)
from dispatch.services import family, ledger, notifications, visits
from dispatch.services.allowance_schemes import to_yuan
from dispatch.services.billing import order_amount
from dispatch.services.entitlements import APPROVED, PENDING, month_range, used_minutes
from dispatch.services.pages import filtered, page_of
from dispatch.tenancy import Actor, get_scoped

ORDERERS = (Role.family, Role.dispatcher, Role.provider_admin)
READERS = (Role.family, Role.dispatcher, Role.provider_admin, Role.admin, Role.finance)
DECIDERS = (Role.dispatcher, Role.provider_admin, Role.admin)
MAX_AHEAD = timedelta(days=90)
FILTERS = {
    "status": lambda v: ServiceOrder.status == v,
    "client_id": lambda v: ServiceOrder.client_id == v,
    "provider_id": lambda v: ServiceOrder.provider_id == v,
    "date": lambda v: ServiceOrder.date == v,
}
CENT = Decimal("0.01")


def _service(session: Session, code: str) -> ServiceType:
    service = session.scalars(
        select(ServiceType).where(ServiceType.code == code, ServiceType.active)
    ).first()
    if service is None:
        raise error_codes.SERVICE_NOT_IN_CATALOGUE(service=code, field="service_code")
    return service


def _window(day: date, data: Mapping[str, Any], service: ServiceType) -> tuple[datetime, datetime]:
    zone = config.zone()
    today = utcnow().astimezone(zone).date()
    if day < today:
        raise error_codes.ORDER_IN_PAST(field="date")
    if day > today + MAX_AHEAD:
        raise error_codes.ORDER_TOO_FAR(days=MAX_AHEAD.days, field="date")
    start = datetime.combine(day, data["window_start"], zone)
    end = datetime.combine(day, data["window_end"], zone)
    if end - start < timedelta(minutes=service.default_duration_min):
        raise error_codes.WINDOW_TOO_SHORT(minutes=service.default_duration_min, field="window_end")
    if end <= utcnow():
        raise error_codes.ORDER_IN_PAST("window", field="window_end")
    return start, end


def _month_value(session: Session, client_id: int, first: date) -> Decimal:
    """This month's approved and pending orders at catalogue rates."""
    start, end = month_range(first)
    rows = session.execute(
        select(WorkOrder.billable_min, ServiceType.billing_unit, ServiceType.rate)
        .join(ServiceType, ServiceType.id == WorkOrder.service_type_id)
        .where(
            WorkOrder.client_id == client_id,
            WorkOrder.start_at >= start,
            WorkOrder.start_at < end,
            WorkOrder.status.in_((*APPROVED, *PENDING)),
        )
    ).all()
    return sum((order_amount(unit, rate, m) for m, unit, rate in rows), Decimal("0"))


def coverage(
    session: Session, client: Client, service: ServiceType, day: date
) -> tuple[Decimal, dict[str, Any]]:
    """The price and what covers it (see the module's docstring)."""
    minutes = service.default_duration_min
    price = order_amount(service.billing_unit, service.rate, minutes)
    first = date(day.year, day.month, 1)
    minutes_left = allowance_left = None
    copay = price
    account = ledger.account_of(session, client.id)
    if account is not None:
        # The allowance ledger (电子津贴 account) is the truth once the elder has one.
        allowance_left = max(Decimal("0"), to_yuan(account.balance_fen))
    elif client.funding_source == FundingSource.allowance and client.monthly_allowance is not None:
        allowance_left = max(
            Decimal("0"), client.monthly_allowance - _month_value(session, client.id, first)
        )
    if client.funding_source == FundingSource.allowance:
        if allowance_left is not None:
            copay = max(Decimal("0"), price - allowance_left)
    elif client.funding_source != FundingSource.self_paid:
        if client.monthly_entitlement_min is None:
            copay = Decimal("0")
        else:
            approved, pending = used_minutes(session, client.id, first)
            minutes_left = max(0, client.monthly_entitlement_min - approved - pending)
            uncovered = max(0, minutes - minutes_left)
            copay = (price * uncovered / minutes).quantize(CENT) if minutes else Decimal("0")
    return price, {
        "funding_source": client.funding_source.value,
        "entitlement_left_min": minutes_left,
        "allowance_left": str(allowance_left) if allowance_left is not None else None,
        "price": str(price),
        "copay": str(copay),
    }


def quote(session: Session, actor: Actor, data: Mapping[str, Any]) -> dict[str, Any]:
    """What ``place`` would answer as coverage, checked as ``place`` checks it; nothing stored."""
    actor.require(*ORDERERS)
    client = family.client_for(session, actor, data["client_id"])
    service = _service(session, data["service_code"])
    _window(data["date"], data, service)
    return coverage(session, client, service, data["date"])[1]


def place(session: Session, actor: Actor, data: Mapping[str, Any]) -> ServiceOrder:
    """A new order, ``requested``, with what covers it."""
    actor.require(*ORDERERS)
    client = family.client_for(session, actor, data["client_id"])
    service = _service(session, data["service_code"])
    start, end = _window(data["date"], data, service)
    price, cover = coverage(session, client, service, data["date"])
    row = ServiceOrder(
        provider_id=client.provider_id,
        client_id=client.id,
        service_type_id=service.id,
        date=data["date"],
        window_start_at=start,
        window_end_at=end,
        note=data.get("note"),
        status=OrderStatus.requested,
        coverage=cover,
        price=price,
        ordered_by=actor.user_id,
        ordered_by_role=actor.role.value,
    )
    session.add(row)
    session.flush()
    audit.record(session, actor, "create", row, after=audit.snapshot(row))
    return row


def _visible(session: Session, actor: Actor) -> Any:
    actor.require(*READERS)
    return family.visible(session, actor, ServiceOrder)


def list_orders(
    session: Session, actor: Actor, filters: Mapping[str, Any], page: int, page_size: int
) -> tuple[list[ServiceOrder], int]:
    stmt = filtered(_visible(session, actor), filters, FILTERS)
    stmt = stmt.order_by(ServiceOrder.created_at.desc(), ServiceOrder.id.desc())
    return page_of(session, stmt, page, page_size)


def get_order(session: Session, actor: Actor, order_id: int) -> ServiceOrder:
    row = session.scalars(_visible(session, actor).where(ServiceOrder.id == order_id)).one_or_none()
    if row is None:
        raise error_codes.SERVICE_ORDER_NOT_FOUND(id=order_id)
    return row


def _pending(session: Session, actor: Actor, order_id: int) -> ServiceOrder:
    actor.require(*DECIDERS)
    row = get_scoped(session, ServiceOrder, order_id, actor)
    session.refresh(row, with_for_update={"key_share": True})
    if row.status != OrderStatus.requested:
        raise error_codes.ORDER_ALREADY_DECIDED(id=row.id, status=row.status.value)
    return row


def accept(session: Session, actor: Actor, order_id: int, note: str | None = None) -> ServiceOrder:
    """The order becomes a visit of its date, planned with the day's others."""
    row = _pending(session, actor, order_id)
    visit = visits.create_visit(
        session,
        actor,
        {
            "provider_id": row.provider_id,
            "client_id": row.client_id,
            "service_type_id": row.service_type_id,
            "date": row.date,
            "window_start": row.window_start_at,
            "window_end": row.window_end_at,
        },
    )
    row.status = OrderStatus.accepted
    row.visit_id = visit.id
    row.decided_by = actor.user_id
    row.decided_at = utcnow()
    session.flush()
    audit.record(session, actor, "order.accept", row, after={"visit_id": visit.id}, reason=note)
    service = session.get(ServiceType, row.service_type_id)
    name = service.name if service else ""
    when = row.window_start_at.astimezone(config.zone()).strftime("%m-%d %H:%M")
    notifications.for_order(
        session,
        row.client_id,
        row.id,
        NotificationKind.order_accepted,
        f"Your order of {service.code if service else ''} for {when} was accepted.",
        f"您预约的{name}服务（{when}）已受理。",
    )
    return row


def decline(session: Session, actor: Actor, order_id: int, reason: str) -> ServiceOrder:
    row = _pending(session, actor, order_id)
    row.status = OrderStatus.declined
    row.decline_reason = reason
    row.decided_by = actor.user_id
    row.decided_at = utcnow()
    session.flush()
    audit.record(session, actor, "order.decline", row, reason=reason)
    service = session.get(ServiceType, row.service_type_id)
    notifications.for_order(
        session,
        row.client_id,
        row.id,
        NotificationKind.order_declined,
        f"Your order of {service.code if service else ''} was declined: {reason}",
        f"您预约的{service.name if service else ''}服务未被受理：{reason}",
    )
    return row
