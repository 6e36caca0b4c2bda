"""Schemas of the audit log query."""

from __future__ import annotations

from marshmallow import fields

from api.fields import QuerySchema


class AuditQuerySchema(QuerySchema):
    entity_type = fields.String(metadata={"description": "Table name, e.g. work_orders, flags."})
    entity_id = fields.Integer()
    action = fields.String(metadata={"description": "e.g. work_order.approve, flag.override."})
    actor_user_id = fields.Integer()
    provider_id = fields.Integer()
    from_ = fields.Date(data_key="from")
    to = fields.Date()
