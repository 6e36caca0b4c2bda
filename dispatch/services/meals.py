"""Canteen meals (全城通): a terminal or canteen staff records a meal; the subsidy follows the
elder's schemes; the meal rules flag duplicates and meals outside the canteen's hours.

Contract:
- any active elder of the city may eat at any canteen: the elder is found by card number or
  face-match id (on their allowance account) or by client code (the canteen's provider first);
  an elder nobody can identify is 422 ``ELDER_NOT_IDENTIFIED`` and nothing is stored;
- a meal is idempotent by (canteen, idempotency key): the terminal's retry answers the stored
  meal (``created`` False); the same key with other content is 409 ``IDEMPOTENCY_KEY_REUSED``;
- a meal in the future (beyond ``CLOCK_SKEW``) is 422 ``MEAL_IN_FUTURE``, one older than
  ``MAX_AGE`` 422 ``MEAL_TOO_OLD``, one in a closed
  ledger month 409 ``ALLOWANCE_MONTH_CLOSED``; nothing is stored;
- the subsidy is the largest meal subsidy of the schemes paying the elder, at most the price;
- ``DUPLICATE_MEAL`` and ``MEAL_OUTSIDE_HOURS`` run on every recorded meal (the elder's row is
  locked, so two terminals at once still see each other); a meal with an open block or review
  flag is ``flagged`` and held from billing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from dispatch import audit, error_codes
from dispatch.config import zone
from dispatch.db import utcnow
from dispatch.models import (
    AllowanceAccount,
    BatchStatus,
    BillingBatch,
    Canteen,
    Client,
    Device,
    DeviceKind,
    FlagStatus,
    Meal,
    MealFlag,
    MealMethod,
    MealSlot,
    MealStatus,
    Role,
    ServicePoint,
    Severity,
)
from dispatch.rules import RuleConfig, rules_for
from dispatch.rules.meals import MEAL, MealContext, MealData, SlotHours
from dispatch.services import allowance_schemes as schemes
from dispatch.services import billing, ledger
from dispatch.services.entitlements import local_midnight, month_of
from dispatch.services.pages import page_of
from dispatch.tenancy import Actor, get_scoped, scoped
from dispatch.validation import engine

RECORDERS = (Role.dispatcher, Role.provider_admin)
READERS = (Role.dispatcher, Role.provider_admin, Role.finance, Role.admin)
KEEPERS = (Role.dispatcher, Role.provider_admin, Role.admin)
CLOCK_SKEW = timedelta(minutes=5)
# Older meals are no terminal's retry but a wrong clock or a typo.
MAX_AGE = timedelta(days=400)
# A canteen that has not set its own hours and prices serves these (local time, fen).
DEFAULT_SLOTS: dict[str, dict[str, Any]] = {
    "breakfast": {"start": "06:30", "end": "09:00", "price_fen": 500},
    "lunch": {"start": "10:30", "end": "13:00", "price_fen": 1500},
    "dinner": {"start": "16:30", "end": "19:00", "price_fen": 1200},
}
HOLDING = (Severity.block, Severity.review)


def slots_of(session: Session, canteen_id: int) -> dict[str, dict[str, Any]]:
    row = session.get(Canteen, canteen_id)
    return _slots(row.slots if row is not None else None)


def _slots(stored: Mapping[str, dict[str, Any]] | None) -> dict[str, dict[str, Any]]:
    """A canteen's slots as stored, or the defaults where it has set none."""
    return dict(stored) if stored is not None else dict(DEFAULT_SLOTS)


def _hours(slots: Mapping[str, Mapping[str, Any]]) -> dict[str, SlotHours]:
    return {
        name: SlotHours(time.fromisoformat(s["start"]), time.fromisoformat(s["end"]))
        for name, s in slots.items()
    }


def get_canteen(session: Session, actor: Actor, point_id: int) -> dict[str, Any]:
    actor.require(*READERS)
    point = get_scoped(session, ServicePoint, point_id, actor)
    return {"service_point_id": point.id, "slots": slots_of(session, point.id)}


