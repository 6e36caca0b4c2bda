"""Schemas of emergency calls: a press or alert in, the call with its clock and file out."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from api.fields import BaseSchema, Instant, QuerySchema, ident, lat_field, lon_field, text
from dispatch.models import CallKind, CallStatus, EscalationTarget

KEY_PATTERN = r"^[A-Za-z0-9_.:\-]{8,64}$"


class CallCreateSchema(BaseSchema):
    kind = fields.Enum(
        CallKind,
        by_value=True,
        required=True,
        metadata={"description": "sos, fall, smoke, no_activity or help."},
    )
    idempotency_key = fields.String(
        required=True,
        validate=validate.Regexp(KEY_PATTERN, error="8 to 64 letters, digits or _ . : -"),
        metadata={
            "description": "Made by the sender (a UUID): a retry with the same key answers the "
            "same call (200) and opens nothing."
        },
    )
    client_id = ident("The elder (a family member's or dispatcher's call; a device knows its own).")
    device_time = Instant(metadata={"description": "When the device raised it (ISO 8601)."})
    lat = lat_field(allow_none=True)
    lon = lon_field(allow_none=True)
    note = text(500, "What the caller said, e.g. 老人说胸口疼.", allow_none=True)

    @validates_schema
    def _both_coordinates(self, data: dict, **_kw: object) -> None:
        if (data.get("lat") is None) != (data.get("lon") is None):
            raise ValidationError("Give lat and lon together, or neither.", field_name="lon")


class ProposalSchema(Schema):
    caregiver_id = fields.Integer()
    arrival = fields.String(metadata={"description": "When the caregiver would arrive."})
    start = fields.String()
    added_travel_min = fields.Integer(allow_none=True)
    plan_id = fields.Integer(allow_none=True)


class NoProposalSchema(Schema):
    reason = fields.String(metadata={"description": "e.g. NO_TIME, NO_ACTIVE_PLAN"})
    detail = fields.String(allow_none=True)
    action = fields.String(allow_none=True)
    action_zh = fields.String(allow_none=True)


class TodayVisitSchema(Schema):
    id = fields.Integer()
    service = fields.String()
    status = fields.String()
    window_start = fields.String()
    planned_start = fields.String(allow_none=True)
    caregiver = fields.String(allow_none=True)
    urgent = fields.Boolean()


class FamilyContactSchema(Schema):
    name = fields.String()
    relation = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)


class ElderFileSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    address = fields.String()
    street = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    lat = fields.Float()
    lon = fields.Float()
    birth_date = fields.String(allow_none=True)
    care_level = fields.Integer()
    conditions = fields.String(allow_none=True, metadata={"description": "The client's notes."})
    family = fields.List(fields.Nested(FamilyContactSchema))
    today_visits = fields.List(fields.Nested(TodayVisitSchema))


class EscalationSchema(Schema):
    to = fields.String()
    note = fields.String()
    at = fields.String()
    by = fields.Integer(allow_none=True)
    auto = fields.Boolean()


class CallSchema(Schema):
    id = fields.Integer()
    provider_id = fields.Integer()
    client_id = fields.Integer()
    kind = fields.String()
    source = fields.String(metadata={"description": "device, family or dispatcher"})
    device_id = fields.Integer(allow_none=True)
    status = fields.String(
        metadata={"description": "open, escalated, dispatched, answered (checked in) or closed"}
    )
    opened_at = fields.String()
    due_at = fields.String(metadata={"description": "To be dispatched by then."})
    overdue = fields.Boolean()
    signals = fields.Integer(metadata={"description": "Presses and alerts merged into it."})
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    note = fields.String(allow_none=True)
    visit_id = fields.Integer(allow_none=True)
    proposal = fields.Nested(
        ProposalSchema,
        allow_none=True,
        metadata={"description": "Urgent insertion's caregiver and arrival; null until found."},
    )
    no_proposal = fields.Nested(
        NoProposalSchema,
        allow_none=True,
        metadata={"description": "Why nobody was proposed (reason and what to do)."},
    )
    proposed_at = fields.String(allow_none=True)
    caregiver_id = fields.Integer(allow_none=True)
    dispatched_at = fields.String(allow_none=True)
    planned_arrival = fields.String(allow_none=True)
    arrived_at = fields.String(allow_none=True)
    escalated_at = fields.String(allow_none=True)
    escalations = fields.List(fields.Nested(EscalationSchema))
    closed_at = fields.String(allow_none=True)
    outcome = fields.String(allow_none=True)
    close_note = fields.String(allow_none=True)
    call_to_proposal_s = fields.Float(allow_none=True)
    call_to_dispatch_min = fields.Float(allow_none=True)
    call_to_arrival_min = fields.Float(allow_none=True)
    client = fields.Nested(ElderFileSchema, metadata={"description": "The elder's file."})


class CallQuerySchema(QuerySchema):
    status = fields.Enum(CallStatus, by_value=True)
    kind = fields.Enum(CallKind, by_value=True)
    client_id = ident("Calls of this elder.", strict=False)
    provider_id = ident("Only this provider's calls (platform users).", strict=False)
    overdue = fields.Boolean(metadata={"description": "Only undispatched calls past due (true)."})
    from_ = fields.Date(data_key="from", metadata={"description": "Opened on or after (local)."})
    to = fields.Date(metadata={"description": "Opened on or before (local), YYYY-MM-DD."})


class CallDispatchSchema(BaseSchema):
    caregiver_id = ident("Another caregiver than the proposal's.")
    arrival = Instant(
        metadata={"description": "When the caregiver will be there (default: insertion's)."}
    )


class RetimedStopSchema(Schema):
    visit_id = fields.Integer()
    planned_start = Instant()


class DispatchAnswerSchema(Schema):
    call_id = fields.Integer()
    visit_id = fields.Integer()
    caregiver_id = fields.Integer()
    planned_start = Instant()
    arrival = Instant()
    status = fields.String()
    retimed = fields.List(
        fields.Nested(RetimedStopSchema),
        metadata={"description": "The caregiver's later visits moved by the urgent visit."},
    )


class CallEscalateSchema(BaseSchema):
    to = fields.Enum(
        EscalationTarget,
        by_value=True,
        required=True,
        metadata={"description": "120 (ambulance), community or family."},
    )
    note = text(500, "What was handed on, e.g. 已拨打120，救护车约10分钟到.", required=True)


class CallCloseSchema(BaseSchema):
    outcome = fields.String(
        required=True,
        validate=validate.OneOf(["resolved", "false_alarm", "hospital", "no_answer", "other"]),
        metadata={"description": "resolved, false_alarm, hospital, no_answer or other."},
    )
    note = text(500, "What happened.", allow_none=True)


class KpiQuerySchema(QuerySchema):
    from_ = fields.Date(data_key="from", required=True, metadata={"description": "YYYY-MM-DD"})
    to = fields.Date(required=True, metadata={"description": "YYYY-MM-DD, inclusive."})
    provider_id = ident("Only this provider (platform users).", strict=False)


class KpiSchema(Schema):
    provider_id = fields.Integer()
    from_ = fields.Date(data_key="from")
    to = fields.Date()
    calls = fields.Integer()
    dispatched = fields.Integer()
    answered = fields.Integer(metadata={"description": "A caregiver checked in."})
    closed = fields.Integer()
    escalated = fields.Integer()
    escalated_by_clock = fields.Integer()
    late = fields.Integer(metadata={"description": "Not dispatched by the due time."})
    call_to_dispatch_p50_min = fields.Float(allow_none=True)
    call_to_dispatch_p90_min = fields.Float(allow_none=True)
    call_to_arrival_p50_min = fields.Float(allow_none=True)
    call_to_arrival_p90_min = fields.Float(allow_none=True)
