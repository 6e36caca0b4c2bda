"""Electronic visit verification: the caregiver's route, check-in/out events, offline sync, photos.

Design (see docs/evv.md):
- The phone's UUID is the event's identity. A replay with the same content returns the stored
  answer and stores nothing; the same key with other content is a 409. Races are settled by the
  database (row lock on the visit, unique keys, savepoint and re-read), never by Python locks.
- A visit's state is *derived* from the set of its events (``_settle``), so the order in which
  a batch of offline events arrives cannot change the outcome.
- Suspicious events (far away, mock location, late, skewed clock) are stored as evidence; the
  validation engine flags them. Only structural impossibilities are refused.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dispatch import audit, config, error_codes
from dispatch.db import utcnow
from dispatch.errors import DomainError, ServiceUnavailable
from dispatch.geo import to_wgs84
from dispatch.models import (
    Caregiver,
    Client,
    EventKind,
    Photo,
    Role,
    ServiceType,
    Visit,
    VisitAssignment,
    VisitEvent,
    VisitOutcome,
    VisitStatus,
    WorkOrder,
    WorkOrderSource,
)
from dispatch.photos import MAX_PHOTO_BYTES, PhotoStore, inspect_photo, photo_store
from dispatch.photos import sha256_of as photo_sha256
from dispatch.services import billable, photo_rows, visit_followups
from dispatch.tenancy import Actor, scoped
from dispatch.validation.engine import validate_orders

log = logging.getLogger(__name__)

# What a caregiver's app shows: a published route and what became of it.
ROUTE_STATUSES = (
    VisitStatus.published,
    VisitStatus.in_progress,
    VisitStatus.completed,
    VisitStatus.missed,
)
# A device clock further off than this is not skew but garbage (a phone reset to 1970).
MAX_DEVICE_TIME_DRIFT = timedelta(days=400)
MAX_SYNC_EVENTS = 500
_KIND_ORDER = {EventKind.check_in: 0, EventKind.check_out: 1}


@dataclass
class SyncEntry:
    """One event of an offline batch, parsed by the API layer (``error`` when it could not be)."""

    idempotency_key: str | None
    visit_id: int | None = None
    kind: EventKind | None = None
    data: Mapping[str, Any] | None = None
    photo: bytes | None = None
    error: DomainError | None = None


@dataclass
class SyncResult:
    idempotency_key: str | None
    status: str  # created, duplicate or rejected
    event_id: int | None = None
    error: DomainError | None = None


# --- the caregiver's route ------------------------------------------------------------------


def caregiver_of(actor: Actor) -> int:
    """The caregiver the acting user is; anyone else may not record visit events."""
    if actor.role != Role.caregiver or actor.caregiver_id is None:
        raise error_codes.NOT_A_CAREGIVER()
    return actor.caregiver_id


def local_today() -> date:
    return utcnow().astimezone(config.zone()).date()


def my_visits(session: Session, actor: Actor, day: date | None = None) -> list[dict[str, Any]]:
    """The caregiver's published visits of ``day`` (default today, local) in route order."""
    caregiver_id = caregiver_of(actor)
    day = day or local_today()
    planned_start = func.coalesce(VisitAssignment.planned_start_at, Visit.planned_start_at)
    stmt = (
        select(Visit, VisitAssignment, Client, ServiceType)
        .join(VisitAssignment, VisitAssignment.visit_id == Visit.id)
        .join(Client, Client.id == Visit.client_id)
        .join(ServiceType, ServiceType.id == Visit.service_type_id)
        .where(
            VisitAssignment.caregiver_id == caregiver_id,
            Visit.date == day,
            Visit.status.in_(ROUTE_STATUSES),
        )
        .order_by(
            func.coalesce(VisitAssignment.sequence, Visit.sequence).nulls_last(),
            planned_start.nulls_last(),
            Visit.window_start_at,
            Visit.id,
        )
    )
    rows = session.execute(scoped(stmt, Visit, actor)).all()
    done: dict[int, set[EventKind]] = defaultdict(set)
    if rows:
        for visit_id, kind in session.execute(
            select(VisitEvent.visit_id, VisitEvent.kind).where(
                VisitEvent.caregiver_id == caregiver_id,
                VisitEvent.visit_id.in_([r[0].id for r in rows]),
            )
        ):
            done[visit_id].add(kind)
    return [
        {
            "id": visit.id,
            "sequence": assignment.sequence if assignment.sequence is not None else visit.sequence,
            "status": visit.status,
            "outcome": visit.outcome,
            "service": {"code": service.code, "name": service.name},
            "client": {
                "id": client.id,
                "name": client.name,
                "address": client.address,
                "phone": client.phone,
                "lat": client.lat,
                "lon": client.lon,
            },
            "window_start": visit.window_start_at,
            "window_end": visit.window_end_at,
            "planned_start": assignment.planned_start_at or visit.planned_start_at,
            "duration_min": visit.duration_min,
            "photo_required": service.photo_required,
            "caregivers_needed": visit.caregivers_needed,
            "checked_in": EventKind.check_in in done[visit.id],
            "checked_out": EventKind.check_out in done[visit.id],
        }
        for visit, assignment, client, service in rows
    ]


