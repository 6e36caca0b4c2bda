"""Schemas of care plans (服务计划)."""

from __future__ import annotations

from marshmallow import fields, validate

from api.fields import BaseSchema, Instant, QuerySchema, count, ident, ordered_pair, text
from dispatch.models import Recurrence


class CarePlanSchema(BaseSchema):
    id = fields.Integer(dump_only=True)
    provider_id = ident(
        "Owning provider; platform users must give it, others get their own.", load_default=None
    )
    client_id = ident("The client served.", required=True)
    service_type_id = ident("The service from the catalogue.", required=True)
    recurrence = fields.Enum(
        Recurrence,
        by_value=True,
        required=True,
        metadata={
            "description": "weekly (days_of_week), every_n_days (interval_days), monthly, "
            "quarterly, half_yearly (day_of_month)."
        },
    )
    days_of_week = fields.List(
        fields.Integer(strict=True, validate=validate.Range(0, 6)),
        allow_none=True,
        validate=validate.Length(max=7),
        metadata={"description": "For weekly plans: 0=Monday .. 6=Sunday."},
    )
    interval_days = count(1, 366, "For every_n_days plans", allow_none=True)
    day_of_month = count(
        1, 31, "For monthly and longer plans (clamped to the month)", allow_none=True
    )
    start_date = fields.Date(required=True, metadata={"description": "First day, YYYY-MM-DD."})
    end_date = fields.Date(allow_none=True, metadata={"description": "Last day, or open-ended."})
    window_start = fields.Time(
        required=True, metadata={"description": "Earliest start, local HH:MM."}
    )
    window_end = fields.Time(
        required=True, metadata={"description": "Latest end, local HH:MM; after window_start."}
    )
    duration_min = count(1, 24 * 60, "Minutes of service", required=True)
    preferred_caregiver_id = ident("Usual caregiver (continuity of care).", allow_none=True)
    service_point_id = ident("Kitchen for meal delivery.", allow_none=True)
    priority = count(0, 10, "Higher is placed first when not all visits fit")
    notes = text(300, "Free notes.", allow_none=True)
    active = fields.Boolean(metadata={"description": "false once the plan ended."})
    created_at = Instant(dump_only=True)

    _window = ordered_pair("window_start", "window_end")
    _dates = ordered_pair("start_date", "end_date", strict=False)


class CarePlanQuerySchema(QuerySchema):
    active = fields.Boolean()
    client_id = ident("Only this client's plans.", strict=False)
    service_type_id = ident("Only this service.", strict=False)
    preferred_caregiver_id = ident("Only plans preferring this caregiver.", strict=False)
    provider_id = ident("Only this provider's plans (platform users).", strict=False)
