"""Schemas of allowance schemes: age band, care levels, hardship category, amounts in CNY."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from api.fields import BaseSchema, Instant, QuerySchema, count, text
from dispatch.services.allowance_schemes import to_yuan

MAX_CNY = 1_000_000


class Fen(fields.Decimal):
    """Money kept in whole fen, shown as a CNY decimal string ("123.50")."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(as_string=True, places=2, dump_only=True, **kwargs)

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> Any:
        return None if value is None else super()._serialize(to_yuan(value), attr, obj, **kwargs)


def cny(description: str, **kwargs: Any) -> fields.Decimal:
    return fields.Decimal(
        as_string=True,
        places=2,
        validate=validate.Range(0, MAX_CNY),
        metadata={"description": f"{description} CNY as a decimal string, 0..{MAX_CNY}."},
        **kwargs,
    )


class SchemeWriteSchema(BaseSchema):
    name = text(100, "e.g. 高龄电子津贴 80-89 岁.")
    age_min = count(0, 150, "Youngest age paid, inclusive; none: no lower bound.", allow_none=True)
    age_max = count(0, 150, "Oldest age paid, inclusive; none: no upper bound.", allow_none=True)
    care_levels = fields.List(
        fields.Integer(strict=True, validate=validate.Range(0, 4)),
        allow_none=True,
        validate=validate.Length(max=5),
        metadata={"description": "Care levels (0..4) paid; none: every level."},
    )
    hardship = text(
        32, "Hardship category paid (e.g. 低保, 特困); none: any elder.", allow_none=True
    )
    monthly_amount = cny('Granted each month, e.g. "100.00".')
    meal_subsidy = cny("Subsidy per canteen meal (全城通) for elders of this scheme.")
    services = fields.List(
        text(16, "A service code of the catalogue."),
        validate=validate.Length(max=50),
        metadata={"description": "Service codes the allowance pays for (e.g. CLEAN, BATH)."},
    )
    carry_over_months = count(0, 120, "Months an unspent grant stays spendable after its own.")
    active = fields.Boolean()


class SchemeCreateSchema(SchemeWriteSchema):
    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        super().on_bind_field(field_name, field_obj)
        if field_name in ("name", "monthly_amount", "services"):
            field_obj.required = True


class SchemeSchema(BaseSchema):
    id = fields.Integer()
    name = fields.String()
    age_min = fields.Integer(allow_none=True)
    age_max = fields.Integer(allow_none=True)
    care_levels = fields.List(fields.Integer(), allow_none=True)
    hardship = fields.String(allow_none=True)
    monthly_amount = Fen(attribute="monthly_amount_fen")
    meal_subsidy = Fen(attribute="meal_subsidy_fen")
    services = fields.List(fields.String())
    carry_over_months = fields.Integer()
    active = fields.Boolean()
    created_at = Instant()


class SchemeQuerySchema(QuerySchema):
    active = fields.Boolean()
