"""Work orders for providers and finance: listing with flags, one order, its whole history."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, selectinload

from dispatch import audit, error_codes
from dispatch.models import (
    Appeal,
    AuditEntry,
    BatchStatus,
    BillingBatch,
    Flag,
    FlagStatus,
    Role,
    Severity,
    WorkOrder,
    WorkOrderStatus,
)
from dispatch.services import entitlements
from dispatch.services.pages import filtered, page_of
from dispatch.tenancy import Actor, scoped

READ_ROLES = (Role.dispatcher, Role.provider_admin, Role.finance, Role.admin, Role.supervisor)
BLOCKING = (Severity.block, Severity.review)


def _bounds(value: date, end: bool = False) -> Any:
    return entitlements.local_midnight(value, next_day=end)


FILTERS: Mapping[str, Any] = {
    "status": lambda v: WorkOrder.status == v,
    "source": lambda v: WorkOrder.source == v,
    "appeal_state": lambda v: WorkOrder.appeal_state == v,
    "caregiver_id": lambda v: WorkOrder.caregiver_id == v,
    "client_id": lambda v: WorkOrder.client_id == v,
    "provider_id": lambda v: WorkOrder.provider_id == v,
    "upload_id": lambda v: WorkOrder.upload_id == v,
    "billing_batch_id": lambda v: WorkOrder.billing_batch_id == v,
    "from_": lambda v: WorkOrder.start_at >= _bounds(v),
    "to": lambda v: WorkOrder.start_at < _bounds(v, end=True),
    "flag_code": lambda v: WorkOrder.flags.any(Flag.code == v),
    "open_flags": lambda v: (
        WorkOrder.flags.any(and_(Flag.status == FlagStatus.open, Flag.severity.in_(BLOCKING)))
        if v
        else ~WorkOrder.flags.any(and_(Flag.status == FlagStatus.open, Flag.severity.in_(BLOCKING)))
    ),
}


def list_orders(
    session: Session, actor: Actor, filters: Mapping[str, Any], page: int, page_size: int
) -> tuple[list[WorkOrder], int]:
    """Orders the actor may see, newest visit first, each with its flags and appeals."""
    actor.require(*READ_ROLES)
    stmt = scoped(select(WorkOrder), WorkOrder, actor)
    stmt = filtered(stmt, filters, FILTERS)
    stmt = stmt.options(selectinload(WorkOrder.flags), selectinload(WorkOrder.appeals)).order_by(
        WorkOrder.start_at.desc(), WorkOrder.id.desc()
    )
    return page_of(session, stmt, page, page_size)


def load(session: Session, actor: Actor, ident: int, *, lock: bool = False) -> WorkOrder:
    """One order the actor may see (another provider's is a 404); ``lock`` takes a row lock."""
    stmt = scoped(select(WorkOrder).where(WorkOrder.id == ident), WorkOrder, actor)
    if lock:
        stmt = stmt.with_for_update()
    order = session.scalars(stmt).one_or_none()
    if order is None:
        raise error_codes.WORK_ORDER_NOT_FOUND(id=ident)
    return order


def get_order(session: Session, actor: Actor, ident: int) -> WorkOrder:
    """One order with flags, appeals and what approving it would do to the entitlement."""
    actor.require(*READ_ROLES)
    order = load(session, actor, ident)
    order.entitlement = entitlements.for_order(session, order)  # type: ignore[attr-defined]
    return order


def open_blocking_flags(order: WorkOrder) -> list[Flag]:
    return [f for f in order.flags if f.status == FlagStatus.open and f.severity in BLOCKING]


def override_flag(
    session: Session, actor: Actor, flag: Flag, reason: str, provider_id: int, now: datetime
) -> None:
    """Finance accepts an order despite ``flag``, with a written reason; audited."""
    before = audit.snapshot(flag)
    flag.status = FlagStatus.overridden
    flag.resolved_by, flag.resolved_at, flag.resolution = actor.user_id, now, reason
    session.flush()
    old, new = audit.changed(before, audit.snapshot(flag))
    audit.record(
        session,
        actor,
        "flag.override",
        flag,
        before=old,
        after=new,
        reason=reason,
        provider_id=provider_id,
    )


def ensure_changeable(session: Session, order: WorkOrder) -> None:
    """Billed orders and orders of a closed batch never change (409)."""
    batch = session.get(BillingBatch, order.billing_batch_id) if order.billing_batch_id else None
    if order.status == WorkOrderStatus.billed or (
        batch is not None and batch.status == BatchStatus.closed
    ):
        raise error_codes.BATCH_CLOSED("order", id=order.id, batch=order.billing_batch_id)


def history(session: Session, actor: Actor, ident: int) -> list[AuditEntry]:
    """Every audit entry about the order, its flags, appeals, upload and billing batch."""
    actor.require(Role.provider_admin, Role.dispatcher, Role.finance, Role.admin)
    order = load(session, actor, ident)
    flag_ids = list(session.scalars(select(Flag.id).where(Flag.work_order_id == order.id)))
    appeal_ids = list(session.scalars(select(Appeal.id).where(Appeal.work_order_id == order.id)))
    about = [and_(AuditEntry.entity_type == "work_orders", AuditEntry.entity_id == order.id)]
    if flag_ids:
        about.append(and_(AuditEntry.entity_type == "flags", AuditEntry.entity_id.in_(flag_ids)))
    if appeal_ids:
        about.append(
            and_(AuditEntry.entity_type == "appeals", AuditEntry.entity_id.in_(appeal_ids))
        )
    if order.upload_id:
        about.append(
            and_(
                AuditEntry.entity_type == "timesheet_uploads",
                AuditEntry.entity_id == order.upload_id,
            )
        )
    if order.billing_batch_id:
        about.append(
            and_(
                AuditEntry.entity_type == "billing_batches",
                AuditEntry.entity_id == order.billing_batch_id,
            )
        )
    stmt = select(AuditEntry).where(or_(*about)).order_by(AuditEntry.at, AuditEntry.id)
    return list(session.scalars(stmt))


AUDIT_FILTERS: Mapping[str, Any] = {
    "entity_type": lambda v: AuditEntry.entity_type == v,
    "entity_id": lambda v: AuditEntry.entity_id == v,
    "action": lambda v: AuditEntry.action == v,
    "actor_user_id": lambda v: AuditEntry.actor_user_id == v,
    "provider_id": lambda v: AuditEntry.provider_id == v,
    "from_": lambda v: AuditEntry.at >= _bounds(v),
    "to": lambda v: AuditEntry.at < _bounds(v, end=True),
}


def audit_log(
    session: Session, actor: Actor, filters: Mapping[str, Any], page: int, page_size: int
) -> tuple[list[AuditEntry], int]:
    """The audit log, newest first; provider admins see only their provider's entries."""
    actor.require(Role.provider_admin, Role.finance, Role.admin)
    stmt = scoped(select(AuditEntry), AuditEntry, actor)
    stmt = filtered(stmt, filters, AUDIT_FILTERS)
    return page_of(session, stmt.order_by(AuditEntry.id.desc()), page, page_size)
