"""A call's way to a caregiver: propose (urgent insertion), dispatch, escalate, close.

- ``make_visit``: the call's urgent visit (service ``CALL`` 助急, from now until the response
  window ends, today), made when the call opens so that urgent insertion can place it.
- ``propose``: the rq job's body: urgent insertion (``dispatch.services.urgent``, the router's
  own ``insert_urgent``) into the day's active plan, for the caregivers working now.
- ``dispatch``: the dispatcher confirms the proposal or picks another caregiver; insertion is
  asked again (the day moved on since the proposal) and the visit goes into that caregiver's
  published route, so it shows in their app (``/me/visits``) at once.
- ``on_visit_event``: the caregiver's check-in at that visit answers the call (call-to-arrival
  is the check-in's device time), the check-out closes it. Called by the EVV service.
- ``escalate`` by hand, ``escalate_overdue`` by the clock (``dispatch.call_clock``), ``close``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from dispatch import audit, config, error_codes
from dispatch.db import utcnow
from dispatch.errors import DomainError
from dispatch.models import (
    Call,
    CallStatus,
    Caregiver,
    DayPlan,
    EscalationTarget,
    EventKind,
    NotificationKind,
    PlanStatus,
    Role,
    ServiceType,
    Visit,
    VisitAssignment,
    VisitEvent,
    VisitStatus,
)
from dispatch.services import notifications, proposals, urgent, visits
from dispatch.services import problem as P
from dispatch.tenancy import SYSTEM, Actor, get_scoped

log = logging.getLogger(__name__)

CALL_SERVICE = "CALL"  # 助急: the catalogue's emergency response
# The urgent visit's window: a caregiver should be there within this long of the call.
RESPONSE_WINDOW = timedelta(hours=2)
# A caregiver sent by hand must be there within this long of the call (a later arrival is not a
# response to it: escalate, or close the call and plan a visit).
ARRIVAL_LIMIT = timedelta(hours=12)
CALL_DISPATCHERS = (Role.dispatcher, Role.provider_admin, Role.admin)
# Visits that have not started: closing the call cancels them.
NOT_STARTED = (VisitStatus.planned, VisitStatus.assigned, VisitStatus.published)


def _closed(call: Call) -> DomainError:
    return error_codes.CALL_CLOSED(id=call.id)


def make_visit(session: Session, actor: Actor, call: Call) -> Visit | None:
    """The call's urgent visit, or None when the catalogue has no active ``CALL`` service."""
    service = session.scalars(
        select(ServiceType).where(ServiceType.code == CALL_SERVICE, ServiceType.active)
    ).first()
    if service is None:
        log.warning("call %s: no active service %s in the catalogue", call.id, CALL_SERVICE)
        return None
    zone = config.zone()
    day = call.opened_at.astimezone(zone).date()
    midnight = datetime.combine(day + timedelta(days=1), time(0), zone)
    visit = Visit(
        provider_id=call.provider_id,
        client_id=call.client_id,
        service_type_id=service.id,
        date=day,
        window_start_at=call.opened_at,
        window_end_at=min(call.opened_at + RESPONSE_WINDOW, midnight),
        duration_min=service.default_duration_min,
        required_skill=service.required_skill,
        caregivers_needed=1,
        priority=P.URGENT_PRIORITY,
        urgent=True,
        status=VisitStatus.planned,
    )
    session.add(visit)
    session.flush()
    audit.record(session, actor, "create", visit, after=audit.snapshot(visit))
    return visit


def active_plan(session: Session, provider_id: int, day: Any) -> DayPlan | None:
    """The plan the day runs on: the published one, else the newest proposal."""
    return session.scalars(
        select(DayPlan)
        .where(
            DayPlan.provider_id == provider_id,
            DayPlan.date == day,
            DayPlan.status.in_(proposals.ACTIVE),
        )
        .order_by(
            case((DayPlan.status == PlanStatus.published, 0), else_=1), DayPlan.version.desc()
        )
        .limit(1)
    ).first()


def _insertion(
    session: Session, actor: Actor, call: Call, caregiver_id: int | None = None
) -> dict[str, Any]:
    """Urgent insertion of the call's visit into the day's plan (changes nothing)."""
    visit = session.get(Visit, call.visit_id) if call.visit_id else None
    if visit is None:
        return {
            "possible": False,
            "reason": "NO_CALL_SERVICE",
            "detail": f"the catalogue has no active service {CALL_SERVICE} (助急)",
        }
    plan = active_plan(session, call.provider_id, visit.date)
    if plan is None:
        return {
            "possible": False,
            "reason": "NO_ACTIVE_PLAN",
            "detail": f"no proposed or published plan for {visit.date.isoformat()}",
        }
    answer = urgent.urgent_insertion(
        session, actor, plan.id, visit.id, caregiver_id=caregiver_id, working_now=True
    )
    return {**answer, "plan_id": plan.id}


def propose(session: Session, call_id: int) -> dict[str, Any] | None:
    """Store urgent insertion's proposal on an undispatched call (the job ``propose_call``)."""
    call = session.get(Call, call_id)
    if call is None or not call.status.undispatched:
        return None
    call.proposal = _insertion(session, SYSTEM, call)
    call.proposed_at = utcnow()
    session.flush()
    return call.proposal


