"""Billing batches: a provider's approved orders for a period, priced in Decimal, then closed."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import event, func, inspect, select, update
from sqlalchemy.orm import Session

from dispatch import audit, config, error_codes, spreadsheets
from dispatch.db import utcnow
from dispatch.errors import DomainError
from dispatch.models import (
    AllowanceEntry,
    BatchStatus,
    BillingBatch,
    BillingUnit,
    Caregiver,
    Client,
    Meal,
    MealStatus,
    Provider,
    Role,
    ServicePoint,
    ServiceType,
    WorkOrder,
    WorkOrderStatus,
)
from dispatch.services import entitlements
from dispatch.services.pages import page_of
from dispatch.tenancy import Actor, get_scoped, scoped

CENT = Decimal("0.01")
MAX_PERIOD = timedelta(days=366)
READERS = (Role.provider_admin, Role.finance, Role.admin)
WRITERS = (Role.finance,)


def order_amount(unit: BillingUnit, rate: Decimal, minutes: int) -> Decimal:
    """One order's amount: hour rate x minutes / 60, or the visit rate; ROUND_HALF_UP to 0.01.

    Each order is rounded on its own and the batch total is the sum of the rounded amounts, so
    that the export's lines add up exactly to its total (docs/billing.md).
    """
    if unit == BillingUnit.visit:
        return rate.quantize(CENT, rounding=ROUND_HALF_UP)
    return (rate * minutes / Decimal(60)).quantize(CENT, rounding=ROUND_HALF_UP)


def _closed(batch: BillingBatch) -> DomainError:
    return error_codes.BATCH_CLOSED(id=batch.id)


def create_batch(
    session: Session, actor: Actor, provider_id: int, period_start: date, period_end: date
) -> BillingBatch:
    """Gather the provider's approved, unbatched orders that started in the period."""
    actor.require(*WRITERS)
    if session.get(Provider, provider_id) is None:
        raise error_codes.REFERENCE_NOT_FOUND("provider", id=provider_id, field="provider_id")
    if period_end < period_start or period_end - period_start > MAX_PERIOD:
        raise error_codes.INVALID_PERIOD(
            "billing",
            errors={"period_end": ["Must be on or after period_start, within a year."]},
        )
    start = entitlements.local_midnight(period_start)
    end = entitlements.local_midnight(period_end, next_day=True)
    rows = session.execute(
        select(WorkOrder.id, WorkOrder.billable_min, ServiceType.billing_unit, ServiceType.rate)
        .join(ServiceType, ServiceType.id == WorkOrder.service_type_id)
        .where(
            WorkOrder.provider_id == provider_id,
            WorkOrder.status == WorkOrderStatus.approved,
            WorkOrder.billing_batch_id.is_(None),
            WorkOrder.start_at >= start,
            WorkOrder.start_at < end,
        )
        .order_by(WorkOrder.start_at, WorkOrder.id)
        .with_for_update(of=WorkOrder)
    ).all()
    meals = _unbilled_meals(provider_id, start, end)
    if not rows and not session.scalar(select(func.count()).select_from(meals.subquery())):
        raise error_codes.NO_APPROVED_ORDERS()
    batch = BillingBatch(
        provider_id=provider_id,
        period_start=period_start,
        period_end=period_end,
        created_by=actor.user_id,
    )
    session.add(batch)
    session.flush()
    params = [
        {
            "id": ident,
            "billing_batch_id": batch.id,
            "billing_rate": rate,
            "billing_amount": order_amount(unit, rate, minutes),
        }
        for ident, minutes, unit, rate in rows
    ]
    if params:
        session.execute(update(WorkOrder), params)
    session.execute(
        update(Meal)
        .where(Meal.id.in_(meals.with_only_columns(Meal.id).scalar_subquery()))
        .values(billing_batch_id=batch.id),
        execution_options={"synchronize_session": False},
    )
    _totals(session, batch)
    audit.record(session, actor, "billing_batch.create", batch, after=audit.snapshot(batch))
    return batch


def _unbilled_meals(provider_id: int, start: Any, end: Any) -> Any:
    """The provider's canteens' meals of the period not held by a flag and not yet billed."""
    return select(Meal).where(
        Meal.provider_id == provider_id,
        Meal.status == MealStatus.recorded,
        Meal.billing_batch_id.is_(None),
        Meal.served_at >= start,
        Meal.served_at < end,
    )


