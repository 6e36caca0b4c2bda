"""Logging in: check credentials and describe the actor a token stands for."""

from __future__ import annotations

from typing import Any, NoReturn

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import error_codes, throttle
from dispatch.areas import area_of
from dispatch.audit import record
from dispatch.db import keep_on_refusal, utcnow
from dispatch.models import Role, User
from dispatch.security import hash_password, needs_rehash, verify_password
from dispatch.tenancy import SYSTEM, Actor

# Verified against when the username is unknown, so that both paths take the same time.
_DUMMY_HASH = hash_password("not-a-real-password")


def authenticate(session: Session, username: str, password: str, address: str = "") -> User:
    """The user behind these credentials; failed logins are throttled (``dispatch.throttle``)
    and audited, and a throttled login is refused even with the right password."""
    throttle.check(username, address)
    user = session.scalars(select(User).where(User.username == username)).one_or_none()
    if user is None:
        verify_password(_DUMMY_HASH, password)
        _failed(session, username, address, None)
    elif not verify_password(user.password_hash, password) or not user.active:
        _failed(session, username, address, user)
    assert user is not None
    throttle.succeeded(username)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    return user


def _failed(session: Session, username: str, address: str, user: User | None) -> NoReturn:
    engaged = throttle.failed(username, address)
    record(
        session,
        SYSTEM,
        "auth.throttled" if engaged else "auth.login_failed",
        entity_type="users",
        entity_id=user.id if user is not None else None,
        provider_id=user.provider_id if user is not None else None,
        after={"username": username[:100], "address": address[:64]},
    )
    keep_on_refusal(session)  # the request answers 401; its audit entry stays
    raise error_codes.UNAUTHENTICATED("login")


_USERS = User.__table__
_ACTOR_COLUMNS = select(
    _USERS.c.role,
    _USERS.c.provider_id,
    _USERS.c.caregiver_id,
    _USERS.c.area_district,
    _USERS.c.area_streets,
    _USERS.c.active,
    _USERS.c.token_version,
)


def actor_for(session: Session, user_id: int, token_version: int) -> Actor:
    """The actor behind a token, if the user still exists, is active and the token is current.

    Every authenticated request runs this: the columns it needs are read in Core on the
    session's connection, not as an ORM object."""
    row = session.connection().execute(_ACTOR_COLUMNS.where(_USERS.c.id == user_id)).first()
    if row is None or not row.active or row.token_version != token_version:
        raise error_codes.TOKEN_REVOKED()
    return _actor(user_id, Role(row.role), row)


def actor_of(user: User) -> Actor:
    return _actor(user.id, user.role, user)


def _actor(user_id: int, role: Role, user: Any) -> Actor:
    """``user``: a User or a row with its provider, caregiver and area columns."""
    return Actor(
        user_id=user_id,
        role=role,
        provider_id=user.provider_id,
        caregiver_id=user.caregiver_id,
        area=area_of(user.area_district, user.area_streets) if role.area_level else None,
    )


def current_user(session: Session, actor: Actor) -> User:
    """The acting user's own record (``actor_for`` has already checked it is valid)."""
    user = session.get(User, actor.user_id)
    if user is None:
        raise error_codes.TOKEN_REVOKED()
    return user
