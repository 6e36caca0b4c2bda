"""Schemas of providers (服务机构), the tenants."""

from __future__ import annotations

from zoneinfo import available_timezones

from marshmallow import fields, validate

from api.fields import BaseSchema, Instant, QuerySchema, text


class ProviderSchema(BaseSchema):
    id = fields.Integer(dump_only=True)
    code = text(32, "Short unique code, e.g. YW01.", required=True)
    name = text(200, "Registered name, e.g. 义乌市稠城居家养老服务中心.", required=True)
    district = text(100, "District or county served, e.g. 义乌市.", allow_none=True)
    contact_phone = text(32, "Switchboard phone.", allow_none=True)
    timezone = fields.String(
        validate=validate.OneOf(sorted(available_timezones())),
        metadata={"description": "IANA zone its times are shown in; default Asia/Shanghai."},
    )
    active = fields.Boolean(metadata={"description": "false once the provider left the platform."})
    created_at = Instant(dump_only=True)


class ProviderQuerySchema(QuerySchema):
    active = fields.Boolean()
    code = fields.String(metadata={"description": "Exact provider code."})
