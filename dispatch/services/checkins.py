"""Recording check-ins and check-outs, one at a time or as an offline batch (EVV).

Design (see docs/evv.md):
- The phone's UUID is the event's identity. A replay with the same content returns the stored
  answer and stores nothing; the same key with other content is a 409. Races are settled by the
  database (row lock on the visit, unique keys, savepoint and re-read), never by Python locks.
- A visit's state is *derived* from the set of its events (``settlement.settle_visit``), so the
  order in which a batch of offline events arrives cannot change the outcome.
- Suspicious events (far away, mock location, late, skewed clock) are stored as evidence; the
  validation engine flags them. Only structural impossibilities are refused.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, joinedload

from dispatch import audit, config, error_codes
from dispatch.db import utcnow
from dispatch.errors import DomainError, ServiceUnavailable
from dispatch.geo import to_wgs84
from dispatch.models import (
    EventKind,
    ServiceType,
    Visit,
    VisitAssignment,
    VisitEvent,
    VisitOutcome,
    VisitStatus,
)
from dispatch.photos import MAX_PHOTO_BYTES, PhotoStore, inspect_photo, photo_store
from dispatch.photos import sha256_of as photo_sha256
from dispatch.services import evv, notifications, photo_rows, settlement, visit_followups
from dispatch.tenancy import Actor, scoped

log = logging.getLogger(__name__)

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
        "device_time": device_time.astimezone(UTC).isoformat(),
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
    caregiver_id = evv.caregiver_of(actor)
    if photo is not None and len(photo) > MAX_PHOTO_BYTES:
        inspect_photo(photo)  # raises the 413 with its message
    key = str(data["idempotency_key"])
    fingerprint = content_hash(
        caregiver_id, visit_id, kind, data, photo_sha256(photo) if photo is not None else None
    )
    # No look-up of the key before the lock: a resend of an event of this visit is found among
    # the visit's events read under the lock, and a key whose visit cannot be locked or whose
    # event would be refused is looked up on that path only (``_replay_or``): a new event, the
    # common case, costs one statement less.
    try:
        visit, service, family = _lock_visit(session, actor, caregiver_id, visit_id)
        # The visit's events as they stand under the lock, read once: the replay check, this
        # caregiver's transition and the visit's new state (``settlement``) all work from them.
        events = list(session.scalars(select(VisitEvent).where(VisitEvent.visit_id == visit.id)))
        # A resend of a stored event, or a copy that committed while we waited for the lock.
        raced = next((e for e in events if e.idempotency_key == key), None)
        if raced is not None:
            return _replayed(raced, fingerprint), False

        device_time: datetime = data["device_time"]
        _check_device_time(device_time)
        mine = {e.kind: e for e in events if e.caregiver_id == caregiver_id}
        _check_transition(visit, kind, device_time, bool(data.get("offline")), mine)

        facts = inspect_photo(photo) if photo is not None else None
        if (
            facts is None
            and service is not None
            and service.photo_required
            and not data.get("offline")
        ):
            raise error_codes.PHOTO_REQUIRED(
                service=service.code,
                errors={"photo": ["Missing photo for a service that requires one."]},
            )
    except DomainError:
        # Nothing is written yet. A key already stored (a resend after the visit was
        # reassigned, or the key reused for another visit) answers as a replay or a 409
        # IDEMPOTENCY_KEY_REUSED, before whatever refused the event.
        replay = _replay(session, key, fingerprint)
        if replay is not None:
            return replay, False
        raise
    photo_row = (
        photo_rows.photo_row(session, actor, facts, visit.provider_id, "create")
        if facts is not None
        else None
    )

    crs = str(data.get("crs") or "wgs84")
    lat, lon = to_wgs84(float(data["lat"]), float(data["lon"]), crs)
    values = dict(
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
    # One statement, no savepoint: a racing copy (same key, or this caregiver's same kind of
    # event on this visit) makes the INSERT do nothing, and the copy's answer is replayed.
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    inserted = dialect.insert(VisitEvent).values(**values).on_conflict_do_nothing()
    with session.no_autoflush:  # the photo's audit entry waits for the others (see below)
        event = session.scalars(inserted.returning(VisitEvent)).one_or_none()
    if event is None:
        replay = _replay(session, key, fingerprint)
        if replay is not None:
            return replay, False
        raise _already(kind)
    if facts is not None and photo is not None:
        (store or photo_store()).put(facts.sha256, photo)

    orders = settlement.settle_visit(session, actor, visit, [*events, event])
    # The follow-ups read rows this request has not touched (calls, family links): reading
    # them must not flush what is pending, so the audit entries still go out in one INSERT.
    with session.no_autoflush:
        visit_followups.after_event(session, actor, visit, event, family=family)
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
            order.id
            if order is not None
            else settlement.order_id_of(session, visit.id, caregiver_id)
        )
    event.response = answer
    # Nothing is flushed before the commit: the audit entries (the photo's, the visit's, the
    # event's) go out together there, in one INSERT.
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
    return None if stored is None else _replayed(stored, fingerprint)


def _replayed(stored: VisitEvent, fingerprint: str) -> dict[str, Any]:
    """The stored answer of an event sent again; 409 when the key came with other content."""
    if stored.content_hash != fingerprint:
        raise error_codes.IDEMPOTENCY_KEY_REUSED()
    return dict(stored.response or {})


def _lock_visit(
    session: Session, actor: Actor, caregiver_id: int, visit_id: int
) -> tuple[Visit, ServiceType, bool]:
    """The visit (with its assignments), locked for this transaction, its service and whether
    the elder has relatives to tell (``notifications.family_to_notify``), in one statement;
    404 unless this caregiver is assigned to it."""
    stmt = (
        scoped(
            select(Visit, ServiceType, notifications.family_to_notify(Visit.client_id))
            .join(ServiceType, ServiceType.id == Visit.service_type_id)
            .where(
                Visit.id == visit_id,
                exists().where(
                    VisitAssignment.visit_id == Visit.id,
                    VisitAssignment.caregiver_id == caregiver_id,
                ),
            ),
            Visit,
            actor,
        )
        .options(joinedload(Visit.assignments))
        .with_for_update(of=Visit, key_share=True)
    )
    row = session.execute(stmt).unique().one_or_none()
    if row is None:
        # Another caregiver's visit looks exactly like a missing one.
        raise error_codes.VISIT_NOT_FOUND("on_route", id=visit_id)
    return row[0], row[1], bool(row[2])


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
    evv.caregiver_of(actor)
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
