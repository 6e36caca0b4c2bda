"""Users: who may create whom, password hashing, token revocation on a password change."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import audit, error_codes
from dispatch.models import Caregiver, Provider, Role, User
from dispatch.security import hash_password
from dispatch.services.catalog import USERS
from dispatch.services.crud import check_refs, delete_row
from dispatch.tenancy import Actor, get_scoped, resolve_provider

MIN_PASSWORD_LEN = 8
MISSING = "Missing data for required field."
# A provider admin runs its own staff; platform roles are granted by platform admins only.
PROVIDER_GRANTABLE = frozenset({Role.caregiver, Role.dispatcher, Role.provider_admin, Role.family})


def _may_grant(actor: Actor, role: Role) -> None:
    if role == Role.device:
        raise error_codes.ROLE_NOT_FOR_USERS(errors={"role": ["Not a role for users."]})
    if actor.role == Role.admin:
        return
    if role not in PROVIDER_GRANTABLE:
        raise error_codes.ROLE_NOT_GRANTABLE(mine=actor.role.value, role=role.value)


def _password_hash(password: str) -> str:
    if len(password) < MIN_PASSWORD_LEN:
        raise error_codes.PASSWORD_TOO_SHORT(
            n=MIN_PASSWORD_LEN, errors={"password": [f"At least {MIN_PASSWORD_LEN} characters."]}
        )
    return hash_password(password)


def _check_area(user: User) -> None:
    """A supervisor is bound to a district (and maybe streets of it); no one else has an area."""
    if user.role.area_level:
        if user.provider_id is not None or user.caregiver_id is not None:
            raise error_codes.PLATFORM_USER_HAS_PROVIDER(
                role=user.role.value, errors={"provider_id": ["Must be empty for supervisors."]}
            )
        if not (user.area_district or "").strip():
            raise error_codes.AREA_REQUIRED(
                errors={"area_district": ["Missing data for required field."]}
            )
        user.area_district = (user.area_district or "").strip()
        streets = sorted({s.strip() for s in user.area_streets or () if s and s.strip()})
        user.area_streets = streets or None
    elif user.area_district is not None or user.area_streets:
        raise error_codes.AREA_NOT_ALLOWED(
            errors={"area_district": ["Must be empty unless role is supervisor."]}
        )


def _check_shape(session: Session, user: User) -> None:
    """Role, provider and caregiver link must agree with each other."""
    _check_area(user)
    if user.role.area_level:
        return
    if user.role.platform_level:
        if user.provider_id is not None or user.caregiver_id is not None:
            raise error_codes.PLATFORM_USER_HAS_PROVIDER(
                role=user.role.value,
                errors={"provider_id": ["Must be empty for finance and admin users."]},
            )
        return
    if user.provider_id is None:
        raise error_codes.PROVIDER_REQUIRED(
            "user", role=user.role.value, errors={"provider_id": [MISSING]}
        )
    if user.role == Role.caregiver:
        if user.caregiver_id is None:
            raise error_codes.CAREGIVER_REQUIRED(errors={"caregiver_id": [MISSING]})
        check_refs(
            session,
            user.provider_id,
            {"caregiver_id": Caregiver},
            {"caregiver_id": user.caregiver_id},
        )
        taken = session.scalar(
            select(User.id).where(User.caregiver_id == user.caregiver_id, User.id != user.id)
        )
        if taken is not None:
            raise error_codes.CAREGIVER_ALREADY_LINKED(
                id=user.caregiver_id, errors={"caregiver_id": ["Already linked to another user."]}
            )
    elif user.caregiver_id is not None:
        raise error_codes.CAREGIVER_NOT_ALLOWED(
            errors={"caregiver_id": ["Must be empty unless role is caregiver."]}
        )


def _check_username(session: Session, username: str, own_id: int | None = None) -> None:
    clash = session.scalar(select(User.id).where(User.username == username))
    if clash is not None and clash != own_id:
        raise error_codes.USERNAME_TAKEN(username=username, errors={"username": ["Already taken."]})


def create_user(session: Session, actor: Actor, data: dict[str, Any]) -> User:
    USERS.can_write(actor)
    data = dict(data)
    role = Role(data["role"])
    _may_grant(actor, role)
    if role.platform_level or role.area_level:
        provider_id = data.get("provider_id")
    else:
        provider_id = resolve_provider(actor, data.get("provider_id"))
        _provider_exists(session, provider_id)
    _check_username(session, data["username"])
    user = User(
        username=data["username"],
        password_hash=_password_hash(data.pop("password")),
        role=role,
        provider_id=provider_id,
        caregiver_id=data.get("caregiver_id"),
        display_name=data.get("display_name"),
        active=data.get("active", True),
        area_district=data.get("area_district"),
        area_streets=data.get("area_streets"),
    )
    _check_shape(session, user)
    session.add(user)
    session.flush()
    audit.record(session, actor, "create", user, after=audit.snapshot(user))
    return user


def _provider_exists(session: Session, provider_id: int) -> None:
    """A platform admin may name any provider id; it must exist (422, not a foreign-key 500)."""
    if session.get(Provider, provider_id) is None:
        raise error_codes.REFERENCE_NOT_FOUND("provider", id=provider_id, field="provider_id")


def update_user(session: Session, actor: Actor, ident: int, data: dict[str, Any]) -> User:
    USERS.can_write(actor)
    user = get_scoped(session, User, ident, actor)
    _may_grant(actor, user.role)
    data = dict(data)
    if "role" in data:
        _may_grant(actor, Role(data["role"]))
    if "username" in data:
        _check_username(session, data["username"], own_id=user.id)
    before = audit.snapshot(user)
    password = data.pop("password", None)
    for key, value in data.items():
        setattr(user, key, value)
    if password is not None:
        user.password_hash = _password_hash(password)
        # Every token carries the version it was issued under; bumping it revokes them all.
        user.token_version += 1
    _check_shape(session, user)
    session.flush()
    old, new = audit.changed(before, audit.snapshot(user))
    if new or password is not None:
        audit.record(
            session,
            actor,
            "update",
            user,
            before=old,
            after=new,
            reason="password changed" if password is not None else None,
        )
    return user


def deactivate_user(session: Session, actor: Actor, ident: int) -> None:
    USERS.can_write(actor)
    if ident == actor.user_id:
        raise error_codes.SELF_DEACTIVATION()
    user = get_scoped(session, User, ident, actor)
    _may_grant(actor, user.role)
    delete_row(session, actor, USERS, ident)
