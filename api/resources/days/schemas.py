"""Schemas of a day: generating its visits and its live board."""

from __future__ import annotations

from marshmallow import fields, validate

from api.fields import BaseSchema, Instant, QuerySchema, ident
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
        metadata={"description": "scheduled, late, in_progress, completed or missed."}
    )
    alerts = fields.List(fields.String(), metadata={"description": "late, missed"})
    late_min = fields.Integer(allow_none=True)
    client = fields.Nested(BoardClientSchema)
    service_code = fields.String()
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