# --- recording one event --------------------------------------------------------------------


def content_hash(
    caregiver_id: int,
    visit_id: int,
    kind: EventKind,
    data: Mapping[str, Any],
    photo_sha: str | None,
) -> str:
    """A fingerprint of what the event says, independent of JSON formatting and key order.

    ``offline`` is left out: it says how the event travelled, not what happened, and a phone
    that timed out online may legitimately resend the same event in an offline batch.
    """
    device_time: datetime = data["device_time"]
    canonical = {
        "caregiver_id": caregiver_id,
        "visit_id": visit_id,
        "kind": str(kind),
        "idempotency_key": str(data["idempotency_key"]),
        "device_time": device_time.astimezone(ZoneInfo("UTC")).isoformat(),
        "lat": repr(float(data["lat"])),
        "lon": repr(float(data["lon"])),
        "accuracy_m": None if data.get("accuracy_m") is None else repr(float(data["accuracy_m"])),
        "crs": str(data.get("crs") or "wgs84"),
        "mock_location": bool(data.get("mock_location")),
        "device_id": data.get("device_id"),
        "outcome": _outcome_of(kind, data),
        "tasks_done": list(data.get("tasks_done") or []),
        "note": data.get("note"),
        "photo_sha256": photo_sha,
    }
    blob = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def _outcome_of(kind: EventKind, data: Mapping[str, Any]) -> VisitOutcome | None:
    """A check-out says what happened; it defaults to a completed visit."""
    if kind != EventKind.check_out:
        return None
    return VisitOutcome(data.get("outcome") or VisitOutcome.completed)


def record_event(
    session: Session,
    actor: Actor,
    visit_id: int,
    kind: EventKind,
    data: Mapping[str, Any],
    photo: bytes | None = None,
    *,
    store: PhotoStore | None = None,
) -> tuple[dict[str, Any], bool]:
    """Record a check-in or check-out; answers (the response body, whether it was created).

    A replay of a stored event answers its stored body with ``created`` False.
    """
    caregiver_id = caregiver_of(actor)
    if photo is not None and len(photo) > MAX_PHOTO_BYTES:
        inspect_photo(photo)  # raises the 413 with its message
    key = str(data["idempotency_key"])
    fingerprint = content_hash(
        caregiver_id, visit_id, kind, data, photo_sha256(photo) if photo is not None else None
    )
    replay = _replay(session, key, fingerprint)
    if replay is not None:
        return replay, False

    visit = _lock_visit(session, actor, caregiver_id, visit_id)
    # Another request with this key may have committed while we waited for the lock.
    replay = _replay(session, key, fingerprint)
    if replay is not None:
        return replay, False

    device_time: datetime = data["device_time"]
    _check_device_time(device_time)
    mine = {
        e.kind: e
        for e in session.scalars(
            select(VisitEvent).where(
                VisitEvent.visit_id == visit.id, VisitEvent.caregiver_id == caregiver_id
            )
        )
    }
    _check_transition(visit, kind, device_time, bool(data.get("offline")), mine)

    service = session.get(ServiceType, visit.service_type_id)
    facts = inspect_photo(photo) if photo is not None else None
    if facts is None and service is not None and service.photo_required and not data.get("offline"):
        raise error_codes.PHOTO_REQUIRED(
            service=service.code,
            errors={"photo": ["Missing photo for a service that requires one."]},
        )
    photo_row = (
        photo_rows.photo_row(session, actor, facts, visit.provider_id, "create")
        if facts is not None
        else None
    )

    crs = str(data.get("crs") or "wgs84")
    lat, lon = to_wgs84(float(data["lat"]), float(data["lon"]), crs)
    event = VisitEvent(
        idempotency_key=key,
        content_hash=fingerprint,
        visit_id=visit.id,
        caregiver_id=caregiver_id,
        kind=kind,
        device_time_at=device_time,
        received_at=utcnow(),
        lat=lat,
        lon=lon,
        raw_lat=float(data["lat"]),
        raw_lon=float(data["lon"]),
        crs=crs,
        accuracy_m=data.get("accuracy_m"),
        mock_location=bool(data.get("mock_location")),
        device_id=data.get("device_id"),
        offline=bool(data.get("offline")),
        photo_id=photo_row.id if photo_row is not None else None,
        outcome=_outcome_of(kind, data),
        tasks_done=list(data["tasks_done"]) if data.get("tasks_done") is not None else None,
        note=data.get("note"),
    )
    try:
        with session.begin_nested():
            session.add(event)
            session.flush()
    except IntegrityError:
        replay = _replay(session, key, fingerprint)
        if replay is not None:
            return replay, False
        raise _already(kind) from None
    if facts is not None and photo is not None:
        (store or photo_store()).put(facts.sha256, photo)

    orders = _settle(session, actor, visit)
    visit_followups.after_event(session, actor, visit, event)
    answer: dict[str, Any] = {
        "event_id": event.id,
        "visit_id": visit.id,
        "kind": str(kind),
        "received_at": _shown(event.received_at),
        "visit_status": str(visit.status),
        "photo_id": event.photo_id,
    }
    order = orders.get(caregiver_id)
    if kind == EventKind.check_out or order is not None:
        answer["work_order_id"] = (
            order.id if order is not None else _order_id(session, visit.id, caregiver_id)
        )
    event.response = answer
    session.flush()
    audit.record(
        session,
        actor,
        str(kind),
        event,
        after=audit.snapshot(event),
        provider_id=visit.provider_id,
    )
    return answer, True


