"""Call-backs (回访): a seeded, stratified sample of a period's work orders that a caller checks
with the elder; "did not take place" blocks the order's approval through the rules engine.

The contract:
- *eligible*: the work orders the actor may see that start in the period and that finance has
  not decided yet (submitted, flagged, verified: a call-back exists to stop a payment, and the
  engine freezes decided orders);
- *stratified*: each provider is a stratum; from each, ``count`` orders (or all it has), or
  ``ceil(share × its orders)``, are drawn;
- *reproducible*: each stratum's draw is ``random.Random(f"{seed}:{provider_id}")`` sampling the
  stratum's order ids in ascending order, so the same seed over the same orders draws the same
  sample, whatever the other providers hold; drawing again adds nothing already sampled;
- an answer with ``took_place = "no"`` (the elder reached) makes ``CALLBACK_DENIED`` (block)
  hold on the order (``dispatch.rules.per_order``): finance cannot approve it without overriding
  the flag with a reason. Answering again (a correction) re-evaluates the order.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import audit, error_codes
from dispatch.db import utcnow
from dispatch.models import (
    Callback,
    CallbackStatus,
    Client,
    Role,
    TookPlace,
    WorkOrder,
    WorkOrderStatus,
)
from dispatch.services.pages import page_of
from dispatch.services.reports import period_bounds
from dispatch.tenancy import Actor, scoped
from dispatch.validation.engine import validate_orders

# The bureau samples and calls; finance and providers read the outcome.
CALLERS = (Role.supervisor, Role.admin)
READERS = (Role.supervisor, Role.admin, Role.finance, Role.provider_admin, Role.dispatcher)
UNDECIDED = (WorkOrderStatus.submitted, WorkOrderStatus.flagged, WorkOrderStatus.verified)
MAX_DAYS = 400


def draw(order_ids: list[int], seed: int, stratum: int, *, count: int | None, share: float | None):
    """The stratum's sample: the same ids, seed and stratum always give the same draw."""
    ids = sorted(order_ids)
    k = min(len(ids), count) if count is not None else math.ceil(len(ids) * (share or 0.0))
    return sorted(random.Random(f"{seed}:{stratum}").sample(ids, k))


def sample(
    session: Session,
    actor: Actor,
    start: date,
    end: date,
    seed: int,
    *,
    count: int | None = None,
    share: float | None = None,
    provider_id: int | None = None,
) -> dict[str, Any]:
    """Draw the period's call-back queue, per provider; answers what was created."""
    actor.require(*CALLERS)
    if (count is None) == (share is None):
        raise error_codes.SAMPLE_SIZE_REQUIRED(errors={"count": ["Give count or share, not both."]})
    lo, hi = period_bounds(start, end)
    if (end - start).days >= MAX_DAYS:
        raise error_codes.PERIOD_TOO_LONG(
            "report", days=MAX_DAYS, errors={"to": [f"At most {MAX_DAYS} days after from."]}
        )
    stmt = scoped(
        select(WorkOrder.provider_id, WorkOrder.id, WorkOrder.client_id).where(
            WorkOrder.start_at >= lo,
            WorkOrder.start_at < hi,
            WorkOrder.status.in_(UNDECIDED),
        ),
        WorkOrder,
        actor,
    )
    if provider_id is not None:
        stmt = stmt.where(WorkOrder.provider_id == provider_id)
    strata: dict[int, list[int]] = {}
    clients: dict[int, int] = {}
    for pid, oid, cid in session.execute(stmt):
        strata.setdefault(pid, []).append(oid)
        clients[oid] = cid
    chosen = {
        pid: draw(ids, seed, pid, count=count, share=share) for pid, ids in sorted(strata.items())
    }
    wanted = [oid for ids in chosen.values() for oid in ids]
    taken = set()
    for i in range(0, len(wanted), 5000):
        taken.update(
            session.scalars(
                select(Callback.work_order_id).where(
                    Callback.work_order_id.in_(wanted[i : i + 5000])
                )
            )
        )
    created = []
    per_provider = []
    for pid, ids in chosen.items():
        new = [oid for oid in ids if oid not in taken]
        for oid in new:
            created.append(
                Callback(
                    work_order_id=oid,
                    provider_id=pid,
                    client_id=clients[oid],
                    period_from=start,
                    period_to=end,
                    seed=seed,
                    sampled_by=actor.user_id,
                )
            )
        per_provider.append(
            {
                "provider_id": pid,
                "eligible": len(strata[pid]),
                "sampled": len(ids),
                "created": len(new),
            }
        )
    session.add_all(created)
    session.flush()
    audit.record(
        session,
        actor,
        "callbacks.sample",
        entity_type="callbacks",
        after={
            "from": start.isoformat(),
            "to": end.isoformat(),
            "seed": seed,
            "count": count,
            "share": share,
            "created": len(created),
        },
    )
    return {
        "created": len(created),
        "seed": seed,
        "from": start,
        "to": end,
        "by_provider": per_provider,
        "work_order_ids": sorted(wanted),
    }


