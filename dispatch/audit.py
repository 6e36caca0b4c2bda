"""Writes to the append-only audit log; services call ``record`` on every state change."""

from __future__ import annotations

import enum
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from dispatch.models import AuditEntry
from dispatch.tenancy import Actor


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


SECRET_FIELDS = frozenset({"password_hash", "key_hash"})


def snapshot(obj: Any) -> dict[str, Any]:
    """The column values of a model instance, JSON-ready, secrets left out."""
    mapper = inspect(obj).mapper
    return {
        attr.key: _plain(getattr(obj, attr.key))
        for attr in mapper.column_attrs
        if attr.key not in SECRET_FIELDS
    }


def changed(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields that differ, for a compact before/after pair."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity: Any = None,
    *,
    entity_type: str | None = None,
    entity_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
    provider_id: int | None = None,
) -> AuditEntry:
    """Append one entry; call after flush so that new rows have their ids."""
    if entity is not None:
        entity_type = entity_type or type(entity).__tablename__
        entity_id = entity_id if entity_id is not None else getattr(entity, "id", None)
        if provider_id is None:
            provider_id = getattr(entity, "provider_id", None)
    entry = AuditEntry(
        actor_user_id=actor.user_id,
        actor_role=actor.role.value,
        provider_id=provider_id if provider_id is not None else actor.provider_id,
        action=action,
        entity_type=entity_type or "unknown",
        entity_id=entity_id,
        before=_plain(before) if before is not None else None,
        after=_plain(after) if after is not None else None,
        reason=reason,
    )
    session.add(entry)
    return entry
