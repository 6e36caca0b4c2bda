"""Tenancy, enforced once: every read of provider-owned rows goes through ``scoped``.

Provider roles see their provider's rows; finance and admin see all; a supervisor sees the rows
inside its area (``dispatch.areas``). Another tenant's or area's id is a 404, like a missing one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from dispatch import areas, error_codes
from dispatch.areas import Area
from dispatch.models import Provider, Role

T = TypeVar("T")


@dataclass(frozen=True)
class Actor:
    """Who is acting: the user, their role and, for provider roles, their provider; for a
    supervisor, its area."""

    user_id: int | None
    role: Role
    provider_id: int | None = None
    caregiver_id: int | None = None
    area: Area | None = None

    @property
    def platform_level(self) -> bool:
        return self.role.platform_level

    def require(self, *roles: Role) -> None:
        if self.role not in roles:
            raise error_codes.FORBIDDEN("needs", roles=", ".join(r.value for r in roles))


SYSTEM = Actor(user_id=None, role=Role.admin)


def provider_column(model: type[Any]) -> Any:
    """The column that says which provider owns a row of ``model``, or None if global."""
    return getattr(model, "provider_id", None)


def scoped(stmt: Select[Any], model: type[Any], actor: Actor) -> Select[Any]:
    """Restrict a select on ``model`` to what ``actor`` may see."""
    if actor.platform_level:
        return stmt
    if actor.role.area_level:
        return stmt.where(areas.clause(model, actor.area))
    if model is Provider:
        return stmt.where(Provider.id == actor.provider_id)
    column = provider_column(model)
    if column is None:
        return stmt
    return stmt.where(column == actor.provider_id)


def get_scoped(session: Session, model: type[T], ident: int, actor: Actor) -> T:
    """Load one row the actor may see; another provider's id is a 404, like a missing one."""
    stmt = scoped(select(model).where(model.id == ident), model, actor)  # type: ignore[attr-defined]
    row = session.scalars(stmt).one_or_none()
    if row is None:
        raise error_codes.not_found(model.__name__, ident)
    return row


def resolve_provider(actor: Actor, provider_id: int | None) -> int:
    """The provider a write applies to: the actor's own, or the one a platform user names."""
    if actor.role.area_level:
        raise error_codes.FORBIDDEN("role", role=actor.role.value)
    if not actor.platform_level:
        if provider_id is not None and provider_id != actor.provider_id:
            raise error_codes.PROVIDER_NOT_FOUND(id=provider_id)
        assert actor.provider_id is not None
        return actor.provider_id
    if provider_id is None:
        raise error_codes.PROVIDER_REQUIRED(
            errors={"provider_id": ["Missing data for required field."]}
        )
    return provider_id
