"""The device registry: register a pendant, phone, sensor or canteen terminal, revoke it, and
authenticate a request by its ``X-Device-Key``.

A key is made here, answered once at registration and stored only as its SHA-256 (see
``dispatch.security``). Other features build on ``authenticate`` and ``device_actor``: calls
from pendants (``dispatch.services.calls``) and meals at canteen terminals.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import audit, error_codes
from dispatch.db import utcnow
from dispatch.models import Client, Device, DeviceKind, Role, ServicePoint
from dispatch.security import device_key_hash, new_device_key
from dispatch.services.pages import filtered, page_of
from dispatch.tenancy import Actor, get_scoped, scoped

DEVICE_READ = (Role.dispatcher, Role.provider_admin, Role.finance, Role.admin)
DEVICE_WRITE = (Role.dispatcher, Role.provider_admin, Role.admin)
# last_seen_at is written at most this often per device, not on every request.
SEEN_EVERY = timedelta(minutes=1)
# Longer keys are not keys of ours; refuse them before hashing anything.
MAX_KEY_LEN = 200

FILTERS = {
    "kind": lambda v: Device.kind == v,
    "client_id": lambda v: Device.client_id == v,
    "service_point_id": lambda v: Device.service_point_id == v,
    "active": lambda v: Device.active == v,
    "provider_id": lambda v: Device.provider_id == v,
}


def _owner(session: Session, actor: Actor, data: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
    """The provider and the binding (client or service point) the device's kind needs."""
    kind = DeviceKind(data["kind"])
    client_id, point_id = data.get("client_id"), data.get("service_point_id")
    if kind.at_client:
        if client_id is None or point_id is not None:
            raise error_codes.DEVICE_NEEDS_CLIENT(kind=kind.value, field="client_id")
        client = session.scalars(
            scoped(select(Client).where(Client.id == client_id), Client, actor)
        ).one_or_none()
        if client is None:
            raise error_codes.REFERENCE_NOT_FOUND("client", id=client_id, field="client_id")
        return client.provider_id, {"client_id": client.id}
    if point_id is None or client_id is not None:
        raise error_codes.DEVICE_NEEDS_SERVICE_POINT(field="service_point_id")
    point = session.scalars(
        scoped(select(ServicePoint).where(ServicePoint.id == point_id), ServicePoint, actor)
    ).one_or_none()
    if point is None:
        raise error_codes.REFERENCE_NOT_FOUND(
            "service_point", id=point_id, field="service_point_id"
        )
    return point.provider_id, {"service_point_id": point.id}


def register(session: Session, actor: Actor, data: Mapping[str, Any]) -> tuple[Device, str]:
    """A new device and its key; the key is in this answer only, never again."""
    actor.require(*DEVICE_WRITE)
    provider_id, binding = _owner(session, actor, data)
    key = new_device_key()
    device = Device(
        provider_id=provider_id,
        kind=DeviceKind(data["kind"]),
        label=data["label"],
        key_hash=device_key_hash(key),
        key_prefix=key[:12],
        active=True,
        created_by=actor.user_id,
        **binding,
    )
    session.add(device)
    session.flush()
    audit.record(session, actor, "create", device, after=audit.snapshot(device))
    return device, key


def revoke(session: Session, actor: Actor, device_id: int) -> Device:
    """The key stops working at once; the device row stays, with its history."""
    actor.require(*DEVICE_WRITE)
    device = get_scoped(session, Device, device_id, actor)
    if not device.active:
        raise error_codes.DEVICE_ALREADY_REVOKED(id=device_id)
    device.active = False
    device.revoked_at = utcnow()
    device.revoked_by = actor.user_id
    session.flush()
    audit.record(session, actor, "revoke", device, before={"active": True}, after={"active": False})
    return device


def get_device(session: Session, actor: Actor, device_id: int) -> Device:
    actor.require(*DEVICE_READ)
    return get_scoped(session, Device, device_id, actor)


def list_devices(
    session: Session, actor: Actor, filters: Mapping[str, Any], page: int, page_size: int
) -> tuple[list[Device], int]:
    actor.require(*DEVICE_READ)
    stmt = filtered(scoped(select(Device), Device, actor), filters, FILTERS)
    return page_of(session, stmt.order_by(Device.id), page, page_size)


def authenticate(session: Session, key: str | None) -> Device:
    """The active device holding ``key``; 401 ``DEVICE_KEY_MISSING``/``_INVALID``/``_REVOKED``."""
    if not key:
        raise error_codes.DEVICE_KEY_MISSING()
    device = None
    if len(key) <= MAX_KEY_LEN:
        device = session.scalars(
            select(Device).where(Device.key_hash == device_key_hash(key))
        ).one_or_none()
    if device is None:
        raise error_codes.DEVICE_KEY_INVALID()
    if not device.active:
        raise error_codes.DEVICE_KEY_REVOKED()
    now = utcnow()
    if device.last_seen_at is None or now - device.last_seen_at > SEEN_EVERY:
        device.last_seen_at = now
    return device


def device_actor(device: Device) -> Actor:
    """The actor a device's request acts as: its provider, role ``device``, no user."""
    return Actor(user_id=None, role=Role.device, provider_id=device.provider_id)