def _shown(instant: datetime) -> str:
    return instant.astimezone(config.zone()).isoformat()


def _replay(session: Session, key: str, fingerprint: str) -> dict[str, Any] | None:
    stored = session.scalars(
        select(VisitEvent).where(VisitEvent.idempotency_key == key)
    ).one_or_none()
    if stored is None:
        return None
    if stored.content_hash != fingerprint:
        raise error_codes.IDEMPOTENCY_KEY_REUSED()
    return dict(stored.response or {})


def _lock_visit(session: Session, actor: Actor, caregiver_id: int, visit_id: int) -> Visit:
    """The visit, locked for this transaction; 404 unless this caregiver is assigned to it."""
    stmt = scoped(
        select(Visit).where(
            Visit.id == visit_id,
            exists().where(
                VisitAssignment.visit_id == Visit.id,
                VisitAssignment.caregiver_id == caregiver_id,
            ),
        ),
        Visit,
        actor,
    ).with_for_update(of=Visit, key_share=True)
    visit = session.scalars(stmt).one_or_none()
    if visit is None:
        # Another caregiver's visit looks exactly like a missing one.
        raise error_codes.VISIT_NOT_FOUND("on_route", id=visit_id)
    return visit


def _check_device_time(device_time: datetime) -> None:
    drift = abs(device_time - utcnow())
    if drift > MAX_DEVICE_TIME_DRIFT:
        raise error_codes.DEVICE_TIME_IMPLAUSIBLE(
            days=MAX_DEVICE_TIME_DRIFT.days, errors={"device_time": ["Implausible device time."]}
        )


def _already(kind: EventKind) -> DomainError:
    if kind == EventKind.check_in:
        return error_codes.ALREADY_CHECKED_IN()
    return error_codes.ALREADY_CHECKED_OUT()


def _check_transition(
    visit: Visit,
    kind: EventKind,
    device_time: datetime,
    offline: bool,
    mine: Mapping[EventKind, VisitEvent],
) -> None:
    """Refuse only what cannot have happened; suspicious events are evidence, not errors."""
    if visit.status == VisitStatus.cancelled:
        raise error_codes.VISIT_CANCELLED()
    if visit.status in (VisitStatus.planned, VisitStatus.assigned):
        raise error_codes.VISIT_NOT_PUBLISHED()
    if kind in mine:
        raise _already(kind)
    if kind == EventKind.check_out:
        check_in = mine.get(EventKind.check_in)
        if check_in is None and not offline:
            # An offline check-out may arrive before its check-in; a live one may not.
            raise error_codes.NOT_CHECKED_IN()
        if check_in is not None and device_time < check_in.device_time_at:
            raise _time_order()
    else:
        check_out = mine.get(EventKind.check_out)
        if check_out is not None and device_time > check_out.device_time_at:
            raise _time_order()


def _time_order() -> DomainError:
    return error_codes.CHECKOUT_BEFORE_CHECKIN(
        errors={"device_time": ["Check-out must come after check-in."]}
    )


def _order_id(session: Session, visit_id: int, caregiver_id: int) -> int | None:
    return session.scalar(
        select(WorkOrder.id).where(
            WorkOrder.visit_id == visit_id, WorkOrder.caregiver_id == caregiver_id
        )
    )


