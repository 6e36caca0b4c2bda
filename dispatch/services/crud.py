"""Create, read, update and deactivate for the plain domain nouns, tenancy-scoped and audited.

Each noun is described once by a ``Crud`` spec; the API builds its routes from the same spec.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import audit, error_codes
from dispatch.models import Role
from dispatch.services.pages import filtered, page_of
from dispatch.tenancy import Actor, get_scoped, resolve_provider, scoped

T = TypeVar("T")
Check = Callable[[Session, Actor, Any], None]


@dataclass(frozen=True)
class Crud(Generic[T]):
    model: type[T]
    read_roles: tuple[Role, ...]
    write_roles: tuple[Role, ...]
    # filter name -> function of the given value returning a WHERE clause
    filters: Mapping[str, Callable[[Any], Any]] = field(default_factory=dict)
    order_by: tuple[Any, ...] = ()
    # body field -> model it must name, visible to the owning provider
    refs: Mapping[str, type[Any]] = field(default_factory=dict)
    check: Check | None = None
    # deactivate (active=False) instead of deleting: the row has history
    soft_delete: bool = True

    @property
    def provider_owned(self) -> bool:
        return hasattr(self.model, "provider_id") and self.model.__name__ != "Provider"

    def can_read(self, actor: Actor) -> None:
        if actor.role not in self.read_roles:
            raise error_codes.FORBIDDEN("read", role=actor.role.value)

    def can_write(self, actor: Actor) -> None:
        if actor.role not in self.write_roles:
            raise error_codes.FORBIDDEN("write", role=actor.role.value)


@dataclass(frozen=True)
class Child(Generic[T]):
    """Rows that live under a parent (a client's absences, a caregiver's shifts)."""

    parent: Crud[Any]
    model: type[T]
    parent_key: str
    check: Check | None = None
    refs: Mapping[str, type[Any]] = field(default_factory=dict)


def check_refs(
    session: Session,
    provider_id: int | None,
    refs: Mapping[str, type[Any]],
    data: Mapping[str, Any],
) -> None:
    """Every referenced id must exist and belong to the same provider (else 422, no leak)."""
    owner = Actor(user_id=None, role=Role.dispatcher, provider_id=provider_id)
    problems: dict[str, list[str]] = {}
    for name, model in refs.items():
        ident = data.get(name)
        if ident is None:
            continue
        stmt = scoped(select(model.id).where(model.id == ident), model, owner)
        if provider_id is None or session.scalar(stmt) is None:
            problems[name] = [f"No {model.__tablename__[:-1].replace('_', ' ')} with id {ident}."]
    if problems:
        raise error_codes.REFERENCE_NOT_FOUND(errors=problems)


def list_rows(
    session: Session,
    actor: Actor,
    spec: Crud[T],
    filters: Mapping[str, Any],
    page: int,
    page_size: int,
) -> tuple[list[T], int]:
    spec.can_read(actor)
    stmt = scoped(select(spec.model), spec.model, actor)
    stmt = filtered(stmt, filters, spec.filters)
    stmt = stmt.order_by(*(spec.order_by or (spec.model.id,)))  # type: ignore[attr-defined]
    return page_of(session, stmt, page, page_size)


def get_row(session: Session, actor: Actor, spec: Crud[T], ident: int) -> T:
    spec.can_read(actor)
    return get_scoped(session, spec.model, ident, actor)


def create_row(session: Session, actor: Actor, spec: Crud[T], data: dict[str, Any]) -> T:
    spec.can_write(actor)
    data = dict(data)
    if spec.provider_owned:
        data["provider_id"] = resolve_provider(actor, data.get("provider_id"))
    check_refs(session, data.get("provider_id"), spec.refs, data)
    row = spec.model(**data)
    if spec.check:
        spec.check(session, actor, row)
    session.add(row)
    session.flush()
    audit.record(session, actor, "create", row, after=audit.snapshot(row))
    return row


def update_row(
    session: Session, actor: Actor, spec: Crud[T], ident: int, data: dict[str, Any]
) -> T:
    spec.can_write(actor)
    row = get_scoped(session, spec.model, ident, actor)
    moved = data.get("provider_id")
    if moved is not None and moved != getattr(row, "provider_id", moved):
        # Moving a record between tenants would strand its history; make a new one instead.
        raise error_codes.PROVIDER_IMMUTABLE(errors={"provider_id": ["Cannot change."]})
    data = {k: v for k, v in data.items() if k != "provider_id"}
    check_refs(session, getattr(row, "provider_id", None), spec.refs, data)
    before = audit.snapshot(row)
    for key, value in data.items():
        setattr(row, key, value)
    if spec.check:
        spec.check(session, actor, row)
    session.flush()
    old, new = audit.changed(before, audit.snapshot(row))
    if new:
        audit.record(session, actor, "update", row, before=old, after=new)
    return row


def delete_row(session: Session, actor: Actor, spec: Crud[T], ident: int) -> None:
    spec.can_write(actor)
    row = get_scoped(session, spec.model, ident, actor)
    if spec.soft_delete:
        if row.active:  # type: ignore[attr-defined]
            row.active = False  # type: ignore[attr-defined]
            session.flush()
            audit.record(
                session, actor, "deactivate", row, before={"active": True}, after={"active": False}
            )
        return
    audit.record(session, actor, "delete", row, before=audit.snapshot(row))
    session.delete(row)
    session.flush()


def _child_of(session: Session, actor: Actor, spec: Child[T], parent_id: int, ident: int) -> T:
    get_scoped(session, spec.parent.model, parent_id, actor)
    row = session.get(spec.model, ident)
    if row is None or getattr(row, spec.parent_key) != parent_id:
        raise error_codes.NOT_FOUND("child", id=ident)
    return row


def list_children(session: Session, actor: Actor, spec: Child[T], parent_id: int) -> list[T]:
    spec.parent.can_read(actor)
    get_scoped(session, spec.parent.model, parent_id, actor)
    column = getattr(spec.model, spec.parent_key)
    return list(
        session.scalars(select(spec.model).where(column == parent_id).order_by(spec.model.id))
    )  # type: ignore[attr-defined]


def create_child(
    session: Session, actor: Actor, spec: Child[T], parent_id: int, data: dict[str, Any]
) -> T:
    spec.parent.can_write(actor)
    parent = get_scoped(session, spec.parent.model, parent_id, actor)
    check_refs(session, getattr(parent, "provider_id", None), spec.refs, data)
    row = spec.model(**{**data, spec.parent_key: parent_id})
    if spec.check:
        spec.check(session, actor, row)
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "create",
        row,
        after=audit.snapshot(row),
        provider_id=getattr(parent, "provider_id", None),
    )
    return row


def update_child(
    session: Session, actor: Actor, spec: Child[T], parent_id: int, ident: int, data: dict[str, Any]
) -> T:
    spec.parent.can_write(actor)
    row = _child_of(session, actor, spec, parent_id, ident)
    parent = get_scoped(session, spec.parent.model, parent_id, actor)
    check_refs(session, getattr(parent, "provider_id", None), spec.refs, data)
    before = audit.snapshot(row)
    for key, value in data.items():
        setattr(row, key, value)
    if spec.check:
        spec.check(session, actor, row)
    session.flush()
    old, new = audit.changed(before, audit.snapshot(row))
    if new:
        audit.record(
            session,
            actor,
            "update",
            row,
            before=old,
            after=new,
            provider_id=getattr(parent, "provider_id", None),
        )
    return row


def delete_child(
    session: Session, actor: Actor, spec: Child[T], parent_id: int, ident: int
) -> None:
    spec.parent.can_write(actor)
    row = _child_of(session, actor, spec, parent_id, ident)
    parent = get_scoped(session, spec.parent.model, parent_id, actor)
    audit.record(
        session,
        actor,
        "delete",
        row,
        before=audit.snapshot(row),
        provider_id=getattr(parent, "provider_id", None),
    )
    session.delete(row)
    session.flush()
