"""Schemas of day plans: the optimiser's request, routes, KPIs, re-planning and urgent insertion."""

from __future__ import annotations

from marshmallow import fields, validate

from api.fields import BaseSchema, Instant, QuerySchema, count, ident
from api.resources.visits.schemas import query_id
from dispatch.models import PlanStatus


class PlanRequestSchema(BaseSchema):
    date = fields.Date(required=True, metadata={"description": "The day to plan, YYYY-MM-DD."})
    provider_id = ident("Provider; platform users must give it, others get their own.")
    time_limit_s = count(1, 600, "Solver time limit in seconds")
    max_visits_per_solve = count(
        2, 100_000, "Above this many visits the day is split by street (街道) into parallel jobs"
    )


class StopSchema(BaseSchema):
    visit_id = fields.Integer(allow_none=True, metadata={"description": "None for a break."})
    kind = fields.String(metadata={"description": "visit, break or pickup (meal at a kitchen)."})
    arrival = fields.String(metadata={"description": "Arrival, ISO 8601 local time."})
    start = fields.String(metadata={"description": "Service start, ISO 8601 local time."})
    end = fields.String(metadata={"description": "Service end, ISO 8601 local time."})
    travel_min = fields.Integer(allow_none=True, metadata={"description": "Travel to this stop."})
    travel_m = fields.Integer(allow_none=True)
    kitchen_id = fields.Integer(allow_none=True)
    second_caregiver = fields.Boolean(
        metadata={"description": "This caregiver is the second of a double-staffed visit."}
    )
    edited = fields.Boolean(metadata={"description": "Moved by hand; times not re-optimised."})


class RouteSchema(BaseSchema):
    caregiver_id = fields.Integer()
    depart = fields.String()
    # "return" is a Python keyword: the attribute is read from the stored JSON key.
    return_ = fields.String(data_key="return", attribute="return")
    travel_min = fields.Integer(allow_none=True)
    travel_m = fields.Integer(allow_none=True)
    stops = fields.List(fields.Nested(StopSchema))


class UnassignedVisitSchema(BaseSchema):
    visit_id = fields.Integer()
    reason = fields.String(metadata={"description": "Stable code, e.g. NO_QUALIFIED_CAREGIVER."})
    detail = fields.String()
    action = fields.String(metadata={"description": "What the dispatcher can do about it."})
    action_zh = fields.String()


class PlanSchema(BaseSchema):
    id = fields.Integer()
    provider_id = fields.Integer()
    date = fields.Date()
    version = fields.Integer()
    status = fields.Enum(PlanStatus, by_value=True)
    parent_id = fields.Integer(allow_none=True)
    job_id = fields.String(allow_none=True)
    time_limit_s = fields.Integer()
    options = fields.Dict(allow_none=True)
    progress = fields.Dict(allow_none=True)
    kpis = fields.Dict(allow_none=True)
    stats = fields.Dict(allow_none=True)
    routes = fields.List(fields.Nested(RouteSchema), allow_none=True)
    unassigned = fields.List(fields.Nested(UnassignedVisitSchema), allow_none=True)
    error = fields.String(allow_none=True, metadata={"description": "Why it failed, in English."})
    error_zh = fields.String(allow_none=True, metadata={"description": "The same in Chinese."})
    error_code = fields.String(
        allow_none=True,
        metadata={"description": "Why it failed: PLAN_STALE, PLAN_JOB_LOST, PLAN_FAILED, ..."},
    )
    created_at = Instant()
    finished_at = Instant(allow_none=True)
    published_at = Instant(allow_none=True)


class PlanSummarySchema(BaseSchema):
    id = fields.Integer()
    provider_id = fields.Integer()
    date = fields.Date()
    version = fields.Integer()
    status = fields.Enum(PlanStatus, by_value=True)
    job_id = fields.String(allow_none=True)
    kpis = fields.Dict(allow_none=True)
    error = fields.String(allow_none=True, metadata={"description": "Why it failed, in English."})
    error_zh = fields.String(allow_none=True, metadata={"description": "The same in Chinese."})
    error_code = fields.String(
        allow_none=True,
        metadata={"description": "Why it failed: PLAN_STALE, PLAN_JOB_LOST, PLAN_FAILED, ..."},
    )
    created_at = Instant()


class PlanQuerySchema(QuerySchema):
    date = fields.Date()
    status = fields.Enum(PlanStatus, by_value=True)
    provider_id = query_id("Only this provider's plans (platform users).")


class ReplanSchema(BaseSchema):
    unavailable_caregivers = fields.List(
        ident("Caregiver id"),
        load_default=list,
        validate=validate.Length(max=1000),
        metadata={"description": "Caregivers who dropped out; they keep only what they started."},
    )
    urgent_visits = fields.List(
        ident("Visit id"),
        load_default=list,
        validate=validate.Length(max=1000),
        metadata={"description": "Visits to place first (create them with POST /visits)."},
    )
    time_limit_s = count(1, 600, "Solver time limit in seconds")
    now = Instant(
        metadata={"description": "Re-plan as of this instant (default: now, for today's plans)."}
    )


class UrgentRequestSchema(BaseSchema):
    visit_id = ident("The urgent visit (create it with POST /visits).", required=True)
    now = Instant(metadata={"description": "Insert as of this instant (default: now, for today)."})


class InsertionSchema(BaseSchema):
    visit_id = fields.Integer()
    possible = fields.Boolean()
    caregiver_id = fields.Integer(allow_none=True)
    position = fields.Integer(allow_none=True, metadata={"description": "Index in the route."})
    arrival = fields.String(allow_none=True)
    start = fields.String(allow_none=True)
    added_travel_min = fields.Integer(allow_none=True)
    reason = fields.String(allow_none=True)
    detail = fields.String()
    action = fields.String()
    action_zh = fields.String()
    took_ms = fields.Integer()
