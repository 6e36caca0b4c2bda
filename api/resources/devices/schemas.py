"""Schemas of registered devices: pendants, phones, sensors, canteen terminals."""

from __future__ import annotations

from marshmallow import fields

from api.fields import BaseSchema, Instant, QuerySchema, ident, text
from dispatch.models import DeviceKind

KIND_HELP = (
    "pendant, phone or sensor (bound to an elder: client_id) or canteen_terminal (bound to a "
    "service point: service_point_id)."
)


class DeviceCreateSchema(BaseSchema):
    kind = fields.Enum(
        DeviceKind, by_value=True, required=True, metadata={"description": KIND_HELP}
    )
    client_id = ident("The elder a pendant, phone or sensor belongs to.")
    service_point_id = ident("The canteen a canteen terminal stands in.")
    label = text(
        100, "What people call it, e.g. 王秀英的呼叫器 or 稠城助餐点 1号机.", required=True
    )


class DeviceSchema(BaseSchema):
    id = fields.Integer()
    provider_id = fields.Integer()
    kind = fields.Enum(DeviceKind, by_value=True)
    client_id = fields.Integer(allow_none=True)
    service_point_id = fields.Integer(allow_none=True)
    label = fields.String()
    key_prefix = fields.String(
        metadata={"description": "The key's first characters, to tell keys apart."}
    )
    active = fields.Boolean(metadata={"description": "false: revoked; its key no longer works."})
    created_at = Instant()
    revoked_at = Instant(allow_none=True)
    last_seen_at = Instant(allow_none=True, metadata={"description": "Last request (to a minute)."})


class DeviceCreatedSchema(DeviceSchema):
    key = fields.String(
        metadata={"description": "The device's key: shown in this answer only, store it now."}
    )


class DeviceQuerySchema(QuerySchema):
    kind = fields.Enum(DeviceKind, by_value=True)
    client_id = ident("Devices of this elder.", strict=False)
    service_point_id = ident("Devices at this service point.", strict=False)
    active = fields.Boolean()
    provider_id = ident("Only this provider's devices (platform users).", strict=False)
