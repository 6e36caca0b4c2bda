"""Schemas of canteen meals (全城通) and of a canteen's hours and prices."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from api.fields import BaseSchema, Instant, QuerySchema, ident, no_offset, text
from api.resources.allowance_schemes.schemas import Fen, cny
from dispatch.models import FlagStatus, MealMethod, MealSlot, MealStatus, Severity

WHO = ("card_no", "client_code", "face_id")


class MealCreateSchema(BaseSchema):
    card_no = text(32, "The elder's social-security or allowance card number.")
    client_code = text(32, "The elder's client code (the canteen's provider first).")
    face_id = text(64, "The id the terminal's face match returned.")
    canteen_id = ident("The canteen (staff only; a terminal's canteen is its own).")
    served_at = Instant(required=True)
    slot = fields.Enum(MealSlot, by_value=True, required=True)
    method = fields.Enum(
        MealMethod, by_value=True, required=True, metadata={"description": "card, face or manual."}
    )
    idempotency_key = text(
        100, "Made by the terminal per meal; its retry sends the same key.", required=True
    )

    @validates_schema
    def _one_elder(self, data: dict[str, Any], **_kw: Any) -> None:
        given = [name for name in WHO if data.get(name)]
        if len(given) != 1:
            raise ValidationError(
                "Name the elder by exactly one of card_no, client_code or face_id.",
                field_name="card_no",
            )


class MealFlagSchema(BaseSchema):
    id = fields.Integer()
    code = fields.String()
    severity = fields.Enum(Severity, by_value=True)
    status = fields.Enum(FlagStatus, by_value=True)
    other_meal_id = fields.Integer()
    evidence = fields.Dict()
    created_at = Instant()


class MealSchema(BaseSchema):
    id = fields.Integer()
    client_id = fields.Integer()
    canteen_id = fields.Integer()
    provider_id = fields.Integer()
    device_id = fields.Integer(allow_none=True)
    served_at = Instant()
    day = fields.Date()
    slot = fields.Enum(MealSlot, by_value=True)
    method = fields.Enum(MealMethod, by_value=True)
    price = Fen(attribute="price_fen")
    subsidy = Fen(attribute="subsidy_fen", metadata={"description": "Paid by the scheme."})
    price_to_pay = Fen(attribute="price_to_pay_fen", metadata={"description": "At the counter."})
    status = fields.Enum(
        MealStatus, by_value=True, metadata={"description": "flagged: held from billing."}
    )
    billing_batch_id = fields.Integer(allow_none=True)
    flags = fields.List(fields.Nested(MealFlagSchema))


class MealQuerySchema(QuerySchema):
    canteen_id = ident("Meals at this canteen.", strict=False)
    client_id = ident("Meals of this elder.", strict=False)
    date = fields.Date(metadata={"description": "Local date served, YYYY-MM-DD."})
    status = fields.Enum(MealStatus, by_value=True)


class SlotSchema(BaseSchema):
    start = fields.Time(required=True, validate=no_offset, metadata={"description": "HH:MM"})
    end = fields.Time(required=True, validate=no_offset, metadata={"description": "HH:MM"})
    price = cny("The meal's full price.", required=True)


class SlotShownSchema(BaseSchema):
    start = fields.String()
    end = fields.String()
    price = Fen(attribute="price_fen")


class CanteenWriteSchema(BaseSchema):
    slots = fields.Dict(
        keys=fields.String(validate=validate.OneOf([s.value for s in MealSlot])),
        values=fields.Nested(SlotSchema),
        required=True,
        validate=validate.Length(min=1),
        metadata={"description": "breakfast, lunch, dinner: hours (local) and price."},
    )


class CanteenSchema(BaseSchema):
    service_point_id = fields.Integer()
    slots = fields.Dict(keys=fields.String(), values=fields.Nested(SlotShownSchema))


class MealDecisionSchema(BaseSchema):
    decision = fields.String(
        required=True,
        validate=validate.OneOf(["accept", "reject"]),
        metadata={"description": "accept: override the open flags, bill it; reject: never bill."},
    )
    reason = text(1000, "Why; audited.", required=True)
