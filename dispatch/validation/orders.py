"""Work orders as the rules see them: the columns read, the selects, a row to ``OrderData``.

Every loader of the package reads orders through ``ORDER_COLUMNS`` + ``person()`` and turns a
row into ``OrderData`` with ``order_data``, so the incremental and the batch paths see an order
alike. Also here: which statuses the rules may change, and the windows around an order.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import String, bindparam, cast, func, select
from sqlalchemy.dialects.postgresql import ARRAY, BIGINT
from sqlalchemy.orm import Session

from dispatch import config
from dispatch.models import Caregiver, FlagStatus, Severity, WorkOrder, WorkOrderStatus
from dispatch.rules.data import OrderData

# The rules judge, flag and verify only these; approved, rejected and billed orders are frozen.
OPEN_STATUSES = (WorkOrderStatus.submitted, WorkOrderStatus.flagged, WorkOrderStatus.verified)
FROZEN_STATUSES = (WorkOrderStatus.approved, WorkOrderStatus.rejected, WorkOrderStatus.billed)
# Open flags of these severities hold an order at ``flagged``.
HOLDING = (Severity.block, Severity.review)
OPEN_FLAG = FlagStatus.open
# Neighbours that can matter to an order: overlaps and travel gaps within a day, the local day.
WINDOW = timedelta(hours=36)

ORDER_COLUMNS = (
    WorkOrder.id,  # 0
    WorkOrder.provider_id,
    WorkOrder.client_id,
    WorkOrder.caregiver_id,
    WorkOrder.service_type_id,
    WorkOrder.visit_id,  # 5
    WorkOrder.source,
    WorkOrder.start_at,
    WorkOrder.end_at,
    WorkOrder.billable_min,
    WorkOrder.status,  # 10
)  # and person() as 11: read as ``order_data(row)``


def text_of(value: Any) -> str:
    """An enum column's value as the plain string the rules compare."""
    return str(getattr(value, "value", value))


def person() -> Any:
    """The same human across providers: the caregiver's person hash, else ``cg:<id>``."""
    return func.coalesce(Caregiver.person_hash, "cg:" + cast(Caregiver.id, String))


def order_select() -> Any:
    """``ORDER_COLUMNS`` and ``person()`` of work orders, for ``order_data``."""
    return select(*ORDER_COLUMNS, person()).join(Caregiver, Caregiver.id == WorkOrder.caregiver_id)


def order_data(row: Any) -> OrderData:
    """A row that starts with ``ORDER_COLUMNS`` and ``person()``."""
    return OrderData(
        id=row[0],
        provider_id=row[1],
        client_id=row[2],
        caregiver_id=row[3],
        service_type_id=row[4],
        visit_id=row[5],
        source=text_of(row[6]),
        start_at=row[7],
        end_at=row[8],
        billable_min=row[9],
        status=text_of(row[10]),
        person=row[11],
    )


def among(session: Session, column: Any, values: Iterable[Any]) -> Any:
    """``column IN values``; on PostgreSQL an integer list is one array parameter (``= ANY``),
    so that the statement's text does not grow with the list."""
    values = list(values)
    if session.get_bind().dialect.name == "postgresql" and values and isinstance(values[0], int):
        return column == func.any(bindparam(None, values, type_=ARRAY(BIGINT)))
    return column.in_(values)


def load_orders(session: Session, ids: Iterable[int]) -> dict[int, OrderData]:
    """The given work orders, by id (missing ids are left out)."""
    ids = sorted(set(ids))
    if not ids:
        return {}
    return {
        r[0]: order_data(r)
        for r in session.execute(order_select().where(among(session, WorkOrder.id, ids)))
    }


def month_bounds(at: datetime) -> tuple[str, datetime, datetime]:
    """The local month (``config.zone``) of an instant: ``("2026-11", start, end)``, in UTC."""
    local = at.astimezone(config.zone())
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    nxt = (start + timedelta(days=32)).replace(day=1)
    return start.strftime("%Y-%m"), start.astimezone(UTC), nxt.astimezone(UTC)
