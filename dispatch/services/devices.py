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

from dispatch import audit
from dispatch.db import utcnow
from dispatch.errors import Conflict, Invalid, Unauthenticated
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


def _wrong(field: str, message: str, message_zh: str, code: str) -> Invalid:
    return Invalid(message, code=code, message_zh=message_zh, errors={field: [message]})


def _owner(session: Session, actor: Actor, data: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
    """The provider and the binding (client or service point) the device's kind needs."""
    kind = DeviceKind(data["kind"])
    client_id, point_id = data.get("client_id"), data.get("service_point_id")
    if kind.at_client:
        if client_id is None or point_id is not None:
            raise _wrong(
                "client_id",
                f"A {kind.value} is bound to one elder: give client_id and no service_point_id.",
                "呼叫器、手机和传感器须绑定一位服务对象：请给出 client_id，"
                "不要给 service_point_id。",
                "DEVICE_NEEDS_CLIENT",
            )
        client = session.scalars(
            scoped(select(Client).where(Client.id == client_id), Client, actor)
        ).one_or_none()
        if client is None:
            raise _wrong(
                "client_id",
                f"No client with id {client_id}.",
                f"找不到编号为 {client_id} 的服务对象。",
                "REFERENCE_NOT_FOUND",
            )
        return client.provider_id, {"client_id": client.id}
    if point_id is None or client_id is not None:
        raise _wrong(
            "service_point_id",
            "A canteen terminal is bound to one service point: give service_point_id and no "
            "client_id.",
            "助餐终端须绑定一个服务点：请给出 service_point_id，不要给 client_id。",
            "DEVICE_NEEDS_SERVICE_POINT",
        )
    point = session.scalars(
        scoped(select(ServicePoint).where(ServicePoint.id == point_id), ServicePoint, actor)
    ).one_or_none()
    if point is None:
        raise _wrong(
            "service_point_id",
            f"No service point with id {point_id}.",
            f"找不到编号为 {point_id} 的服务点。",
            "REFERENCE_NOT_FOUND",
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
        raise Conflict(
            f"Device {device_id} is already revoked.",
            code="DEVICE_ALREADY_REVOKED",
            message_zh="该设备已被注销。",
        )
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
        raise Unauthenticated(
            "This request needs the device's key in the X-Device-Key header.",
            code="DEVICE_KEY_MISSING",
            message_zh="请求须在 X-Device-Key 头中携带设备密钥。",
        )
    device = None
    if len(key) <= MAX_KEY_LEN:
        device = session.scalars(
            select(Device).where(Device.key_hash == device_key_hash(key))
        ).one_or_none()
    if device is None:
        raise Unauthenticated(
            "No device has this key; register the device and use the key it was given.",
            code="DEVICE_KEY_INVALID",
            message_zh="没有设备使用此密钥：请登记设备并使用登记时给出的密钥。",
        )
    if not device.active:
        raise Unauthenticated(
            "This device's key was revoked; register the device again for a new key.",
            code="DEVICE_KEY_REVOKED",
            message_zh="该设备密钥已被注销：请重新登记设备以获取新密钥。",
        )
    now = utcnow()
    if device.last_seen_at is None or now - device.last_seen_at > SEEN_EVERY:
        device.last_seen_at = now
    return device


def device_actor(device: Device) -> Actor:
    """The actor a device's request acts as: its provider, role ``device``, no user."""
    return Actor(user_id=None, role=Role.device, provider_id=device.provider_id)
