"""Emergency calls (一键呼叫): receive a press or an alert once, and show the open calls.

The contract:

- **One press, one call.** A device (pendant, phone, sensor: its ``X-Device-Key``), a family
  member or a dispatcher sends ``{kind, idempotency_key, ...}``. Each received signal is kept by
  its key (``call_signals``): a retry of the same key answers the stored body (200) and stores
  nothing; the same key with other content is a 409 ``IDEMPOTENCY_KEY_REUSED``. A new press
  while a call of the same elder and kind is still being handled joins that call (``signals``
  counts them) instead of opening a second one. Racing retries are settled by the database
  (the elder's row is locked, the key is unique), never by Python locks.
- **A response clock.** A call is due (to be dispatched) ``due minutes`` after it opened: per
  provider and kind (``providers.call_due_min``), else ``DEFAULT_DUE_MIN``. The periodic task in
  ``dispatch.call_clock`` escalates a call still undispatched when it falls due.
- **A proposal within the second.** Opening a call makes its urgent visit (service ``CALL``
  助急, today) and asks urgent insertion into the day's active plan for the caregiver and
  arrival (``call_dispatch.propose``), in the same request: the answer carries the proposal.
  Should that fail, the call is stored all the same and ``dispatch.jobs.propose_call`` tries
  again on the queue. (Proposing in an rq job instead was measured: under a burst of 200 calls
  a minute on a loaded 2-core machine the queue fell 15-30 s behind; see docs/benchmarks.md.)
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dispatch import audit, config, error_codes, queue
from dispatch.db import utcnow
from dispatch.models import (
    Call,
    CallKind,
    CallSignal,
    CallSource,
    CallStatus,
    Caregiver,
    Client,
    Device,
    Provider,
    Role,
    ServiceType,
    Visit,
    VisitAssignment,
    VisitStatus,
)
from dispatch.services import call_dispatch, family
from dispatch.services.entitlements import local_midnight
from dispatch.services.pages import filtered, page_of
from dispatch.services.reports import scoped_by_client
from dispatch.tenancy import Actor, scoped

log = logging.getLogger(__name__)

# Minutes to dispatch, by kind, unless the provider sets its own (``providers.call_due_min``).
DEFAULT_DUE_MIN: dict[CallKind, int] = {
    CallKind.sos: 5,
    CallKind.fall: 5,
    CallKind.smoke: 5,
    CallKind.no_activity: 15,
    CallKind.help: 30,
}
CALL_OPENERS = (Role.family, Role.dispatcher, Role.provider_admin)
CALL_READ = (Role.dispatcher, Role.provider_admin, Role.admin, Role.finance)
# A family member reads the calls of the elders linked to them (list and one call, not the KPIs),
# without the call taker's working fields (``FAMILY_HIDDEN``).
CALL_VIEW = (*CALL_READ, Role.family)
# Not a relative's to see: the dispatcher's working data (the proposal and why none, the
# device, the staff member who escalated) and, in the elder's file, the staff's notes and the
# other relatives' names and phones.
FAMILY_HIDDEN = ("proposal", "no_proposal", "proposed_at", "call_to_proposal_s", "device_id")
FAMILY_HIDDEN_FILE = ("conditions", "family")
# Statuses in which a new press of the same elder and kind joins the call.
HANDLING = (CallStatus.open, CallStatus.escalated, CallStatus.dispatched, CallStatus.answered)
PROPOSE_JOB = "dispatch.jobs.propose_call"
PROPOSE_TIMEOUT_S = 60

FILTERS = {
    "status": lambda v: Call.status == v,
    "kind": lambda v: Call.kind == v,
    "client_id": lambda v: Call.client_id == v,
    "provider_id": lambda v: Call.provider_id == v,
    "from_": lambda v: Call.opened_at >= local_midnight(v),
    "to": lambda v: Call.opened_at < local_midnight(v, next_day=True),
}


def due_minutes(provider: Provider | None, kind: CallKind) -> int:
    """The provider's threshold for ``kind``, else the default."""
    own = (provider.call_due_min or {}) if provider is not None else {}
    value = own.get(kind.value)
    return int(value) if isinstance(value, int) and value > 0 else DEFAULT_DUE_MIN[kind]


