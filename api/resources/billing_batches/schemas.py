"""Schemas of billing batches."""

from __future__ import annotations

from marshmallow import fields, validate

from api.fields import BaseSchema, Instant, QuerySchema, ordered_pair
from dispatch.models import BatchStatus


def money(description: str) -> fields.Decimal:
    return fields.Decimal(
        as_string=True, places=2, dump_only=True, metadata={"description": f"CNY. {description}"}
    )


class BillingBatchSchema(BaseSchema):
    id = fields.Integer(dump_only=True)
    provider_id = fields.Integer(required=True)
    period_start = fields.Date(required=True, metadata={"description": "First day, YYYY-MM-DD."})
    period_end = fields.Date(required=True, metadata={"description": "Last day, inclusive."})
    status = fields.Enum(BatchStatus, by_value=True, dump_only=True)
    orders = fields.Integer(dump_only=True)
    minutes = fields.Integer(dump_only=True)
    amount = fields.Decimal(
        as_string=True,
        places=2,
        dump_only=True,
        metadata={"description": 'CNY, e.g. "1234.50": the sum of each order rounded half up.'},
    )
    funder = money("Orders' amount the funder pays: amount - allowance - copay.")
    allowance = money("Orders' amount paid from the elders' allowances (电子津贴).")
    copay = money("Orders' amount the elders co-pay (their allowance fell short).")
    meals = fields.Integer(dump_only=True, metadata={"description": "Canteen meals (全城通)."})
    meal_subsidy = money("The meals' subsidies.")
    total = money("funder + allowance + copay + meal_subsidy (= amount + meal_subsidy).")
    created_by = fields.Integer(dump_only=True, allow_none=True)
    created_at = Instant(dump_only=True)
    closed_by = fields.Integer(dump_only=True, allow_none=True)
    closed_at = Instant(dump_only=True, allow_none=True)

    _order = ordered_pair("period_start", "period_end", strict=False)


class BillingBatchQuerySchema(QuerySchema):
    provider_id = fields.Integer()
    status = fields.Enum(BatchStatus, by_value=True)


class BillingExportQuerySchema(QuerySchema):
    format = fields.String(load_default="csv", validate=validate.OneOf(["csv", "xlsx"]))