def _totals(session: Session, batch: BillingBatch) -> None:
    """The one definition of a batch's lines: its orders, who pays them, its meals.

    The allowance and co-payment lines are the net ledger entries of the batch's orders (a
    reversed debit nets to nothing with its credit); amounts are exact sums of fen.
    """
    orders, minutes, amount = session.execute(
        select(
            func.count(WorkOrder.id),
            func.coalesce(func.sum(WorkOrder.billable_min), 0),
            func.coalesce(func.sum(WorkOrder.billing_amount), 0),
        ).where(WorkOrder.billing_batch_id == batch.id)
    ).one()
    paid_fen, copay_fen = session.execute(
        select(
            func.coalesce(-func.sum(AllowanceEntry.amount_fen), 0),
            func.coalesce(func.sum(AllowanceEntry.copay_fen), 0),
        ).where(
            AllowanceEntry.work_order_id.in_(
                select(WorkOrder.id).where(WorkOrder.billing_batch_id == batch.id)
            )
        )
    ).one()
    meals, subsidy_fen = session.execute(
        select(func.count(Meal.id), func.coalesce(func.sum(Meal.subsidy_fen), 0)).where(
            Meal.billing_batch_id == batch.id
        )
    ).one()
    batch.orders, batch.minutes, batch.amount = int(orders), int(minutes), Decimal(amount)
    batch.allowance = Decimal(int(paid_fen)) / 100
    batch.copay = Decimal(int(copay_fen)) / 100
    batch.meals, batch.meal_subsidy = int(meals), Decimal(int(subsidy_fen)) / 100
    session.flush()


def recompute(session: Session, actor: Actor, batch_id: int, *, reason: str) -> BillingBatch:
    """Totals of an open batch after an order left it."""
    batch = session.get(BillingBatch, batch_id, with_for_update=True)
    assert batch is not None
    if batch.status == BatchStatus.closed:
        raise _closed(batch)
    before = audit.snapshot(batch)
    _totals(session, batch)
    old, new = audit.changed(before, audit.snapshot(batch))
    if new:
        audit.record(
            session, actor, "billing_batch.recompute", batch, before=old, after=new, reason=reason
        )
    return batch


def close_batch(session: Session, actor: Actor, batch_id: int) -> BillingBatch:
    """Close the batch: its orders become billed and nothing about it changes again."""
    actor.require(*WRITERS)
    batch = get_scoped(session, BillingBatch, batch_id, actor)
    session.refresh(batch, with_for_update=True)
    if batch.status == BatchStatus.closed:
        raise _closed(batch)
    if batch.orders == 0 and batch.meals == 0:
        raise error_codes.BATCH_EMPTY()
    before = audit.snapshot(batch)
    session.execute(
        update(WorkOrder)
        .where(WorkOrder.billing_batch_id == batch.id)
        .values(status=WorkOrderStatus.billed),
        execution_options={"synchronize_session": "fetch"},
    )
    batch.status = BatchStatus.closed
    batch.closed_by, batch.closed_at = actor.user_id, utcnow()
    session.flush()
    old, new = audit.changed(before, audit.snapshot(batch))
    audit.record(session, actor, "billing_batch.close", batch, before=old, after=new)
    return batch


def delete_batch(session: Session, actor: Actor, batch_id: int) -> None:
    """Drop an open batch; its orders are approved and unbatched again."""
    actor.require(*WRITERS)
    batch = get_scoped(session, BillingBatch, batch_id, actor)
    session.refresh(batch, with_for_update=True)
    if batch.status == BatchStatus.closed:
        raise _closed(batch)
    audit.record(session, actor, "billing_batch.delete", batch, before=audit.snapshot(batch))
    session.execute(
        update(WorkOrder)
        .where(WorkOrder.billing_batch_id == batch.id)
        .values(billing_batch_id=None, billing_rate=None, billing_amount=None),
        execution_options={"synchronize_session": "fetch"},
    )
    session.execute(
        update(Meal).where(Meal.billing_batch_id == batch.id).values(billing_batch_id=None),
        execution_options={"synchronize_session": "fetch"},
    )
    session.delete(batch)
    session.flush()


def list_batches(
    session: Session, actor: Actor, filters: Mapping[str, Any], page: int, page_size: int
) -> tuple[list[BillingBatch], int]:
    actor.require(*READERS)
    stmt = scoped(select(BillingBatch), BillingBatch, actor)
    if filters.get("provider_id") is not None:
        stmt = stmt.where(BillingBatch.provider_id == filters["provider_id"])
    if filters.get("status") is not None:
        stmt = stmt.where(BillingBatch.status == filters["status"])
    return page_of(session, stmt.order_by(BillingBatch.id.desc()), page, page_size)


def get_batch(session: Session, actor: Actor, batch_id: int) -> BillingBatch:
    actor.require(*READERS)
    return get_scoped(session, BillingBatch, batch_id, actor)


EXPORT_COLUMNS = [
    "batch_id",
    "provider_code",
    "work_order_id",
    "external_id",
    "source",
    "caregiver_code",
    "caregiver_name",
    "client_code",
    "client_name",
    "service_code",
    "service_name",
    "start",
    "end",
    "minutes",
    "billing_unit",
    "rate",
    "amount",
]


