"""JWT authentication (flask-jwt-extended) and role checks for routes."""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, g
from flask_jwt_extended import JWTManager, get_jwt, verify_jwt_in_request

from api.errors import handle_domain
from dispatch import error_codes
from dispatch.db import Session
from dispatch.models import LOGIN_ROLES, Role
from dispatch.services.auth import actor_for
from dispatch.tenancy import Actor

F = TypeVar("F", bound=Callable[..., Any])
jwt = JWTManager()

ALL_ROLES = LOGIN_ROLES
PROVIDER_STAFF = (Role.dispatcher, Role.provider_admin)
PLATFORM = (Role.admin, Role.finance)


def init_app(app: Flask) -> None:
    jwt.init_app(app)

    def _unauth(reason: str) -> Any:
        return handle_domain(error_codes.UNAUTHENTICATED("because", reason=reason))

    jwt.unauthorized_loader(lambda reason: _unauth(reason))
    jwt.invalid_token_loader(lambda reason: _unauth(reason))
    jwt.expired_token_loader(lambda _h, _p: handle_domain(error_codes.TOKEN_EXPIRED()))
    jwt.revoked_token_loader(lambda _h, _p: _unauth("the token was revoked"))
    jwt.needs_fresh_token_loader(lambda _h, _p: _unauth("a fresh login is required"))
    jwt.user_lookup_error_loader(lambda _h, _p: _unauth("the user no longer exists"))


def claims_for(actor: Actor, token_version: int) -> dict[str, Any]:
    return {
        "role": actor.role.value,
        "provider_id": actor.provider_id,
        "caregiver_id": actor.caregiver_id,
        "tv": token_version,
    }


def current_actor() -> Actor:
    return g.actor


def with_roles_doc(fn: F, role_names: list[str]) -> F:
    """State in the OpenAPI document who may call the operation (``x-roles``); the privilege
    matrix test holds it to the table in docs/privileges.md."""
    apidoc = deepcopy(getattr(fn, "_apidoc", {}))
    apidoc.setdefault("manual_doc", {})["x-roles"] = sorted(set(role_names))
    fn._apidoc = apidoc  # type: ignore[attr-defined]
    return fn


def roles(*allowed: Role, refresh: bool = False) -> Callable[[F], F]:
    """Require a valid token of one of ``allowed`` roles; sets ``g.actor``."""
    allowed_set = frozenset(allowed or ALL_ROLES)

    def decorator(fn: F) -> F:
        @wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            verify_jwt_in_request(refresh=refresh)
            claims = get_jwt()
            actor = actor_for(Session(), int(claims["sub"]), int(claims.get("tv", 0)))
            if actor.role not in allowed_set:
                raise error_codes.FORBIDDEN("role", role=actor.role.value)
            g.actor = actor
            return fn(*args, **kwargs)

        return with_roles_doc(wrapper, [r.value for r in allowed_set])

    return decorator
