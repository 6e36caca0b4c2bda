"""Schemas of complaints: filed by a family member or staff, answered by the provider."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from api.fields import BaseSchema, Instant, QuerySchema, ident, text
from dispatch.models import ComplaintStatus


class ComplaintCreateSchema(BaseSchema):
    client_id = ident("The elder the complaint is about.", required=True)
    visit_id = ident("The visit it is about, if any.", allow_none=True)
    text = text(2000, "What went wrong, e.g. 护理员迟到一小时.", required=True)


class ComplaintAnswerSchema(BaseSchema):
    status = fields.String(
        validate=validate.OneOf([ComplaintStatus.answered.value, ComplaintStatus.closed.value]),
        metadata={"description": "answered (default) or closed."},
    )
    answer = text(2000, "The provider's answer.", allow_none=True)


class ComplaintSchema(Schema):
    id = fields.Integer()
    provider_id = fields.Integer()
    client_id = fields.Integer()
    visit_id = fields.Integer(allow_none=True)
    user_id = fields.Integer(allow_none=True)
    text = fields.String()
    status = fields.Enum(ComplaintStatus, by_value=True)
    answer = fields.String(allow_none=True)
    answered_at = Instant(allow_none=True)
    closed_at = Instant(allow_none=True)
    created_at = Instant()


class ComplaintQuerySchema(QuerySchema):
    status = fields.Enum(ComplaintStatus, by_value=True)
    client_id = ident("Complaints about this elder.", strict=False)
    provider_id = ident("Only this provider's (platform users).", strict=False)