def shown_proposal(call: Call) -> dict[str, Any] | None:
    """``{caregiver_id, arrival, start, ...}`` when a caregiver was found, else None."""
    p = call.proposal
    if not p or not p.get("possible"):
        return None
    return {
        "caregiver_id": p["caregiver_id"],
        "arrival": p.get("arrival"),
        "start": p.get("start"),
        "added_travel_min": p.get("added_travel_min"),
        "plan_id": p.get("plan_id"),
    }


def why_no_proposal(call: Call) -> dict[str, Any] | None:
    """Why urgent insertion found nobody (``{reason, detail, action, action_zh}``), else None."""
    p = call.proposal
    if not p or p.get("possible"):
        return None
    return {k: p.get(k) for k in ("reason", "detail", "action", "action_zh")}


def dispatch(
    session: Session, actor: Actor, call_id: int, data: Mapping[str, Any]
) -> dict[str, Any]:
    """Put the call's urgent visit into a caregiver's published route; answers where and when."""
    actor.require(*CALL_DISPATCHERS)
    call = get_scoped(session, Call, call_id, actor)
    session.refresh(call, with_for_update={"key_share": True})
    if call.status == CallStatus.closed:
        raise _closed(call)
    if not call.status.undispatched:
        raise error_codes.CALL_ALREADY_DISPATCHED(id=call.id, visit=call.visit_id)
    if call.visit_id is None:
        visit = make_visit(session, actor, call)
        if visit is None:
            raise error_codes.CALL_SERVICE_MISSING(service=CALL_SERVICE)
        call.visit_id = visit.id
    visit = session.get(Visit, call.visit_id)
    assert visit is not None
    wanted, arrival = data.get("caregiver_id"), data.get("arrival")
    if arrival is not None and not call.opened_at <= arrival <= call.opened_at + ARRIVAL_LIMIT:
        zone = config.zone()
        raise error_codes.CALL_ARRIVAL_OUT_OF_RANGE(
            opened=call.opened_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            latest=(call.opened_at + ARRIVAL_LIMIT).astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            field="arrival",
        )
    found = _insertion(session, actor, call, caregiver_id=wanted)
    if found.get("possible"):
        caregiver_id = found["caregiver_id"]
        arrival = arrival or datetime.fromisoformat(found["arrival"])
        start = datetime.fromisoformat(found["start"]) if not data.get("arrival") else arrival
    elif wanted is not None and arrival is not None:
        # The dispatcher knows better than the routes (a caregiver nearby, off the plan).
        caregiver_id, start = wanted, arrival
    else:
        raise error_codes.CALL_NO_CAREGIVER(
            reason=str(found.get("reason")),
            detail=found.get("detail") or "",
            errors={"caregiver_id": [str(found.get("reason"))]},
        )
    # Help for a late call may arrive after midnight: the visit is then the next day's.
    visits.move_to_day(
        session,
        actor,
        visit,
        start.astimezone(config.zone()).date(),
        call.opened_at + RESPONSE_WINDOW,
    )
    plan = active_plan(session, call.provider_id, visit.date)
    if plan is not None:
        visit.plan_id = plan.id
    # The hand edit of a visit: qualification checked, moved into the plan's routes, pinned.
    visits.update_visit(
        session, actor, visit.id, {"caregiver_id": caregiver_id, "planned_start": start}
    )
    visit.status = VisitStatus.published
    visit.unassigned_reason = None
    # The caregiver's later stops move to when she can really be there after the call.
    retimed = urgent.retime_after(session, plan, caregiver_id, visit) if plan is not None else []
    _renumber(session, caregiver_id, visit.date)
    now = utcnow()
    call.status = CallStatus.dispatched
    call.caregiver_id = caregiver_id
    call.dispatched_at = now
    call.dispatched_by = actor.user_id
    call.planned_arrival_at = arrival
    session.flush()
    _tell_family_dispatched(session, call, visit, caregiver_id, arrival)
    audit.record(
        session,
        actor,
        "call.dispatch",
        call,
        after={
            "visit_id": visit.id,
            "caregiver_id": caregiver_id,
            "arrival": arrival,
            "retimed": retimed,
        },
    )
    return {
        "call_id": call.id,
        "visit_id": visit.id,
        "caregiver_id": caregiver_id,
        "planned_start": start,
        "arrival": arrival,
        "status": call.status.value,
        "retimed": retimed,
    }


def _tell_family_dispatched(
    session: Session, call: Call, visit: Visit, caregiver_id: int, arrival: datetime
) -> None:
    caregiver = session.get(Caregiver, caregiver_id)
    name = caregiver.name if caregiver else ""
    at = arrival.astimezone(config.zone()).strftime("%H:%M")
    notifications.for_call(
        session,
        call.client_id,
        call.id,
        NotificationKind.call_dispatched,
        f"Help is on the way: {name} should arrive about {at}.",
        f"呼叫已派单：护理员{name}预计 {at} 左右到达。",
        visit.id,
    )


