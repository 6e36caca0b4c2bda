"""Schemas of service points (kitchens, canteens, centres)."""

from __future__ import annotations

from marshmallow import fields

from api.fields import BaseSchema, QuerySchema, ident, lat_field, lon_field, text
from dispatch.models import ServicePointKind


class ServicePointSchema(BaseSchema):
    id = fields.Integer(dump_only=True)
    provider_id = ident(
        "Owning provider; platform users must give it, others get their own.", load_default=None
    )
    code = text(32, "Code, unique per provider, e.g. KITCHEN1.", required=True)
    name = text(200, "Name, e.g. 稠城中心厨房.", required=True)
    kind = fields.Enum(
        ServicePointKind,
        by_value=True,
        required=True,
        metadata={"description": "kitchen (central kitchen), canteen (助餐点) or centre."},
    )
    address = text(300, "Street address.", allow_none=True)
    lat = lat_field(required=True)
    lon = lon_field(required=True)
    active = fields.Boolean(metadata={"description": "false once closed."})


class ServicePointQuerySchema(QuerySchema):
    active = fields.Boolean()
    kind = fields.Enum(ServicePointKind, by_value=True)
    provider_id = ident("Only this provider's points (platform users).", strict=False)
