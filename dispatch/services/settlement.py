"""What a visit's events make of it: its status and outcome, and a work order per caregiver.

``settle_visit`` is a pure function of the stored events (any order of arrival reaches the same
state); each new work order is validated at once without ever losing the check-out that made it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import audit
from dispatch.models import (
    Caregiver,
    Client,
    EventKind,
    Visit,
    VisitEvent,
    VisitOutcome,
    VisitStatus,
    WorkOrder,
    WorkOrderSource,
)
from dispatch.services import billable
from dispatch.tenancy import Actor
from dispatch.validation.engine import validate_orders

log = logging.getLogger(__name__)


def order_id_of(session: Session, visit_id: int, caregiver_id: int) -> int | None:
    """The work order of this visit and caregiver, if the check-out made one."""
    return session.scalar(
        select(WorkOrder.id).where(
            WorkOrder.visit_id == visit_id, WorkOrder.caregiver_id == caregiver_id
        )
    )


def settle_visit(
    session: Session, actor: Actor, visit: Visit, events: Sequence[VisitEvent] | None = None
) -> dict[int, WorkOrder]:
    """Derive the visit's status, outcome and work orders from the set of its events
    (``events``: all of them as the caller holds them under the visit's lock; else read here).

    A pure function of the stored events, so any order of arrival reaches the same state.
    Answers the work orders created now, by caregiver.
    """
    if events is None:
        events = list(session.scalars(select(VisitEvent).where(VisitEvent.visit_id == visit.id)))
    by_caregiver: dict[int, dict[EventKind, VisitEvent]] = defaultdict(dict)
    for e in events:
        by_caregiver[e.caregiver_id][e.kind] = e
    before = audit.snapshot(visit)
    if events:
        assigned = {a.caregiver_id for a in visit.assignments} | set(by_caregiver)
        closed = all(len(by_caregiver[c]) == 2 for c in assigned)
        visit.status = VisitStatus.completed if closed else VisitStatus.in_progress
        outs = sorted(
            (e for e in events if e.kind == EventKind.check_out),
            key=lambda e: (e.device_time_at, e.caregiver_id),
        )
        if outs:
            outcomes = [VisitOutcome(e.outcome or VisitOutcome.completed) for e in outs]
            visit.outcome = (
                VisitOutcome.completed if VisitOutcome.completed in outcomes else outcomes[-1]
            )
    old, new = audit.changed(before, audit.snapshot(visit))
    if new:
        # The visit has its id already: its UPDATE goes out with the next flush.
        audit.record(session, actor, "update", visit, before=old, after=new)

    created: dict[int, WorkOrder] = {}
    for caregiver_id, mine in by_caregiver.items():
        check_in, check_out = mine.get(EventKind.check_in), mine.get(EventKind.check_out)
        if check_in is None or check_out is None:
            continue
        if (check_out.outcome or VisitOutcome.completed) != VisitOutcome.completed:
            continue  # client absent or refused: recorded on the visit, nothing to bill
        if order_id_of(session, visit.id, caregiver_id) is not None:
            continue
        order = WorkOrder(
            provider_id=visit.provider_id,
            client_id=visit.client_id,
            caregiver_id=caregiver_id,
            service_type_id=visit.service_type_id,
            visit_id=visit.id,
            source=WorkOrderSource.app,
            start_at=check_in.device_time_at,
            end_at=check_out.device_time_at,
            billable_min=billable.billable_minutes(
                check_in.device_time_at,
                check_out.device_time_at,
                visit.duration_min,
                billable.cap_factor(session),
            ),
        )
        session.add(order)
        session.flush()
        audit.record(session, actor, "create", order, after=audit.snapshot(order))
        _validate_new(session, order)
        created[caregiver_id] = order
    return created


def _validate_new(session: Session, order: WorkOrder) -> None:
    """Run the rules on a new order without ever losing the check-out that made it.

    Pair rules (OVERLAP, DUPLICATE, IMPOSSIBLE_TRAVEL) read and flag the caregiver's and the
    client's other orders; two check-outs validating at once would each miss the other's order
    and race on the same flags. Locking the caregiver, then the client (always in this order,
    after the visit) serialises exactly those. FOR NO KEY UPDATE, because the foreign keys of
    the rows just inserted hold KEY SHARE locks on the same rows: FOR UPDATE would deadlock.
    Should the rules still fail, the order stays ``submitted`` for the batch run and the error
    is logged: the evidence is kept either way.
    """
    session.execute(
        select(Caregiver.id)
        .where(Caregiver.id == order.caregiver_id)
        .with_for_update(key_share=True)
    )
    session.execute(
        select(Client.id).where(Client.id == order.client_id).with_for_update(key_share=True)
    )
    try:
        with session.begin_nested():
            validate_orders(session, [order.id])
    except Exception:
        log.exception("validating work order %s failed; left for the batch run", order.id)