def _renumber(session: Session, caregiver_id: int, day: Any) -> None:
    """The caregiver's route order after an insertion: by planned start."""
    rows = session.execute(
        select(VisitAssignment, Visit)
        .join(Visit, Visit.id == VisitAssignment.visit_id)
        .where(
            VisitAssignment.caregiver_id == caregiver_id,
            Visit.date == day,
            Visit.status != VisitStatus.cancelled,
        )
    ).all()
    far = datetime.max.replace(tzinfo=config.zone())

    def start(row: Any) -> datetime:
        a, v = row
        return a.planned_start_at or v.planned_start_at or far

    for seq, (a, v) in enumerate(sorted(rows, key=start), start=1):
        a.sequence = seq
        if v.caregivers_needed == 1:
            v.sequence = seq


def escalate(session: Session, actor: Actor, call_id: int, data: Mapping[str, Any]) -> Call:
    """Hand the call on (120, the community, the family) with a note; it stays on the list."""
    actor.require(*CALL_DISPATCHERS)
    call = get_scoped(session, Call, call_id, actor)
    session.refresh(call, with_for_update={"key_share": True})
    if call.status == CallStatus.closed:
        raise _closed(call)
    to = EscalationTarget(data["to"])
    _escalate(call, to, data["note"], actor.user_id, auto=False)
    if to == EscalationTarget.family:
        notifications.for_call(
            session,
            call.client_id,
            call.id,
            NotificationKind.call_escalated,
            f"About your relative's emergency call: {data['note']}",
            f"关于您家人的紧急呼叫：{data['note']}",
            call.visit_id,
        )
    session.flush()
    audit.record(session, actor, "call.escalate", call, after=call.escalations[-1])
    return call


def _escalate(call: Call, to: EscalationTarget, note: str, by: int | None, *, auto: bool) -> None:
    now = utcnow()
    entry = {
        "to": to.value,
        "note": note,
        "at": now.astimezone(config.zone()).isoformat(),
        "by": by,
        "auto": auto,
    }
    call.escalations = [*(call.escalations or []), entry]  # a new list: JSON change tracked
    call.escalated_at = call.escalated_at or now
    if call.status == CallStatus.open:
        call.status = CallStatus.escalated


def escalate_overdue(session: Session, now: datetime | None = None) -> list[int]:
    """Escalate every open call past its due time (to the community); answers their ids."""
    now = now or utcnow()
    due = list(
        session.scalars(
            select(Call)
            .where(Call.status == CallStatus.open, Call.due_at <= now)
            .order_by(Call.due_at)
            .with_for_update(skip_locked=True)
        )
    )
    for call in due:
        minutes = round((call.due_at - call.opened_at).total_seconds() / 60)
        _escalate(
            call,
            EscalationTarget.community,
            f"Not dispatched within {minutes} min; escalated automatically. "
            f"{minutes} 分钟内未派单，已自动升级。",
            None,
            auto=True,
        )
        audit.record(session, SYSTEM, "call.escalate", call, after=call.escalations[-1])
    session.flush()
    return [c.id for c in due]


def close(session: Session, actor: Actor, call_id: int, data: Mapping[str, Any]) -> Call:
    """Close the call by hand; a visit that has not started is cancelled with it."""
    actor.require(*CALL_DISPATCHERS)
    call = get_scoped(session, Call, call_id, actor)
    session.refresh(call, with_for_update={"key_share": True})
    if call.status == CallStatus.closed:
        raise _closed(call)
    if call.visit_id is not None:
        visit = session.get(Visit, call.visit_id)
        if visit is not None and visit.status in NOT_STARTED:
            visits.update_visit(
                session,
                actor,
                visit.id,
                {
                    "status": VisitStatus.cancelled,
                    "cancel_reason": f"call closed: {data['outcome']}",
                },
            )
    call.status = CallStatus.closed
    call.closed_at = utcnow()
    call.closed_by = actor.user_id
    call.outcome = str(data["outcome"])
    call.close_note = data.get("note")
    session.flush()
    audit.record(
        session, actor, "call.close", call, after={"outcome": call.outcome, "note": call.close_note}
    )
    return call


def on_visit_event(session: Session, actor: Actor, visit: Visit, event: VisitEvent) -> Call | None:
    """The caregiver reached the elder (check-in) or left (check-out) on a call's visit; answers
    the call when this check-in answered it (the family hears of it as ``arrived``)."""
    if not visit.urgent:
        return None
    call = session.scalars(
        select(Call).where(Call.visit_id == visit.id, Call.status != CallStatus.closed)
    ).first()
    if call is None:
        return None
    answered = None
    if event.kind == EventKind.check_in and call.arrived_at is None:
        answered = call
        call.arrived_at = event.device_time_at
        call.status = CallStatus.answered
        audit.record(
            session, actor, "call.answered", call, after={"arrived_at": event.device_time_at}
        )
    elif event.kind == EventKind.check_out:
        call.arrived_at = call.arrived_at or event.device_time_at
        call.status = CallStatus.closed
        call.closed_at = event.device_time_at
        call.outcome = "visited"
        audit.record(session, actor, "call.close", call, after={"outcome": "visited"})
    session.flush()
    return answered
