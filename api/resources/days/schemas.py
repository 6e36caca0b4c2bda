"""Schemas of a day: generating its visits and its live board."""

from __future__ import annotations

from marshmallow import fields, validate

from api.fields import BaseSchema, Instant, QuerySchema, ident
from api.resources.plans.schemas import PlanSchema
from api.resources.visits.schemas import query_id


class GenerateRequestSchema(BaseSchema):
    provider_id = ident("Provider; platform users must give it, others get their own.")


class GenerateResultSchema(BaseSchema):
    created = fields.Integer(metadata={"description": "Visits created now."})
    skipped = fields.Integer(
        metadata={"description": "Recurring plans with no new visit (exists, client away, ...)."}
    )
    reasons = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={"description": "Skipped, by reason: exists, client_absent, inactive."},
    )


class BoardQuerySchema(QuerySchema):
    late_after_min = fields.Integer(
        validate=validate.Range(1, 240),
        metadata={"description": "Minutes after the planned start without check-in: late (1..240)"},
    )
    at = Instant(metadata={"description": "Show the board as of this instant (default: now)."})
    provider_id = query_id("Only this provider (platform users).")


class BoardClientSchema(BaseSchema):
    id = fields.Integer()
    name = fields.String()
    address = fields.String()


class BoardCaregiverSchema(BaseSchema):
    id = fields.Integer()
    name = fields.String(allow_none=True)


class BoardVisitSchema(BaseSchema):
    visit_id = fields.Integer()
    status = fields.String()
    state = fields.String(
        metadata={
            "description": "scheduled, late, in_progress, completed, missed, client_absent or "
            "refused (checked out with that outcome)."
        }
    )
    alerts = fields.List(fields.String(), metadata={"description": "late, missed"})
    late_min = fields.Integer(allow_none=True)
    client = fields.Nested(BoardClientSchema)
    service_code = fields.String()
    service_name = fields.String()
    service_name_en = fields.String(allow_none=True)
    duration_min = fields.Integer()
    caregivers = fields.List(fields.Nested(BoardCaregiverSchema))
    planned_start = Instant(allow_none=True)
    window_start = Instant()
    window_end = Instant()
    check_in_at = Instant(allow_none=True)
    check_out_at = Instant(allow_none=True)


class BoardSchema(BaseSchema):
    date = fields.Date()
    at = Instant()
    late_after_min = fields.Integer()
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    visits = fields.List(fields.Nested(BoardVisitSchema))


class DispatchQuerySchema(QuerySchema):
    provider_id = query_id("Provider; platform users must give it, others get their own.")


class DispatchCaregiverSchema(BaseSchema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    gender = fields.String()
    skills = fields.List(fields.String(), metadata={"description": "Skills valid that day."})
    shift_start = fields.String(allow_none=True, metadata={"description": "HH:MM local; null: off"})
    shift_end = fields.String(allow_none=True)
    travel_mode = fields.String()
    home_lat = fields.Float()
    home_lon = fields.Float()


class DispatchVisitSchema(BaseSchema):
    id = fields.Integer()
    client_id = fields.Integer()
    service_code = fields.String()
    service_name = fields.String()
    service_name_en = fields.String(allow_none=True)
    window_start = fields.String(metadata={"description": "ISO 8601 in the configured zone."})
    window_end = fields.String()
    duration_min = fields.Integer()
    required_skill = fields.String(allow_none=True)
    caregivers_needed = fields.Integer()
    status = fields.String()
    pinned = fields.Boolean()
    urgent = fields.Boolean()
    planned_start = fields.String(allow_none=True)
    caregiver_ids = fields.List(fields.Integer())
    preferred_caregiver_id = fields.Integer(allow_none=True)
    unassigned_reason = fields.String(allow_none=True)
    service_point_id = fields.Integer(allow_none=True)


class DispatchClientSchema(BaseSchema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    address = fields.String()
    street = fields.String(allow_none=True)
    lat = fields.Float()
    lon = fields.Float()
    preferred_caregiver_gender = fields.String(allow_none=True)
    refused_caregiver_ids = fields.List(fields.Integer())


class DispatchPointSchema(BaseSchema):
    id = fields.Integer()
    name = fields.String()
    kind = fields.String(metadata={"description": "centre, kitchen or canteen."})
    lat = fields.Float()
    lon = fields.Float()


class DispatchDaySchema(BaseSchema):
    date = fields.Date()
    provider_id = fields.Integer()
    timezone = fields.String()
    plan = fields.Nested(PlanSchema, allow_none=True, metadata={"description": "Newest version."})
    caregivers = fields.List(fields.Nested(DispatchCaregiverSchema))
    visits = fields.List(fields.Nested(DispatchVisitSchema))
    clients = fields.List(fields.Nested(DispatchClientSchema))
    points = fields.List(fields.Nested(DispatchPointSchema))