def _fingerprint(source: str, client_id: int, data: Mapping[str, Any]) -> str:
    """What the signal says, independent of JSON formatting: a replay must say the same."""
    device_time = data.get("device_time")
    canonical = {
        "source": source,
        "client_id": client_id,
        "kind": str(data["kind"]),
        "device_time": device_time.isoformat() if device_time else None,
        "lat": data.get("lat"),
        "lon": data.get("lon"),
        "note": data.get("note"),
    }
    blob = json.dumps(canonical, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _replay(session: Session, provider_id: int, key: str, fingerprint: str) -> dict | None:
    stored = session.scalars(
        select(CallSignal).where(
            CallSignal.provider_id == provider_id, CallSignal.idempotency_key == key
        )
    ).one_or_none()
    if stored is None:
        return None
    if stored.content_hash != fingerprint:
        raise error_codes.IDEMPOTENCY_KEY_REUSED("call")
    return dict(stored.response or {})


def _client_of_device(device: Device, data: Mapping[str, Any]) -> int:
    if device.client_id is None:
        raise error_codes.DEVICE_CANNOT_CALL()
    given = data.get("client_id")
    if given is not None and given != device.client_id:
        raise error_codes.CALL_CLIENT_MISMATCH(
            device_client=device.client_id, client=given, field="client_id"
        )
    return device.client_id


def open_call(
    session: Session, actor: Actor, data: Mapping[str, Any], device: Device | None = None
) -> tuple[dict[str, Any], bool]:
    """Receive one press or alert; answers (the body, whether a new call was opened)."""
    if device is not None:
        client_id, source = _client_of_device(device, data), CallSource.device
        provider_id = device.provider_id
    else:
        actor.require(*CALL_OPENERS)
        if data.get("client_id") is None:
            raise error_codes.CALL_NEEDS_CLIENT(field="client_id")
        client = family.client_for(session, actor, data["client_id"])
        client_id, provider_id = client.id, client.provider_id
        source = CallSource.family if actor.role == Role.family else CallSource.dispatcher
    key = str(data["idempotency_key"])
    who = f"device:{device.id}" if device is not None else f"user:{actor.user_id}"
    fingerprint = _fingerprint(who, client_id, data)
    stored = _replay(session, provider_id, key, fingerprint)
    if stored is not None:
        return stored, False
    # One elder's presses one at a time: a retry racing the first press waits, then finds it.
    session.execute(select(Client.id).where(Client.id == client_id).with_for_update(key_share=True))
    stored = _replay(session, provider_id, key, fingerprint)
    if stored is not None:
        return stored, False

    kind = CallKind(data["kind"])
    call = session.scalars(
        select(Call)
        .where(Call.client_id == client_id, Call.kind == kind, Call.status.in_(HANDLING))
        .order_by(Call.opened_at.desc())
        .limit(1)
    ).first()
    created = call is None
    if call is None:
        call = _new_call(session, actor, provider_id, client_id, kind, source, data, device)
    else:
        call.signals += 1
    body = call_body(call)
    signal = CallSignal(
        provider_id=provider_id,
        call_id=call.id,
        idempotency_key=key,
        content_hash=fingerprint,
        device_id=device.id if device is not None else None,
        user_id=actor.user_id,
        kind=kind,
        device_time_at=data.get("device_time"),
        received_at=utcnow(),
        response=body,
    )
    try:
        with session.begin_nested():
            session.add(signal)
            session.flush()
    except IntegrityError:
        stored = _replay(session, provider_id, key, fingerprint)
        if stored is not None:
            return stored, False
        raise
    if not created:
        audit.record(session, actor, "call.signal", call, after={"signals": call.signals})
    return body, created


def _new_call(
    session: Session,
    actor: Actor,
    provider_id: int,
    client_id: int,
    kind: CallKind,
    source: CallSource,
    data: Mapping[str, Any],
    device: Device | None,
) -> Call:
    now = utcnow()
    provider = session.get(Provider, provider_id)
    call = Call(
        provider_id=provider_id,
        client_id=client_id,
        kind=kind,
        source=source,
        device_id=device.id if device is not None else None,
        opened_by=actor.user_id,
        status=CallStatus.open,
        opened_at=now,
        due_at=now + timedelta(minutes=due_minutes(provider, kind)),
        lat=data.get("lat"),
        lon=data.get("lon"),
        note=data.get("note"),
        signals=1,
        escalations=[],
    )
    session.add(call)
    session.flush()
    visit = call_dispatch.make_visit(session, actor, call)
    if visit is not None:
        call.visit_id = visit.id
    session.flush()
    audit.record(session, actor, "create", call, after=audit.snapshot(call))
    try:
        with session.begin_nested():
            call_dispatch.propose(session, call.id)
    except Exception:
        # The call is what matters: it stays open and a job tries the proposal again.
        log.exception("proposing a caregiver for call %s failed; queued a retry", call.id)
        queue.enqueue(
            session,
            PROPOSE_JOB,
            call.id,
            timeout_s=PROPOSE_TIMEOUT_S,
            description=f"call {call.id}",
        )
    return call


def _local(at: datetime | None) -> str | None:
    return at.astimezone(config.zone()).isoformat() if at is not None else None


def minutes_between(start: datetime | None, end: datetime | None) -> float | None:
    """Minutes from ``start`` to ``end`` to 0.1 (call-to-dispatch, call-to-arrival), or None."""
    if start is None or end is None:
        return None
    return round((end - start).total_seconds() / 60, 1)


def overdue(call: Call, now: datetime | None = None) -> bool:
    """Not dispatched by its due time (still waiting, or dispatched late)."""
    if call.dispatched_at is not None:
        return call.dispatched_at > call.due_at
    return call.status.undispatched and (now or utcnow()) > call.due_at


def call_body(call: Call, now: datetime | None = None) -> dict[str, Any]:
    """A call as the API answers it (times in the zone, proposal as urgent insertion gave it)."""
    return {
        "id": call.id,
        "provider_id": call.provider_id,
        "client_id": call.client_id,
        "kind": call.kind.value,
        "source": call.source.value,
        "device_id": call.device_id,
        "status": call.status.value,
        "opened_at": _local(call.opened_at),
        "due_at": _local(call.due_at),
        "overdue": overdue(call, now),
        "signals": call.signals,
        "lat": call.lat,
        "lon": call.lon,
        "note": call.note,
        "visit_id": call.visit_id,
        "proposal": call_dispatch.shown_proposal(call),
        "no_proposal": call_dispatch.why_no_proposal(call),
        "proposed_at": _local(call.proposed_at),
        "caregiver_id": call.caregiver_id,
        "dispatched_at": _local(call.dispatched_at),
        "planned_arrival": _local(call.planned_arrival_at),
        "arrived_at": _local(call.arrived_at),
        "escalated_at": _local(call.escalated_at),
        "escalations": list(call.escalations or []),
        "closed_at": _local(call.closed_at),
        "outcome": call.outcome,
        "close_note": call.close_note,
        "call_to_proposal_s": (
            round((call.proposed_at - call.opened_at).total_seconds(), 3)
            if call.proposed_at
            else None
        ),
        "call_to_dispatch_min": minutes_between(call.opened_at, call.dispatched_at),
        "call_to_arrival_min": minutes_between(call.opened_at, call.arrived_at),
    }


# --- reading --------------------------------------------------------------------------------

# Undispatched calls first (the oldest on top), then those on their way, then the finished.
_ORDER = case(
    (Call.status == CallStatus.open, 0),
    (Call.status == CallStatus.escalated, 0),
    (Call.status == CallStatus.dispatched, 1),
    (Call.status == CallStatus.answered, 1),
    else_=2,
)


def list_calls(
    session: Session, actor: Actor, filters: Mapping[str, Any], page: int, page_size: int
) -> tuple[list[dict[str, Any]], int]:
    """The calls the actor may see, open ones first, each with its clock and the elder's file.

    A family member sees the calls of the elders linked to them; naming another elder is a 404."""
    actor.require(*CALL_VIEW)
    if actor.role == Role.family and filters.get("client_id") is not None:
        family.linked_client(session, actor, filters["client_id"])
    stmt = filtered(family.visible(session, actor, Call), filters, FILTERS)
    if filters.get("overdue") is not None:
        late = (Call.status.in_((CallStatus.open, CallStatus.escalated))) & (Call.due_at < utcnow())
        stmt = stmt.where(late if filters["overdue"] else ~late)
    stmt = stmt.order_by(
        _ORDER, case((_ORDER == 2, Call.opened_at), else_=None).desc(), Call.opened_at, Call.id
    )
    calls, total = page_of(session, stmt, page, page_size)
    files = elder_files(session, [c.client_id for c in calls])
    now = utcnow()
    bodies = [{**call_body(c, now), "client": files.get(c.client_id)} for c in calls]
    return [_shown_to(actor, b) for b in bodies], total


def get_call(session: Session, actor: Actor, call_id: int) -> dict[str, Any]:
    actor.require(*CALL_VIEW)
    # The list's scope (a family member: linked elders only); any other call is a 404.
    call = session.scalars(
        family.visible(session, actor, Call).where(Call.id == call_id)
    ).one_or_none()
    if call is None:
        raise error_codes.CALL_NOT_FOUND(id=call_id)
    body = {**call_body(call), "client": elder_files(session, [call.client_id])[call.client_id]}
    return _shown_to(actor, body)


def _shown_to(actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    """The body as the actor may see it: a family member's without ``FAMILY_HIDDEN``."""
    if actor.role != Role.family:
        return body
    out = {k: v for k, v in body.items() if k not in FAMILY_HIDDEN}
    out["escalations"] = [
        {k: v for k, v in e.items() if k != "by"} for e in body.get("escalations") or []
    ]
    if body.get("client"):
        out["client"] = {k: v for k, v in body["client"].items() if k not in FAMILY_HIDDEN_FILE}
    return out


def elder_files(session: Session, client_ids: list[int]) -> dict[int, dict[str, Any]]:
    """What the person taking the call needs: who, where, how frail, and today's visits."""
    ids = sorted(set(client_ids))
    if not ids:
        return {}
    today = utcnow().astimezone(config.zone()).date()
    files: dict[int, dict[str, Any]] = {}
    for c in session.scalars(select(Client).where(Client.id.in_(ids))):
        files[c.id] = {
            "id": c.id,
            "code": c.code,
            "name": c.name,
            "address": c.address,
            "street": c.street,
            "phone": c.phone,
            "lat": c.lat,
            "lon": c.lon,
            "birth_date": c.birth_date.isoformat() if c.birth_date else None,
            "care_level": c.care_level,
            "conditions": c.notes,
            "family": [],
            "today_visits": [],
        }
    rows = session.execute(
        select(Visit, ServiceType.code, Caregiver.name)
        .join(ServiceType, ServiceType.id == Visit.service_type_id)
        .outerjoin(VisitAssignment, VisitAssignment.visit_id == Visit.id)
        .outerjoin(Caregiver, Caregiver.id == VisitAssignment.caregiver_id)
        .where(
            Visit.client_id.in_(ids),
            Visit.date == today,
            Visit.status != VisitStatus.cancelled,
        )
        .order_by(Visit.window_start_at, Visit.id)
    ).all()
    for visit, code, caregiver in rows:
        files[visit.client_id]["today_visits"].append(
            {
                "id": visit.id,
                "service": code,
                "status": visit.status.value,
                "window_start": _local(visit.window_start_at),
                "planned_start": _local(visit.planned_start_at),
                "caregiver": caregiver,
                "urgent": visit.urgent,
            }
        )
    for client_id, contacts in family.family_contacts(session, ids).items():
        files[client_id]["family"] = contacts
    return files


# --- KPIs -------------------------------------------------------------------------------------

MAX_KPI_DAYS = 366


def quantile(values: Sequence[float], q: float) -> float | None:
    """The KPIs' quantile: the value at rank ⌊q·n⌋ of the sorted values (0.1 min), or None."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


def kpis(session: Session, actor: Actor, filters: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per provider and period: calls, how many were dispatched, answered, escalated (by hand or
    the clock) and late, and the call-to-dispatch and call-to-arrival minutes (p50, p90)."""
    actor.require(*CALL_READ)
    start, end = filters["from_"], filters["to"]
    if end < start:
        raise error_codes.INVALID_RANGE(field="to")
    if (end - start).days >= MAX_KPI_DAYS:
        raise error_codes.INVALID_RANGE("too_long", days=MAX_KPI_DAYS, field="to")
    stmt = scoped(select(Call), Call, actor).where(
        Call.opened_at >= local_midnight(start), Call.opened_at < local_midnight(end, next_day=True)
    )
    if filters.get("provider_id") is not None:
        stmt = stmt.where(Call.provider_id == filters["provider_id"])
    by_provider: dict[int, list[Call]] = {}
    for call in session.scalars(stmt.order_by(Call.provider_id, Call.id)):
        by_provider.setdefault(call.provider_id, []).append(call)
    out = []
    for provider_id, rows in by_provider.items():
        to_dispatch = _present(minutes_between(c.opened_at, c.dispatched_at) for c in rows)
        to_arrival = _present(minutes_between(c.opened_at, c.arrived_at) for c in rows)
        out.append(
            {
                "provider_id": provider_id,
                "from": start,
                "to": end,
                "calls": len(rows),
                "dispatched": sum(1 for c in rows if c.dispatched_at is not None),
                "answered": sum(1 for c in rows if c.arrived_at is not None),
                "closed": sum(1 for c in rows if c.status == CallStatus.closed),
                "escalated": sum(1 for c in rows if c.escalated_at is not None),
                "escalated_by_clock": sum(
                    1 for c in rows if any(e.get("auto") for e in c.escalations or [])
                ),
                "late": sum(1 for c in rows if overdue(c)),
                "call_to_dispatch_p50_min": quantile(to_dispatch, 0.5),
                "call_to_dispatch_p90_min": quantile(to_dispatch, 0.9),
                "call_to_arrival_p50_min": quantile(to_arrival, 0.5),
                "call_to_arrival_p90_min": quantile(to_arrival, 0.9),
            }
        )
    return out


def _present(values: Iterable[float | None]) -> list[float]:
    return [v for v in values if v is not None]


def arrivals_by(
    session: Session,
    actor: Actor,
    lo: datetime,
    hi: datetime,
    group_by: str,
    provider_id: int | None = None,
) -> dict[Any, tuple[int, list[float]]]:
    """The calls opened in [lo, hi) that the actor may see, by the elder's street ("street") or
    the call's provider ("provider"): how many, and the call-to-arrival minutes of those a
    caregiver reached. The supervision figures report these with ``quantile``, the very numbers
    ``kpis`` gives per provider."""
    key = Client.street if group_by == "street" else Call.provider_id
    stmt = (
        select(key, Call.opened_at, Call.arrived_at)
        .join(Client, Client.id == Call.client_id)
        .where(Call.opened_at >= lo, Call.opened_at < hi)
    )
    stmt = scoped_by_client(stmt, Call, actor)
    if provider_id is not None:
        stmt = stmt.where(Call.provider_id == provider_id)
    counts: dict[Any, int] = {}
    minutes: dict[Any, list[float]] = {}
    for k, opened, arrived in session.execute(stmt):
        counts[k] = counts.get(k, 0) + 1
        minutes.setdefault(k, []).extend(_present([minutes_between(opened, arrived)]))
    return {k: (n, minutes[k]) for k, n in counts.items()}
