"""Finance decisions on work orders: approve (overriding flags with a reason), reject, bulk."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from dispatch import audit, error_codes
from dispatch.db import utcnow
from dispatch.errors import Code, DomainError
from dispatch.models import (
    AppealState,
    Client,
    Flag,
    FlagStatus,
    Role,
    WorkOrder,
    WorkOrderStatus,
)
from dispatch.services import billing, entitlements, ledger
from dispatch.services.pages import filtered
from dispatch.services.work_orders import (
    FILTERS,
    ensure_changeable,
    load,
    open_blocking_flags,
    override_flag,
)
from dispatch.tenancy import Actor, scoped

DECIDERS = (Role.finance,)
BULK_LIMIT = 10_000


class Refusal(Exception):
    """Why one order cannot be approved; a 409 alone, a line of the report in bulk."""

    def __init__(self, entry: Code, details: Any = None, **params: Any) -> None:
        self.entry, self.params, self.details = entry, params, details
        self.code = entry.code
        self.message, self.message_zh = entry.texts(**params)
        super().__init__(self.message)

    def conflict(self) -> DomainError:
        errors = {"flags": self.details} if self.details else None
        return self.entry(**self.params, errors=errors)


def _reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise error_codes.REASON_REQUIRED(errors={"reason": ["Missing data for required field."]})
    return text


def _approval_refusal(
    order: WorkOrder,
    override_ids: set[int],
    month_used: int | None,
    limit: int | None,
    accept_over_entitlement: bool,
) -> Refusal | None:
    if order.appeal_state == AppealState.open:
        return Refusal(error_codes.APPEAL_OPEN, id=order.id)
    if order.status == WorkOrderStatus.submitted:
        return Refusal(error_codes.NOT_VALIDATED, id=order.id)
    if order.status == WorkOrderStatus.approved:
        return Refusal(error_codes.ALREADY_APPROVED, id=order.id)
    remaining = [f for f in open_blocking_flags(order) if f.id not in override_ids]
    if remaining:
        return Refusal(
            error_codes.FLAGS_OPEN,
            [{"id": f.id, "code": f.code, "severity": f.severity.value} for f in remaining],
            id=order.id,
            flags=", ".join(f"{f.id} {f.code} {f.severity.value}" for f in remaining),
        )
    if (
        limit is not None
        and month_used is not None
        and month_used + order.billable_min > limit
        and not accept_over_entitlement
    ):
        return Refusal(
            error_codes.OVER_ENTITLEMENT,
            id=order.id,
            minutes=month_used + order.billable_min,
            limit=limit,
        )
    return None


def _approve(
    session: Session, actor: Actor, order: WorkOrder, reason: str, overrides: Iterable[Flag]
) -> None:
    now = utcnow()
    for flag in overrides:
        override_flag(session, actor, flag, reason, order.provider_id, now)
    before = audit.snapshot(order)
    order.status = WorkOrderStatus.approved
    order.decided_by, order.decided_at, order.decision_reason = actor.user_id, now, reason
    session.flush()
    ledger.debit_order(session, actor, order, now)
    old, new = audit.changed(before, audit.snapshot(order))
    audit.record(session, actor, "work_order.approve", order, before=old, after=new, reason=reason)


def decide(
    session: Session,
    actor: Actor,
    order_id: int,
    decision: str,
    reason: str | None,
    override_flags: Iterable[int] = (),
    accept_over_entitlement: bool = False,
) -> WorkOrder:
    """Approve or reject one order; approval needs every open block/review flag overridden."""
    actor.require(*DECIDERS)
    reason = _reason(reason)
    order = load(session, actor, order_id, lock=True)
    ensure_changeable(session, order)
    session.refresh(order, ["flags"])
    override_ids = set(override_flags)
    if decision == "reject":
        if order.appeal_state == AppealState.open:
            raise error_codes.APPEAL_OPEN(id=order.id)
        if override_ids:
            raise error_codes.OVERRIDE_ONLY_ON_APPROVAL(
                errors={"override_flags": ["Leave empty when rejecting."]}
            )
        if order.status == WorkOrderStatus.rejected:
            raise error_codes.ALREADY_REJECTED(id=order.id)
        before = audit.snapshot(order)
        batch_id = order.billing_batch_id
        if order.status == WorkOrderStatus.approved:
            ledger.reverse_order(session, actor, order)
        order.status = WorkOrderStatus.rejected
        order.decided_by, order.decided_at, order.decision_reason = actor.user_id, utcnow(), reason
        order.billing_batch_id = order.billing_rate = order.billing_amount = None
        session.flush()
        if batch_id is not None:
            billing.recompute(session, actor, batch_id, reason=f"order {order.id} rejected")
        old, new = audit.changed(before, audit.snapshot(order))
        audit.record(
            session, actor, "work_order.reject", order, before=old, after=new, reason=reason
        )
        return order
    flags_by_id = {f.id: f for f in order.flags}
    strangers = sorted(i for i in override_ids if i not in flags_by_id)
    not_open = sorted(
        i for i in override_ids if i in flags_by_id and flags_by_id[i].status != FlagStatus.open
    )
    if strangers or not_open:
        raise error_codes.UNKNOWN_FLAGS(
            errors={
                "override_flags": [f"Flag {i} is not on work order {order.id}." for i in strangers]
                + [f"Flag {i} is not open." for i in not_open]
            },
        )
    client = session.get(Client, order.client_id)
    limit = client.monthly_entitlement_min if client else None
    used = None
    if limit is not None:
        used, _ = entitlements.used_minutes(
            session, order.client_id, entitlements.month_of(order.start_at), order.id
        )
    refusal = _approval_refusal(order, override_ids, used, limit, accept_over_entitlement)
    if refusal is not None:
        raise refusal.conflict()
    _approve(session, actor, order, reason, [flags_by_id[i] for i in sorted(override_ids)])
    return order


def bulk_approve(
    session: Session,
    actor: Actor,
    ids: list[int] | None,
    filters: Mapping[str, Any] | None,
    reason: str | None,
) -> dict[str, Any]:
    """Approve the verified orders among ``ids`` (or matching ``filters``); report the rest."""
    actor.require(*DECIDERS)
    reason = (reason or "").strip() or "bulk approval of verified orders"
    if (ids is None) == (filters is None):
        raise error_codes.IDS_OR_FILTER(errors={"ids": ["Give ids or filter, not both."]})
    stmt = scoped(select(WorkOrder), WorkOrder, actor).options(selectinload(WorkOrder.flags))
    if ids is not None:
        if len(ids) > BULK_LIMIT:
            raise error_codes.TOO_MANY_IDS(n=BULK_LIMIT)
        stmt = stmt.where(WorkOrder.id.in_(ids))
    else:
        stmt = stmt.where(WorkOrder.status == WorkOrderStatus.verified)
        stmt = filtered(stmt, filters or {}, FILTERS)
    orders = list(
        session.scalars(stmt.order_by(WorkOrder.start_at, WorkOrder.id).limit(BULK_LIMIT + 1))
    )
    more = len(orders) > BULK_LIMIT
    orders = orders[:BULK_LIMIT]
    found = {o.id for o in orders}
    refused: list[dict[str, Any]] = [
        {"id": i, "code": "WORK_ORDER_NOT_FOUND", "reason": f"No work order with id {i}."}
        for i in (ids or [])
        if i not in found
    ]
    usage: dict[tuple[int, date], int] = {}
    limits = dict(
        session.execute(
            select(Client.id, Client.monthly_entitlement_min).where(
                Client.id.in_({o.client_id for o in orders})
            )
        ).all()
    )
    approved: list[int] = []
    for order in orders:
        key = (order.client_id, entitlements.month_of(order.start_at))
        limit = limits.get(order.client_id)
        if limit is not None and key not in usage:
            usage[key] = entitlements.used_minutes(session, key[0], key[1])[0]
        refusal: Refusal | None
        if order.status in (
            WorkOrderStatus.billed,
            WorkOrderStatus.rejected,
            WorkOrderStatus.flagged,
        ):
            refusal = Refusal(error_codes.NOT_VERIFIED, id=order.id, status=order.status.value)
        else:
            refusal = _approval_refusal(order, set(), usage.get(key), limit, False)
        if refusal is not None:
            refused.append({"id": order.id, "code": refusal.code, "reason": refusal.message})
            continue
        _approve(session, actor, order, reason, [])
        if limit is not None:
            usage[key] += order.billable_min
        approved.append(order.id)
    return {
        "approved": approved,
        "refused": sorted(refused, key=lambda r: r["id"]),
        "more": more,
    }
