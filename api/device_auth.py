"""Requests signed by a registered device's key (``X-Device-Key``) instead of a user's token.

``device_or_roles`` lets one route take either: a pendant's call or a family member's; a
canteen terminal's meal or a canteen worker's. The device is authenticated by
``dispatch.services.devices.authenticate`` (an unknown or revoked key is a coded 401).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, request

from api.auth import ALL_ROLES, roles, with_roles_doc
from dispatch.db import Session
from dispatch.models import Device, Role
from dispatch.services import devices

F = TypeVar("F", bound=Callable[..., Any])
DEVICE_KEY_HEADER = "X-Device-Key"
DEVICE_KEY_PARAMETER = {
    "in": "header",
    "name": DEVICE_KEY_HEADER,
    "required": False,
    "description": "A registered device's key (instead of a bearer token).",
    "schema": {"type": "string"},
}


def current_device() -> Device | None:
    """The device that signed this request, or None when a user did."""
    return g.get("device")


def authenticate_device() -> Device:
    """Authenticate the request's ``X-Device-Key``; sets ``g.device`` and ``g.actor``."""
    device = devices.authenticate(Session(), request.headers.get(DEVICE_KEY_HEADER))
    g.device = device
    g.actor = devices.device_actor(device)
    return device


def device_required(fn: F) -> F:
    """Only a device's key will do (no bearer token)."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        authenticate_device()
        return fn(*args, **kwargs)

    return with_roles_doc(wrapper, [Role.device.value])


def device_or_roles(*allowed: Role) -> Callable[[F], F]:
    """A device's key when the header is present, else a bearer token of one of ``allowed``."""

    def decorator(fn: F) -> F:
        by_user = roles(*allowed)(fn)

        @wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if DEVICE_KEY_HEADER in request.headers:
                authenticate_device()
                return fn(*args, **kwargs)
            g.device = None
            return by_user(*args, **kwargs)

        users = [r.value for r in allowed] or [r.value for r in ALL_ROLES]
        return with_roles_doc(wrapper, [*users, Role.device.value])

    return decorator
