"""Schemas of visits: the day's planned services, their caregivers, and hand edits."""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from api.fields import MAX_INT, BaseSchema, Instant, QuerySchema, count, ident, ordered_pair, text
from dispatch.models import VisitOutcome, VisitStatus


class VisitAssignmentSchema(BaseSchema):
    caregiver_id = fields.Integer()
    sequence = fields.Integer(allow_none=True, metadata={"description": "Place in the route."})
    planned_arrival_at = Instant(allow_none=True)
    planned_start_at = Instant(allow_none=True)
    travel_min = fields.Integer(allow_none=True)


class VisitSchema(BaseSchema):
    id = fields.Integer()
    provider_id = fields.Integer()
    client_id = fields.Integer()
    service_type_id = fields.Integer()
    care_plan_id = fields.Integer(allow_none=True)
    date = fields.Date()
    window_start_at = Instant()
    window_end_at = Instant()
    duration_min = fields.Integer()
    required_skill = fields.String(allow_none=True)
    caregivers_needed = fields.Integer()
    service_point_id = fields.Integer(allow_none=True)
    priority = fields.Integer()
    urgent = fields.Boolean()
    status = fields.Enum(VisitStatus, by_value=True)
    outcome = fields.Enum(VisitOutcome, by_value=True, allow_none=True)
    planned_start_at = Instant(allow_none=True)
    sequence = fields.Integer(allow_none=True)
    pinned = fields.Boolean()
    plan_id = fields.Integer(allow_none=True)
    unassigned_reason = fields.String(allow_none=True)
    cancel_reason = fields.String(allow_none=True)
    assignments = fields.List(fields.Nested(VisitAssignmentSchema))
    created_at = Instant()


def query_id(description: str) -> fields.Integer:
    """An id in a query string (text, so not strict like a JSON body's)."""
    return fields.Integer(
        validate=validate.Range(1, MAX_INT), metadata={"description": description}
    )


class VisitQuerySchema(QuerySchema):
    date = fields.Date()
    status = fields.Enum(VisitStatus, by_value=True)
    caregiver_id = query_id("Visits this caregiver is assigned to.")
    client_id = query_id("Visits of this client.")
    provider_id = query_id("Only this provider's visits (platform users).")


class VisitPatchSchema(BaseSchema):
    caregiver_id = ident("Move the visit to this caregiver (pins it unless pinned=false).")
    planned_start = Instant(
        metadata={"description": "Move the visit to this start time (pins it unless pinned=false)."}
    )
    pinned = fields.Boolean(
        metadata={"description": "Keep caregiver and start when the day is re-optimised."}
    )
    status = fields.Enum(
        VisitStatus,
        by_value=True,
        validate=validate.OneOf([VisitStatus.cancelled]),
        metadata={"description": "Only `cancelled`: call the visit off."},
    )
    cancel_reason = text(300, "Why the visit was called off.")

    @validates_schema
    def _something(self, data: dict, **_kw: object) -> None:
        if not data:
            raise ValidationError("Send caregiver_id, planned_start, pinned or status.")


class VisitCreateSchema(BaseSchema):
    provider_id = ident("Provider; platform users must give it, others get their own.")
    client_id = ident("The client.", required=True)
    service_type_id = ident("The service.", required=True)
    date = fields.Date(required=True)
    window_start = Instant(required=True)
    window_end = Instant(required=True)
    duration_min = count(5, 720, "Minutes; default: the service's")
    priority = count(1, 10, "Higher is placed first when not all visits fit")
    urgent = fields.Boolean(metadata={"description": "Placed before every ordinary visit."})
    service_point_id = ident("Kitchen for a meal delivery.")

    _order = ordered_pair("window_start", "window_end")


class MoveRequestSchema(BaseSchema):
    caregiver_id = ident("The caregiver the visit moves to.", required=True)
    from_caregiver_id = ident(
        "For a double-staffed visit: the caregiver whose seat moves (default: the first)."
    )
    planned_start = Instant(
        metadata={"description": "Wanted start; the answer may be later (travel, window)."}
    )
    dry_run = fields.Boolean(
        load_default=False,
        metadata={"description": "true: only check and answer; nothing changes."},
    )


class MoveRefusalSchema(BaseSchema):
    code = fields.String(metadata={"description": "e.g. MOVE_SKILL_MISSING, MOVE_OUTSIDE_SHIFT."})
    message = fields.String()
    message_zh = fields.String()


class MoveAnswerSchema(BaseSchema):
    visit_id = fields.Integer()
    caregiver_id = fields.Integer()
    from_caregiver_id = fields.Integer(
        allow_none=True, metadata={"description": "Whose seat moves (none: it was unassigned)."}
    )
    caregiver_ids = fields.List(
        fields.Integer(), metadata={"description": "The visit's caregivers after the move."}
    )
    allowed = fields.Boolean()
    arrival = fields.String(metadata={"description": "ISO 8601 in the configured zone."})
    start = fields.String()
    end = fields.String()
    travel_min = fields.Integer(metadata={"description": "From the stop before (or home)."})
    travel_after_min = fields.Integer(allow_none=True)
    previous_visit_id = fields.Integer(allow_none=True)
    next_visit_id = fields.Integer(allow_none=True)
    refusals = fields.List(fields.Nested(MoveRefusalSchema))