FILTERS: Mapping[str, Any] = {
    "status": lambda v: Callback.status == v,
    "provider_id": lambda v: Callback.provider_id == v,
    "took_place": lambda v: Callback.took_place == v,
    "work_order_id": lambda v: Callback.work_order_id == v,
}


def list_callbacks(
    session: Session, actor: Actor, filters: Mapping[str, Any], page: int, page_size: int
) -> tuple[list[dict[str, Any]], int]:
    """The call-backs the actor may see, with the work order and the elder's phone."""
    actor.require(*READERS)
    stmt = scoped(select(Callback), Callback, actor)
    for name, value in filters.items():
        if value is not None and name in FILTERS:
            stmt = stmt.where(FILTERS[name](value))
    rows, total = page_of(session, stmt.order_by(Callback.id), page, page_size)
    return [_described(session, cb) for cb in rows], total


def _described(session: Session, cb: Callback) -> dict[str, Any]:
    order = session.get(WorkOrder, cb.work_order_id)
    client = session.get(Client, cb.client_id)
    assert order is not None and client is not None
    return {
        "callback": cb,
        "work_order": order,
        "client": {
            "id": client.id,
            "code": client.code,
            "name": client.name,
            "phone": client.phone,
            "street": client.street,
            "provider_id": client.provider_id,
            "address": client.address,
        },
    }


def get_callback(session: Session, actor: Actor, ident: int) -> Callback:
    stmt = scoped(select(Callback).where(Callback.id == ident), Callback, actor)
    cb = session.scalars(stmt).one_or_none()
    if cb is None:
        raise error_codes.CALLBACK_NOT_FOUND(id=ident)
    return cb


def answer(session: Session, actor: Actor, ident: int, data: dict[str, Any]) -> dict[str, Any]:
    """Record what the elder said; "no" opens CALLBACK_DENIED on the order (block)."""
    actor.require(*CALLERS)
    cb = get_callback(session, actor, ident)
    order = session.get(WorkOrder, cb.work_order_id, with_for_update=True)
    assert order is not None
    if order.status not in UNDECIDED:
        raise error_codes.CALLBACK_ORDER_DECIDED(id=order.id, status=order.status.value)
    reached = bool(data["reached"])
    took = TookPlace(data.get("took_place") or TookPlace.unsure)
    stars = data.get("satisfaction")
    if not reached and (took != TookPlace.unsure or stars is not None):
        raise error_codes.CALLBACK_NOT_REACHED(
            errors={"took_place": ["Must be unsure when reached is false."]}
        )
    before = audit.snapshot(cb)
    cb.status = CallbackStatus.answered
    cb.reached = reached
    cb.took_place = took
    cb.satisfaction = stars
    cb.note = data.get("note")
    cb.answered_by = actor.user_id
    cb.answered_at = utcnow()
    session.flush()
    old, new = audit.changed(before, audit.snapshot(cb))
    audit.record(session, actor, "callbacks.answer", cb, before=old, after=new)
    validate_orders(session, [order.id], actor)
    session.refresh(order)
    return _described(session, cb)
