"""Schemas of appeals (申诉)."""

from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import fields, validate

from api.fields import BaseSchema, Instant, QuerySchema, text
from dispatch.models import AppealStatus


class AppealSchema(BaseSchema):
    id = fields.Integer(dump_only=True)
    work_order_id = fields.Integer(dump_only=True)
    provider_id = fields.Integer(dump_only=True)
    reason = text(
        2000, "Why the order should be paid, e.g. 老人临时住院，已电话确认。", required=True
    )
    evidence_photo_id = fields.Integer(
        load_default=None,
        allow_none=True,
        metadata={"description": "A photo or scanned document already uploaded by the provider."},
    )
    status = fields.Enum(AppealStatus, by_value=True, dump_only=True)
    submitted_by = fields.Integer(dump_only=True)
    submitted_at = Instant(dump_only=True)
    decided_by = fields.Integer(dump_only=True, allow_none=True)
    decided_at = Instant(dump_only=True, allow_none=True)
    decision_reason = fields.String(dump_only=True, allow_none=True)


class AppealQuerySchema(QuerySchema):
    status = fields.Enum(AppealStatus, by_value=True)
    work_order_id = fields.Integer()
    provider_id = fields.Integer()


class AppealDecisionSchema(BaseSchema):
    decision = fields.String(required=True, validate=validate.OneOf(["uphold", "deny"]))
    reason = text(2000, "Why; recorded in the audit log.", required=True)


class AppealEvidenceFileSchema(BaseSchema):
    file = Upload(
        required=True,
        metadata={"description": "A JPEG or PNG: a photo, or a photographed or scanned document."},
    )


class AppealEvidenceSchema(BaseSchema):
    photo_id = fields.Integer(
        attribute="id", metadata={"description": "Cite it as evidence_photo_id in an appeal."}
    )
    sha256 = fields.String()
    mime = fields.String()
    size_bytes = fields.Integer()