MEAL_COLUMNS = [
    "meal_id",
    "canteen_code",
    "client_code",
    "client_name",
    "served_at",
    "slot",
    "method",
    "price",
    "subsidy",
    "price_paid",
]


def _meal_lines(session: Session, batch: BillingBatch) -> list[list[Any]]:
    zone = config.zone()
    rows = session.execute(
        select(Meal, ServicePoint.code, Client.code, Client.name)
        .join(ServicePoint, ServicePoint.id == Meal.canteen_id)
        .join(Client, Client.id == Meal.client_id)
        .where(Meal.billing_batch_id == batch.id)
        .order_by(Meal.served_at, Meal.id)
    ).all()
    return [
        [
            m.id,
            canteen,
            code,
            name,
            m.served_at.astimezone(zone).isoformat(),
            m.slot.value,
            m.method.value,
            Decimal(m.price_fen) / 100,
            Decimal(m.subsidy_fen) / 100,
            Decimal(m.price_to_pay_fen) / 100,
        ]
        for m, canteen, code, name in rows
    ]


def export_batch(session: Session, actor: Actor, batch_id: int, fmt: str) -> tuple[bytes, str, str]:
    """The batch as CSV (UTF-8 with BOM) or XLSX; no cell can be read as a formula."""
    batch = get_batch(session, actor, batch_id)
    provider = session.get(Provider, batch.provider_id)
    zone = config.zone()
    rows = session.execute(
        select(WorkOrder, Caregiver.code, Caregiver.name, Client.code, Client.name, ServiceType)
        .join(Caregiver, Caregiver.id == WorkOrder.caregiver_id)
        .join(Client, Client.id == WorkOrder.client_id)
        .join(ServiceType, ServiceType.id == WorkOrder.service_type_id)
        .where(WorkOrder.billing_batch_id == batch.id)
        .order_by(WorkOrder.start_at, WorkOrder.id)
    ).all()
    lines = [
        [
            batch.id,
            provider.code if provider else "",
            wo.id,
            wo.external_id or "",
            wo.source.value,
            cg_code,
            cg_name,
            cl_code,
            cl_name,
            st.code,
            st.name,
            wo.start_at.astimezone(zone).isoformat(),
            wo.end_at.astimezone(zone).isoformat(),
            wo.billable_min,
            st.billing_unit.value,
            wo.billing_rate,
            wo.billing_amount,
        ]
        for wo, cg_code, cg_name, cl_code, cl_name, st in rows
    ]
    stem = f"billing-batch-{batch.id}-{batch.period_start:%Y%m%d}-{batch.period_end:%Y%m%d}"
    if fmt == "xlsx":
        summary = [
            ["batch_id", batch.id],
            ["provider", f"{provider.code} {provider.name}" if provider else ""],
            ["period", f"{batch.period_start} .. {batch.period_end}"],
            ["status", batch.status.value],
            ["orders", batch.orders],
            ["minutes", batch.minutes],
            ["hours", Decimal(batch.minutes) / 60],
            ["amount", batch.amount],
            ["rounding", "each order ROUND_HALF_UP to 0.01 CNY; amount = sum of orders"],
            ["funder", batch.funder],
            ["allowance", batch.allowance],
            ["copay", batch.copay],
            ["meals", batch.meals],
            ["meal_subsidy", batch.meal_subsidy],
            ["total", batch.total],
        ]
        content = spreadsheets.xlsx_bytes(
            [
                ("orders", EXPORT_COLUMNS, lines),
                ("meals", MEAL_COLUMNS, _meal_lines(session, batch)),
                ("summary", ["field", "value"], summary),
            ]
        )
        return (
            content,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            f"{stem}.xlsx",
        )
    return spreadsheets.csv_bytes(EXPORT_COLUMNS, lines), "text/csv; charset=utf-8", f"{stem}.csv"


@event.listens_for(Session, "before_flush")
def _closed_batches_never_change(session: Session, _ctx: Any, _instances: Any) -> None:
    """Defence in depth: whatever code path tries it, a closed batch or billed order stays put."""
    for obj in session.dirty:
        if isinstance(obj, BillingBatch):
            state = inspect(obj)
            status = state.attrs.status.history
            was = (status.deleted or status.unchanged or [None])[0]
            if was == BatchStatus.closed and session.is_modified(obj):
                raise _closed(obj)
        elif isinstance(obj, WorkOrder) and session.is_modified(obj):
            status = inspect(obj).attrs.status.history
            was = (status.deleted or status.unchanged or [None])[0]
            if was == WorkOrderStatus.billed:
                raise error_codes.BATCH_CLOSED("billed", id=obj.id)
    for obj in session.deleted:
        if isinstance(obj, BillingBatch) and obj.status == BatchStatus.closed:
            raise _closed(obj)
