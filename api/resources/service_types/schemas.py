"""Schemas of the service catalogue."""

from __future__ import annotations

from marshmallow import fields, validate

from api.fields import BaseSchema, QuerySchema, count, text
from dispatch.models import BillingUnit


class ServiceTypeSchema(BaseSchema):
    id = fields.Integer(dump_only=True)
    code = text(16, "Catalogue code, e.g. MEAL, CLEAN, BATH.", required=True)
    name = text(64, "Chinese name, e.g. 助餐.", required=True)
    name_en = text(64, "English name, e.g. meal delivery.", allow_none=True)
    default_duration_min = count(1, 24 * 60, "Usual duration in minutes", required=True)
    required_skill = text(32, "Skill a caregiver needs, e.g. BATH; empty if none.", allow_none=True)
    caregivers_needed = count(1, 2, "Caregivers who go together (bathing a bed-bound elder: 2)")
    photo_required = fields.Boolean(metadata={"description": "Check-in/out needs photo proof."})
    is_meal = fields.Boolean(
        metadata={"description": "Meal delivery: picked up at a kitchen, delivered in time."}
    )
    billing_unit = fields.Enum(
        BillingUnit,
        by_value=True,
        required=True,
        metadata={"description": "visit (fixed rate per visit) or hour (rate per billable hour)."},
    )
    rate = fields.Decimal(
        as_string=True,
        places=2,
        required=True,
        validate=validate.Range(0, 100_000),
        metadata={"description": 'Rate in CNY per unit, e.g. "40.00".'},
    )
    active = fields.Boolean(metadata={"description": "false once withdrawn from the catalogue."})


class ServiceTypeQuerySchema(QuerySchema):
    active = fields.Boolean()
    code = fields.String(metadata={"description": "Exact catalogue code."})
