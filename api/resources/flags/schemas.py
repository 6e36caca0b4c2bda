"""Schemas of flags: a rule's finding on a work order, with its evidence and resolution."""

from __future__ import annotations

from marshmallow import fields

from api.fields import BaseSchema, Instant, QuerySchema, ident
from dispatch.models import FlagStatus, Severity


class FlagSchema(BaseSchema):
    id = fields.Integer(dump_only=True)
    work_order_id = fields.Integer(dump_only=True)
    code = fields.String(
        dump_only=True, metadata={"description": "Stable rule code, e.g. OVERLAP."}
    )
    other_work_order_id = fields.Integer(
        dump_only=True,
        metadata={
            "description": "The other order of a pairwise rule (OVERLAP, DUPLICATE ...), 0 if none."
        },
    )
    severity = fields.Enum(Severity, by_value=True, dump_only=True)
    status = fields.Enum(FlagStatus, by_value=True, dump_only=True)
    evidence = fields.Dict(
        dump_only=True, metadata={"description": "The numbers that tripped the rule."}
    )
    created_at = Instant(dump_only=True)
    updated_at = Instant(dump_only=True)
    resolved_at = Instant(dump_only=True)
    resolved_by = fields.Integer(dump_only=True)
    resolution = fields.String(dump_only=True)


class FlagQuerySchema(QuerySchema):
    status = fields.Enum(FlagStatus, by_value=True)
    code = fields.String(metadata={"description": "Rule code, e.g. GEOFENCE_IN."})
    severity = fields.Enum(Severity, by_value=True)
    provider_id = ident("Only this provider's orders (platform users).", strict=False)
    work_order_id = ident("Only this work order's flags.", strict=False)