def _settle(session: Session, actor: Actor, visit: Visit) -> dict[int, WorkOrder]:
    """Derive the visit's status, outcome and work orders from the set of its events.

    A pure function of the stored events, so any order of arrival reaches the same state.
    Answers the work orders created now, by caregiver.
    """
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
        if _order_id(session, visit.id, caregiver_id) is not None:
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
        _validate(session, order)
        created[caregiver_id] = order
    return created


def _validate(session: Session, order: WorkOrder) -> None:
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


# --- offline sync ---------------------------------------------------------------------------


def sync_events(
    session: Session,
    actor: Actor,
    entries: Sequence[SyncEntry],
    *,
    store: PhotoStore | None = None,
) -> list[SyncResult]:
    """Apply an offline batch; one result per entry, in the order given.

    Entries are applied in the order they happened (device time, check-in before check-out),
    each in its own savepoint, so a shuffled batch lands in the same state and one bad event
    does not sink the others.
    """
    caregiver_of(actor)
    if len(entries) > MAX_SYNC_EVENTS:
        raise error_codes.SYNC_BATCH_TOO_LARGE(n=MAX_SYNC_EVENTS)
    results: list[SyncResult | None] = [None] * len(entries)
    runnable: list[int] = []
    for i, entry in enumerate(entries):
        if entry.error is not None:
            results[i] = SyncResult(entry.idempotency_key, "rejected", error=entry.error)
        else:
            runnable.append(i)

    def when(i: int) -> tuple[Any, ...]:
        e = entries[i]
        assert e.data is not None and e.kind is not None
        return (e.data["device_time"], _KIND_ORDER[e.kind], e.visit_id or 0, i)

    for i in sorted(runnable, key=when):
        entry = entries[i]
        assert entry.data is not None and entry.kind is not None and entry.visit_id is not None
        try:
            with session.begin_nested():
                answer, created = record_event(
                    session, actor, entry.visit_id, entry.kind, entry.data, entry.photo, store=store
                )
        except ServiceUnavailable:
            raise  # not the event's fault: the whole batch answers 503 and the phone retries it
        except DomainError as exc:
            results[i] = SyncResult(entry.idempotency_key, "rejected", error=exc)
            continue
        results[i] = SyncResult(
            entry.idempotency_key,
            "created" if created else "duplicate",
            event_id=answer.get("event_id"),
        )
    return [r for r in results if r is not None]


# --- reading events and photos --------------------------------------------------------------

EVENT_READERS = (Role.caregiver, Role.dispatcher, Role.provider_admin, Role.finance, Role.admin)


def visit_events(session: Session, actor: Actor, visit_id: int) -> list[VisitEvent]:
    """A visit's events: for its provider's staff, the platform, and its own caregivers."""
    stmt = scoped(select(Visit).where(Visit.id == visit_id), Visit, actor)
    if actor.role == Role.caregiver:
        stmt = stmt.where(
            exists().where(
                VisitAssignment.visit_id == Visit.id,
                VisitAssignment.caregiver_id == caregiver_of(actor),
            )
        )
    visit = session.scalars(stmt).one_or_none()
    if visit is None:
        raise error_codes.VISIT_NOT_FOUND(id=visit_id)
    return list(
        session.scalars(
            select(VisitEvent)
            .where(VisitEvent.visit_id == visit.id)
            .order_by(VisitEvent.device_time_at, VisitEvent.id)
        )
    )


def photo_content(
    session: Session, actor: Actor, photo_id: int, *, store: PhotoStore | None = None
) -> tuple[Photo, bytes]:
    """A photo and its bytes, for those who may see it; everyone else gets a 404."""
    photo = session.get(Photo, photo_id)
    if photo is None or not _may_see_photo(session, actor, photo):
        raise error_codes.PHOTO_NOT_FOUND(id=photo_id)
    try:
        data = (store or photo_store()).get(photo.sha256)
    except FileNotFoundError:
        log.error("photo %s (%s) is missing from the store", photo.id, photo.sha256)
        raise error_codes.PHOTO_CONTENT_MISSING(id=photo_id) from None
    return photo, data


def _may_see_photo(session: Session, actor: Actor, photo: Photo) -> bool:
    if actor.platform_level:
        return True
    used = select(VisitEvent.id).where(VisitEvent.photo_id == photo.id)
    if actor.role == Role.caregiver:
        used = used.where(VisitEvent.caregiver_id == actor.caregiver_id)
    elif actor.role in (Role.dispatcher, Role.provider_admin):
        used = used.join(Visit, Visit.id == VisitEvent.visit_id).where(
            Visit.provider_id == actor.provider_id
        )
    else:
        return False
    return session.scalar(used.limit(1)) is not None
