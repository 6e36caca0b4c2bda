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

from dataclasses import astuple, dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, select, text
from sqlalchemy.orm import Session

from dispatch import config, error_codes
from dispatch.models import (
    AppealState,
    Client,
    Flag,
    FlagStatus,
    Provider,
    Severity,
    WorkOrder,
    WorkOrderStatus,
)
from dispatch.tenancy import Actor, resolve_provider, scoped


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[from 00:00, the day after to 00:00) in the configured zone; a 422 for a bad period."""
    if end < start:
        raise error_codes.INVALID_PERIOD(errors={"to": ["Must not be before from."]})
    zone = config.zone()
    if end >= date(9999, 12, 31) or start <= date(1, 1, 2):
        raise error_codes.INVALID_PERIOD("out_of_range", errors={"to": ["Out of range."]})
    return (
        datetime.combine(start, time(), zone),
        datetime.combine(end + timedelta(days=1), time(), zone),
    )


@dataclass(frozen=True)
class Counts:
    """The funnel's raw counts for one group of orders; ``figures`` turns them into the report."""

    generated: int = 0
    abnormal: int = 0
    appealed: int = 0
    upheld: int = 0
    billed: int = 0
    billed_min: int = 0
    billed_amount: Decimal = Decimal("0.00")
    elders: int = 0  # distinct clients among the orders

    def __add__(self, other: Counts) -> Counts:
        return Counts(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))

    def figures(self) -> dict[str, Any]:
        return {
            "generated": self.generated,
            "normal": self.generated - self.abnormal,
            "abnormal": self.abnormal,
            "appealed": self.appealed,
            "not_billed": self.abnormal - self.upheld,
            "billed": self.billed,
            "billed_hours": Decimal(self.billed_min) / Decimal(60),
        }


def analytic(session: Session) -> None:
    """Settings for a report over a month of a million orders, for the rest of the transaction
    (PostgreSQL): memory to hash-aggregate instead of sorting on disk, and no JIT, whose
    compilation costs more than it saves on these few-second aggregations."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL work_mem = '64MB'"))
        session.execute(text("SET LOCAL jit = off"))


def scoped_by_client(stmt: Any, model: type[Any], actor: Actor) -> Any:
    """Restrict a select over ``model`` rows (orders, visits) that already joins their
    ``Client`` to the rows the actor may see: a supervisor's area is a rule about the client
    (``dispatch.areas``), applied to the joined client instead of a second lookup; anyone
    else's through ``model`` as always."""
    if actor.role.area_level:
        return scoped(stmt, Client, actor)
    return scoped(stmt, model, actor)


def funnel_counts(
    session: Session,
    actor: Actor,
    lo: datetime,
    hi: datetime,
    group_by: str,
    *,
    provider_id: int | None = None,
) -> dict[Any, Counts]:
    """The funnel's counts of the orders the actor may see that start in [lo, hi), by
    ``group_by``: "provider" (the order's provider id) or "street" (its elder's street),
    optionally one provider's only.

    The one place the funnel's numbers are defined: the funnel groups by provider, the
    supervision figures by street or provider, and their totals agree by construction.
    For a month of a million orders: the orders are summed per elder (one hash aggregation,
    no join), the few held ones (a block or review flag open or overridden) separately from
    the flags, and only the per-elder sums meet the elders for the street and the area.
    """
    by = [WorkOrder.client_id]
    if group_by == "provider":
        by.append(WorkOrder.provider_id)

    def orders(stmt: Any) -> Any:
        stmt = stmt.where(WorkOrder.start_at >= lo, WorkOrder.start_at < hi).group_by(*by)
        if not actor.role.area_level:  # the area is a rule about the elder, applied below
            stmt = scoped(stmt, WorkOrder, actor)
        if provider_id is not None:
            stmt = stmt.where(WorkOrder.provider_id == provider_id)
        return stmt.subquery()

    is_billed = WorkOrder.status == WorkOrderStatus.billed
    main = orders(
        select(
            *by,
            func.count().label("gen"),
            func.sum(case((is_billed, 1), else_=0)).label("bil"),
            func.sum(case((is_billed, WorkOrder.billable_min), else_=0)).label("mins"),
            func.sum(case((is_billed, WorkOrder.billing_amount), else_=0)).label("amount"),
        )
    )
    held_ids = (
        select(Flag.work_order_id)
        .where(
            Flag.severity.in_((Severity.block, Severity.review)),
            Flag.status.in_((FlagStatus.open, FlagStatus.overridden)),
        )
        .distinct()
        .subquery()
    )
    held = orders(
        select(
            *by,
            func.count().label("abn"),
            func.sum(case((WorkOrder.appeal_state != AppealState.none, 1), else_=0)).label("app"),
            func.sum(case((WorkOrder.appeal_state == AppealState.upheld, 1), else_=0)).label("up"),
        ).join(held_ids, held_ids.c.work_order_id == WorkOrder.id)
    )

    def per_key(sub: Any, *sums: str) -> dict[Any, tuple[Any, ...]]:
        key = sub.c.provider_id if group_by == "provider" else Client.street
        stmt = (
            select(key, *(func.sum(sub.c[name]) for name in sums), func.count())
            .select_from(sub)
            .join(Client, Client.id == sub.c.client_id)
            .group_by(key)
        )
        if actor.role.area_level:
            stmt = scoped(stmt, Client, actor)
        return {row[0]: row[1:] for row in session.execute(stmt)}

    out = {}
    holding = per_key(held, "abn", "app", "up")
    totals = per_key(main, "gen", "bil", "mins", "amount")
    for k, (gen, bil, mins, amount, elders) in totals.items():
        abn, app, up, _ = holding.get(k, (0, 0, 0, 0))
        out[k] = Counts(
            int(gen),
            int(abn or 0),
            int(app or 0),
            int(up or 0),
            int(bil or 0),
            int(mins or 0),
            Decimal(amount or 0).quantize(Decimal("0.01")),
            int(elders),
        )
    return out


def funnel(
    session: Session, actor: Actor, start: date, end: date, provider_id: int | None = None
) -> dict[str, Any]:
    """The funnel over [from, to] (local dates, both included), in total and per provider.

    A provider sees its own, finance and admin every provider (or the one named), a supervisor
    the orders of the elders inside its area (``dispatch.areas``)."""
    lo, hi = period_bounds(start, end)
    analytic(session)
    if not (actor.platform_level or actor.role.area_level) or (
        provider_id is not None and not actor.role.area_level
    ):
        provider_id = resolve_provider(actor, provider_id)
    counts = funnel_counts(session, actor, lo, hi, "provider", provider_id=provider_id)
    names = dict(session.execute(select(Provider.id, Provider.name)).all())
    rows = [
        c.figures() | {"provider_id": pid, "provider_name": names.get(pid)}
        for pid, c in sorted(counts.items())
    ]
    total = sum(counts.values(), Counts())
    return {
        **total.figures(),
        "billed_minutes": total.billed_min,
        "from": start,
        "to": end,
        "provider_id": provider_id,
        "by_provider": rows,
    }
