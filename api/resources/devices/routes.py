"""Devices: register a pendant, phone, sensor or canteen terminal (its key shown once), revoke."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from api.auth import current_actor, roles
from api.blueprint import Blueprint
from api.crud import paged
from api.device_auth import DEVICE_KEY_PARAMETER, current_device, device_required
from api.resources.devices.schemas import (
    DeviceCreatedSchema,
    DeviceCreateSchema,
    DeviceQuerySchema,
    DeviceSchema,
)
from dispatch.db import Session
from dispatch.services import devices

blp = Blueprint(
    "devices",
    __name__,
    url_prefix="/api/v1/devices",
    description="Registered devices and their keys (X-Device-Key): pendants, phones, sensors, "
    "canteen terminals.",
)


@blp.route("", methods=["GET"], strict_slashes=False)
@roles(*devices.DEVICE_READ)
@blp.arguments(DeviceQuerySchema, location="query")
@blp.response(200, DeviceSchema(many=True))
@blp.paginate()
def list_(args: dict[str, Any], pagination_parameters: Any) -> Any:
    """List devices (filters: kind, client_id, service_point_id, active)"""
    return paged(devices.list_devices, args, pagination_parameters)


@blp.route("", methods=["POST"], strict_slashes=False)
@roles(*devices.DEVICE_WRITE)
@blp.arguments(DeviceCreateSchema)
@blp.response(201, DeviceCreatedSchema)
def register(data: dict[str, Any]) -> Any:
    """Register a device; the answer holds its key, shown this once and never again

    The key is stored only as its SHA-256. A pendant, phone or sensor is bound to one elder
    (client_id), a canteen terminal to one service point.
    """
    device, key = devices.register(Session(), current_actor(), data)
    return SimpleNamespace(
        **{name: getattr(device, name) for name in DeviceSchema().fields}, key=key
    )


@blp.route("/self", methods=["GET"])
@device_required
@blp.doc(parameters=[{**DEVICE_KEY_PARAMETER, "required": True}], security=[])
@blp.response(200, DeviceSchema)
def self_() -> Any:
    """The device whose key signs this request (a device checks its registration)

    An unknown key answers 401 DEVICE_KEY_INVALID, a revoked one 401 DEVICE_KEY_REVOKED.
    """
    return current_device()


@blp.route("/<int:ident>", methods=["GET"])
@roles(*devices.DEVICE_READ)
@blp.response(200, DeviceSchema)
def get(ident: int) -> Any:
    """One device (never its key)"""
    return devices.get_device(Session(), current_actor(), ident)


@blp.route("/<int:ident>", methods=["DELETE"])
@roles(*devices.DEVICE_WRITE)
@blp.response(200, DeviceSchema)
def revoke(ident: int) -> Any:
    """Revoke a device's key: its requests answer 401 DEVICE_KEY_REVOKED from now on"""
    return devices.revoke(Session(), current_actor(), ident)
