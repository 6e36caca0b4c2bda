"""Schemas of the funnel report."""

from __future__ import annotations

from marshmallow import fields

from api.fields import BaseSchema, QuerySchema, ident


class FunnelQuerySchema(QuerySchema):
    from_ = fields.Date(data_key="from", required=True, metadata={"description": "YYYY-MM-DD"})
    to = fields.Date(required=True, metadata={"description": "YYYY-MM-DD, included."})
    provider_id = ident("One provider; platform users see all when omitted.", strict=False)


class FunnelFiguresSchema(BaseSchema):
    generated = fields.Integer(metadata={"description": "Work orders that start in the period."})
    normal = fields.Integer(metadata={"description": "generated − abnormal."})
    abnormal = fields.Integer(
        metadata={"description": "Orders with a block/review flag that held (open or overridden)."}
    )
    appealed = fields.Integer(metadata={"description": "Abnormal orders the provider appealed."})
    not_billed = fields.Integer(metadata={"description": "abnormal − upheld appeals."})
    billed = fields.Integer(metadata={"description": "Orders in status billed."})
    billed_hours = fields.Float(metadata={"description": "Billable minutes of billed orders / 60."})


class FunnelProviderSchema(FunnelFiguresSchema):
    provider_id = fields.Integer()
    provider_name = fields.String(allow_none=True)


class FunnelSchema(FunnelFiguresSchema):
    billed_minutes = fields.Integer()
    from_ = fields.Date(data_key="from")
    to = fields.Date()
    provider_id = fields.Integer(allow_none=True)
    by_provider = fields.List(fields.Nested(FunnelProviderSchema))
