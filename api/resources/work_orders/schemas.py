"""Schemas of work orders, their flags, decisions and the entitlement view."""

from __future__ import annotations

from marshmallow import fields, validate

from api.fields import BaseSchema, Instant, QuerySchema, text
from dispatch.models import AppealState, AppealStatus, WorkOrderSource, WorkOrderStatus


class WorkOrderFlagSchema(BaseSchema):
    id = fields.Integer()
    code = fields.String(metadata={"description": "Rule code, e.g. GEOFENCE_IN."})
    severity = fields.String(metadata={"description": "block, review or info."})
    status = fields.String(metadata={"description": "open, overridden or closed."})
    evidence = fields.Dict(metadata={"description": "The numbers that tripped the rule."})
    created_at = Instant()
    resolved_at = Instant(allow_none=True)
    resolved_by = fields.Integer(allow_none=True)
    resolution = fields.String(allow_none=True)


class WorkOrderAppealSummarySchema(BaseSchema):
    id = fields.Integer()
    status = fields.Enum(AppealStatus, by_value=True)
    reason = fields.String()
    evidence_photo_id = fields.Integer(allow_none=True)
    submitted_at = Instant()
    decided_at = Instant(allow_none=True)
    decision_reason = fields.String(allow_none=True)


class WorkOrderSchema(BaseSchema):
    id = fields.Integer()
    provider_id = fields.Integer()
    client_id = fields.Integer()
    caregiver_id = fields.Integer()
    service_type_id = fields.Integer()
    visit_id = fields.Integer(allow_none=True)
    source = fields.Enum(WorkOrderSource, by_value=True)
    external_id = fields.String(allow_none=True)
    upload_id = fields.Integer(allow_none=True)
    start_at = Instant()
    end_at = Instant()
    billable_min = fields.Integer()
    status = fields.Enum(
        WorkOrderStatus,
        by_value=True,
        metadata={"description": "submitted → flagged | verified → approved | rejected → billed"},
    )
    appeal_state = fields.Enum(AppealState, by_value=True)
    decision_reason = fields.String(allow_none=True)
    decided_by = fields.Integer(allow_none=True)
    decided_at = Instant(allow_none=True)
    billing_batch_id = fields.Integer(allow_none=True)
    billing_rate = fields.Decimal(as_string=True, places=2, allow_none=True)
    billing_amount = fields.Decimal(as_string=True, places=2, allow_none=True)
    note = fields.String(allow_none=True)
    created_at = Instant()
    flags = fields.List(fields.Nested(WorkOrderFlagSchema))
    appeals = fields.List(fields.Nested(WorkOrderAppealSummarySchema))


class OrderEntitlementSchema(BaseSchema):
    month = fields.String(metadata={"description": "YYYY-MM, in the platform's time zone."})
    entitlement_min = fields.Integer(allow_none=True)
    approved_min = fields.Integer(metadata={"description": "Approved or billed, without this."})
    approved_with_this_min = fields.Integer()
    over_entitlement = fields.Boolean(
        metadata={"description": "true: approving this order exceeds the monthly entitlement."}
    )


class WorkOrderDetailSchema(WorkOrderSchema):
    entitlement = fields.Nested(OrderEntitlementSchema)


class WorkOrderQuerySchema(QuerySchema):
    status = fields.Enum(WorkOrderStatus, by_value=True)
    source = fields.Enum(WorkOrderSource, by_value=True)
    appeal_state = fields.Enum(AppealState, by_value=True)
    from_ = fields.Date(data_key="from", metadata={"description": "First day (local), YYYY-MM-DD."})
    to = fields.Date(metadata={"description": "Last day (local), inclusive."})
    caregiver_id = fields.Integer()
    client_id = fields.Integer()
    provider_id = fields.Integer(metadata={"description": "Platform users: one provider."})
    upload_id = fields.Integer()
    billing_batch_id = fields.Integer()
    flag_code = fields.String(metadata={"description": "Orders with a flag of this rule code."})
    open_flags = fields.Boolean(
        metadata={"description": "true: the review queue (open block/review flags)."}
    )


class WorkOrderDecisionSchema(BaseSchema):
    decision = fields.String(required=True, validate=validate.OneOf(["approve", "reject"]))
    reason = text(2000, "Why; recorded in the audit log.", required=True)
    override_flags = fields.List(
        fields.Integer(),
        load_default=list,
        metadata={"description": "Ids of open block/review flags accepted with this reason."},
    )
    accept_over_entitlement = fields.Boolean(
        load_default=False,
        metadata={"description": "Approve although the client's monthly entitlement is exceeded."},
    )


class BulkApproveFilterSchema(BaseSchema):
    provider_id = fields.Integer(
        required=True, metadata={"description": "Bulk approval is one provider at a time."}
    )
    from_ = fields.Date(data_key="from")
    to = fields.Date()
    client_id = fields.Integer()
    caregiver_id = fields.Integer()
    source = fields.Enum(WorkOrderSource, by_value=True)


class BulkApproveSchema(BaseSchema):
    ids = fields.List(fields.Integer(), load_default=None)
    filter = fields.Nested(
        BulkApproveFilterSchema,
        load_default=None,
        metadata={"description": "Instead of ids: every verified order matching this."},
    )
    reason = text(2000, "Recorded with each approval.", load_default=None)


class BulkRefusalSchema(BaseSchema):
    id = fields.Integer()
    code = fields.String()
    reason = fields.String()


class BulkApproveResultSchema(BaseSchema):
    approved = fields.List(fields.Integer())
    refused = fields.List(fields.Nested(BulkRefusalSchema))
    more = fields.Boolean(metadata={"description": "true: more matched than one call takes."})


class EntitlementQuerySchema(QuerySchema):
    month = fields.String(required=True, metadata={"description": "YYYY-MM"})


class ClientEntitlementSchema(BaseSchema):
    client_id = fields.Integer()
    month = fields.String()
    entitlement_min = fields.Integer(allow_none=True)
    approved_min = fields.Integer()
    pending_min = fields.Integer(metadata={"description": "Submitted, flagged or verified."})
    remaining_min = fields.Integer(allow_none=True)
    over_by_min = fields.Integer(allow_none=True)
    over_if_all_approved = fields.Boolean()


class AuditEntrySchema(BaseSchema):
    id = fields.Integer()
    at = Instant()
    actor_user_id = fields.Integer(allow_none=True)
    actor_role = fields.String(allow_none=True)
    provider_id = fields.Integer(allow_none=True)
    action = fields.String()
    entity_type = fields.String()
    entity_id = fields.Integer(allow_none=True)
    before = fields.Dict(allow_none=True)
    after = fields.Dict(allow_none=True)
    reason = fields.String(allow_none=True)
