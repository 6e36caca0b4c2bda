"""Schemas of à-la-carte orders (点单): what is ordered, what covers it, the decision."""

from __future__ import annotations

from marshmallow import Schema, fields

from api.fields import BaseSchema, Instant, QuerySchema, ident, ordered_pair, text
from dispatch.models import OrderStatus


class OrderCreateSchema(BaseSchema):
    client_id = ident("The elder the service is for.", required=True)
    service_code = fields.String(
        required=True, metadata={"description": "A catalogue code: CLEAN, MEAL, BATH ..."}
    )
    date = fields.Date(required=True, metadata={"description": "YYYY-MM-DD, today or later."})
    window_start = fields.Time(
        required=True, metadata={"description": "Earliest start, local HH:MM."}
    )
    window_end = fields.Time(required=True, metadata={"description": "Latest end, local HH:MM."})
    note = text(500, "e.g. 请带上吸尘器.", allow_none=True)
    _order = ordered_pair("window_start", "window_end")


class CoverageSchema(Schema):
    funding_source = fields.String()
    entitlement_left_min = fields.Integer(
        allow_none=True, metadata={"description": "Entitlement minutes left this month."}
    )
    allowance_left = fields.String(
        allow_none=True, metadata={"description": "Allowance (CNY) left this month."}
    )
    price = fields.String(metadata={"description": "Catalogue price (CNY)."})
    copay = fields.String(metadata={"description": "What the elder would pay (CNY)."})


class OrderSchema(Schema):
    id = fields.Integer()
    provider_id = fields.Integer()
    client_id = fields.Integer()
    service_type_id = fields.Integer()
    date = fields.Date()
    window_start_at = Instant()
    window_end_at = Instant()
    note = fields.String(allow_none=True)
    status = fields.Enum(OrderStatus, by_value=True)
    coverage = fields.Nested(CoverageSchema)
    ordered_by_role = fields.String()
    visit_id = fields.Integer(allow_none=True)
    decided_at = Instant(allow_none=True)
    decline_reason = fields.String(allow_none=True)
    created_at = Instant()


class OrderQuerySchema(QuerySchema):
    status = fields.Enum(OrderStatus, by_value=True)
    client_id = ident("Orders for this elder.", strict=False)
    provider_id = ident("Only this provider's (platform users).", strict=False)
    date = fields.Date()


class OrderAcceptSchema(BaseSchema):
    reason = text(500, "A note for the family, optional.", allow_none=True)


class OrderDeclineSchema(BaseSchema):
    reason = text(500, "Why it cannot be done, e.g. 当天助浴已约满.", required=True)