def set_canteen(
    session: Session, actor: Actor, point_id: int, slots: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    """A canteen's hours and price per slot; a slot left out is not served there."""
    actor.require(*KEEPERS)
    point = get_scoped(session, ServicePoint, point_id, actor)
    errors = {
        name: ["end must be after start."] for name, s in slots.items() if s["end"] <= s["start"]
    }
    if errors:
        raise error_codes.CANTEEN_HOURS_INVALID(errors=errors)
    value = {
        name: {
            "start": s["start"].strftime("%H:%M"),
            "end": s["end"].strftime("%H:%M"),
            "price_fen": schemes.to_fen(s["price"]),
        }
        for name, s in slots.items()
    }
    row = session.get(Canteen, point.id)
    before = dict(row.slots) if row is not None else None
    if row is None:
        row = Canteen(service_point_id=point.id, slots=value)
        session.add(row)
    else:
        row.slots, row.updated_at = value, utcnow()
    session.flush()
    audit.record(
        session,
        actor,
        "canteen.update",
        entity_type="canteens",
        entity_id=point.id,
        before={"slots": before},
        after={"slots": value},
        provider_id=point.provider_id,
    )
    return {"service_point_id": point.id, "slots": value}


def identify(
    session: Session, provider_id: int, data: Mapping[str, Any]
) -> tuple[Client, AllowanceAccount | None]:
    """The elder a terminal or staff names (card number, face-match id or client code), their
    row locked, with their allowance account: one query for a card or a face."""
    locked = (
        select(Client, AllowanceAccount)
        .outerjoin(AllowanceAccount, AllowanceAccount.client_id == Client.id)
        .with_for_update(of=Client)
        .execution_options(populate_existing=True)
    )
    found = None
    if data.get("card_no"):
        found = locked.where(AllowanceAccount.card_no == data["card_no"])
    elif data.get("face_id"):
        found = locked.where(AllowanceAccount.face_id == data["face_id"])
    elif data.get("client_code"):
        # Client codes are unique per provider: the canteen's own elder first, else the one
        # elder of the city with this code (two of them: not identifiable by code).
        same_code = select(Client.id).where(
            Client.code == data["client_code"], Client.active.is_(True)
        )
        client_id = session.scalar(same_code.where(Client.provider_id == provider_id))
        if client_id is None:
            ids = list(session.scalars(same_code.limit(2)))
            client_id = ids[0] if len(ids) == 1 else None
        if client_id is not None:
            found = locked.where(Client.id == client_id)
    row = session.execute(found).one_or_none() if found is not None else None
    if row is None or not row[0].active:
        field = next((f for f in ("card_no", "face_id", "client_code") if data.get(f)), "card_no")
        raise error_codes.ELDER_NOT_IDENTIFIED(field=field)
    return row[0], row[1]


def _fingerprint(client_id: int, served_at: datetime, slot: str, method: str) -> str:
    body = {"client": client_id, "at": served_at.isoformat(), "slot": slot, "method": method}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _canteen_of(
    session: Session, actor: Actor, device: Device | None, data: Mapping[str, Any]
) -> tuple[ServicePoint, dict[str, dict[str, Any]]]:
    """The canteen a meal is recorded at (the terminal's, or the one staff name) and its
    slots, in one query."""
    with_slots = select(ServicePoint, Canteen.slots).outerjoin(
        Canteen, Canteen.service_point_id == ServicePoint.id
    )
    if device is not None:
        if device.kind != DeviceKind.canteen_terminal or device.service_point_id is None:
            raise error_codes.NOT_A_CANTEEN_TERMINAL()
        point, slots = session.execute(
            with_slots.where(ServicePoint.id == device.service_point_id)
        ).one()
        return point, _slots(slots)
    actor.require(*RECORDERS)
    if data.get("canteen_id") is None:
        raise error_codes.CANTEEN_REQUIRED(field="canteen_id")
    row = session.execute(
        scoped(with_slots.where(ServicePoint.id == data["canteen_id"]), ServicePoint, actor)
    ).one_or_none()
    if row is None:
        raise error_codes.REFERENCE_NOT_FOUND("canteen", id=data["canteen_id"], field="canteen_id")
    return row[0], _slots(row[1])


def record(
    session: Session,
    actor: Actor,
    device: Device | None,
    data: Mapping[str, Any],
    now: datetime | None = None,
) -> tuple[Meal, bool]:
    """Record one meal (or find the terminal's earlier try of it); True when stored now."""
    now = now or utcnow()
    point, slots = _canteen_of(session, actor, device, data)
    key = data["idempotency_key"]
    stored = session.scalars(
        select(Meal).where(Meal.canteen_id == point.id, Meal.idempotency_key == key)
    ).one_or_none()
    served_at: datetime = data["served_at"]
    if served_at > now + CLOCK_SKEW:
        raise error_codes.MEAL_IN_FUTURE(
            at=served_at.astimezone(zone()).isoformat(), field="served_at"
        )
    if served_at < now - MAX_AGE:
        raise error_codes.MEAL_TOO_OLD(days=MAX_AGE.days, field="served_at")
    client, account = identify(session, point.provider_id, data)
    slot, method = MealSlot(data["slot"]), MealMethod(data["method"])
    fingerprint = _fingerprint(client.id, served_at, slot.value, method.value)
    if stored is not None:
        return _replay(stored, fingerprint), False
    month = month_of(served_at)
    ledger.ensure_open(session, month)
    if slot.value not in slots:
        raise error_codes.SLOT_NOT_SERVED(slot=slot.value, field="slot")
    price = int(slots[slot.value]["price_fen"])
    paying = schemes.matching(
        schemes.active_schemes(session),
        client.birth_date,
        client.care_level,
        account.hardship if account is not None else None,
        month,
    )
    subsidy = min(price, max((s.meal_subsidy_fen for s in paying), default=0))
    meal = Meal(
        client_id=client.id,
        canteen_id=point.id,
        provider_id=point.provider_id,
        device_id=device.id if device is not None else None,
        recorded_by=actor.user_id,
        served_at=served_at,
        day=served_at.astimezone(zone()).date(),
        slot=slot,
        method=method,
        idempotency_key=key,
        content_hash=fingerprint,
        price_fen=price,
        subsidy_fen=subsidy,
    )
    try:
        with session.begin_nested():
            session.add(meal)
            session.flush()
    except IntegrityError:
        # Another request stored the same key a moment ago: answer what it stored.
        stored = session.scalars(
            select(Meal).where(Meal.canteen_id == point.id, Meal.idempotency_key == key)
        ).one()
        return _replay(stored, fingerprint), False
    evaluate(session, actor, meal, slots)
    return meal, True


def _replay(stored: Meal, fingerprint: str) -> Meal:
    if stored.content_hash != fingerprint:
        raise error_codes.IDEMPOTENCY_KEY_REUSED("meal")
    return stored


def _data(m: Meal) -> MealData:
    return MealData(m.id, m.client_id, m.canteen_id, m.served_at, m.day, m.slot.value)


def evaluate(
    session: Session, actor: Actor, meal: Meal, slots: Mapping[str, Mapping[str, Any]]
) -> None:
    """Run the meal rules on ``meal``, just stored; a duplicate flags both meals of the pair.
    The new meal's flags are the ones made here: they are set on it, not read back."""
    configs: dict[str, RuleConfig] = engine.rule_configs(session)
    group = list(
        session.scalars(
            select(Meal)
            .where(Meal.client_id == meal.client_id, Meal.day == meal.day, Meal.slot == meal.slot)
            .order_by(Meal.id)
        )
    )
    datas = {m.id: _data(m) for m in group}
    ctx = MealContext(
        hours={meal.canteen_id: _hours(slots)},
        same_slot={m.id: list(datas.values()) for m in group},
    )
    findings = []
    for code, r in rules_for(MEAL).items():
        cfg = configs[code]
        if not cfg.enabled:
            continue
        subjects = group if r.pairwise else [meal]
        for m in subjects:
            for f in r.func(datas[m.id], ctx, cfg.threshold):
                findings.append((f, Severity(cfg.severity)))
    if not findings:
        set_committed_value(meal, "flags", [])
        return
    existing = set(
        session.execute(
            select(MealFlag.meal_id, MealFlag.code, MealFlag.other_meal_id).where(
                MealFlag.meal_id.in_(datas)
            )
        ).all()
    )
    by_id = {m.id: m for m in group}
    made = []
    for f, severity in findings:
        if f.key in existing:
            continue
        flag = MealFlag(
            meal_id=f.work_order_id,
            code=f.code,
            other_meal_id=f.other_id,
            severity=severity,
            evidence=f.evidence,
        )
        session.add(flag)
        if f.work_order_id == meal.id:
            made.append(flag)
        if severity in HOLDING:
            _hold(session, actor, by_id[f.work_order_id])
    session.flush()
    set_committed_value(meal, "flags", sorted(made, key=lambda flag: flag.id))


def _hold(session: Session, actor: Actor, meal: Meal) -> None:
    """A meal with a blocking flag leaves billing: an open batch drops it, a closed one keeps it
    (billed meals never change; the flag stays on record)."""
    if meal.status != MealStatus.recorded:
        return
    if meal.billing_batch_id is not None:
        batch = session.get(BillingBatch, meal.billing_batch_id)
        if batch is not None and batch.status == BatchStatus.closed:
            return
        meal.billing_batch_id = None
        meal.status = MealStatus.flagged
        session.flush()
        billing.recompute(session, actor, batch.id, reason=f"meal {meal.id} flagged")
        return
    meal.status = MealStatus.flagged


def decide(session: Session, actor: Actor, meal_id: int, decision: str, reason: str) -> Meal:
    """Finance accepts a flagged meal (its open flags overridden, it becomes billable) or rejects
    a meal (never billed)."""
    actor.require(Role.finance)
    meal = get_scoped(session, Meal, meal_id, actor)
    session.refresh(meal, with_for_update=True)
    reason = (reason or "").strip()
    if not reason:
        raise error_codes.REASON_REQUIRED("decision", field="reason")
    batch = session.get(BillingBatch, meal.billing_batch_id) if meal.billing_batch_id else None
    if batch is not None and batch.status == BatchStatus.closed:
        raise error_codes.BATCH_CLOSED(id=batch.id)
    before = audit.snapshot(meal)
    now = utcnow()
    if decision == "accept":
        if meal.status != MealStatus.flagged:
            raise error_codes.MEAL_NOT_FLAGGED(id=meal.id, status=meal.status.value)
        for flag in open_holding_flags(meal):
            flag.status, flag.resolution = FlagStatus.overridden, reason
            flag.resolved_at, flag.resolved_by = now, actor.user_id
        meal.status = MealStatus.recorded
    else:
        if meal.status == MealStatus.rejected:
            raise error_codes.MEAL_ALREADY_REJECTED(id=meal.id)
        meal.status, meal.billing_batch_id = MealStatus.rejected, None
    session.flush()
    if batch is not None:
        billing.recompute(session, actor, batch.id, reason=f"meal {meal.id} {decision}ed")
    old, new = audit.changed(before, audit.snapshot(meal))
    audit.record(
        session,
        actor,
        f"meal.{decision}",
        meal,
        before=old,
        after=new,
        reason=reason,
        provider_id=meal.provider_id,
    )
    session.refresh(meal, ["flags"])
    return meal


FILTERS = {
    "canteen_id": lambda v: Meal.canteen_id == v,
    "client_id": lambda v: Meal.client_id == v,
    "status": lambda v: Meal.status == v,
}


def list_meals(
    session: Session, actor: Actor, filters: Mapping[str, Any], page: int, page_size: int
) -> tuple[list[Meal], int]:
    """Meals served at the actor's canteens (every canteen for finance and admin)."""
    actor.require(*READERS)
    stmt = scoped(select(Meal), Meal, actor).options(selectinload(Meal.flags))
    for name, clause in FILTERS.items():
        if filters.get(name) is not None:
            stmt = stmt.where(clause(filters[name]))
    if filters.get("date") is not None:
        day = filters["date"]
        stmt = stmt.where(
            Meal.served_at >= local_midnight(day),
            Meal.served_at < local_midnight(day, next_day=True),
        )
    return page_of(session, stmt.order_by(Meal.served_at, Meal.id), page, page_size)


def get_meal(session: Session, actor: Actor, meal_id: int) -> Meal:
    actor.require(*READERS)
    return get_scoped(session, Meal, meal_id, actor)


def open_holding_flags(meal: Meal) -> list[MealFlag]:
    return [f for f in meal.flags if f.status == FlagStatus.open and f.severity in HOLDING]
