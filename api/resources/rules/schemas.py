"""Schemas of validation rules and their admin-editable settings."""

from __future__ import annotations

from marshmallow import fields

from api.fields import BaseSchema, Instant, ident, text
from dispatch.models import Severity


class RuleSchema(BaseSchema):
    code = fields.String(dump_only=True)
    description = fields.String(dump_only=True)
    description_zh = fields.String(dump_only=True)
    severity = fields.String(dump_only=True, metadata={"description": "block, review or info."})
    default_severity = fields.String(dump_only=True)
    threshold = fields.Float(dump_only=True, allow_none=True)
    default_threshold = fields.Float(dump_only=True, allow_none=True)
    unit = fields.String(dump_only=True, allow_none=True)
    threshold_min = fields.Float(dump_only=True, allow_none=True)
    threshold_max = fields.Float(dump_only=True, allow_none=True)
    enabled = fields.Boolean(dump_only=True)
    pairwise = fields.Boolean(dump_only=True)
    updated_at = Instant(dump_only=True, allow_none=True)
    updated_by = fields.Integer(dump_only=True, allow_none=True)


class RuleUpdateSchema(BaseSchema):
    threshold = fields.Float(
        allow_none=True,
        allow_nan=False,
        metadata={"description": "New threshold in the rule's unit, within its range."},
    )
    severity = fields.Enum(Severity, by_value=True)
    enabled = fields.Boolean()
    reason = text(500, "Why the change (kept in the audit log).")


class RevalidateSchema(BaseSchema):
    from_ = Instant(data_key="from", required=True)
    to = Instant(required=True)
    provider_id = ident("Only this provider; all when omitted.", allow_none=True)


class RevalidateAnswerSchema(BaseSchema):
    job_id = fields.String()
    status = fields.String()
    mode = fields.String(metadata={"description": "rq (a worker runs it) or inline."})
