"""Schemas of allowance accounts: the monthly statement, grants and month close."""

from __future__ import annotations

from marshmallow import fields, validate

from api.fields import BaseSchema, Instant, QuerySchema, text
from api.resources.allowance_schemes.schemas import Fen

MONTH = validate.Regexp(r"^\d{4}-\d{2}$", error="Use YYYY-MM, e.g. 2026-11.")


def month_field(description: str, **kwargs: object) -> fields.String:
    return fields.String(validate=MONTH, metadata={"description": description}, **kwargs)


class EntrySchema(BaseSchema):
    id = fields.Integer()
    month = fields.Date(format="%Y-%m")
    kind = fields.String(attribute="kind.value")
    amount = Fen(attribute="amount_fen", metadata={"description": "Change of the balance."})
    copay = Fen(attribute="copay_fen", metadata={"description": "Co-payment the elder owes."})
    order_amount = Fen(attribute="order_amount_fen", allow_none=True)
    balance_after = Fen(attribute="balance_after_fen")
    work_order_id = fields.Integer(allow_none=True)
    scheme_id = fields.Integer(allow_none=True)
    reverses_id = fields.Integer(allow_none=True)
    expires_after = fields.Date(format="%Y-%m", allow_none=True)
    note = fields.String(allow_none=True)
    created_at = Instant()


class StatementSchema(BaseSchema):
    client_id = fields.Integer()
    account_id = fields.Integer(allow_none=True)
    month = fields.String()
    closed = fields.Boolean(metadata={"description": "The month is closed: nothing changes."})
    hardship = fields.String(allow_none=True)
    card_no = fields.String(allow_none=True)
    face_id = fields.String(allow_none=True)
    opening = Fen()
    granted = Fen()
    debited = Fen()
    credited = Fen()
    copay = Fen()
    expired = Fen()
    closing = Fen()
    balance = Fen(metadata={"description": "The balance now (all months)."})
    entries = fields.List(fields.Nested(EntrySchema))


class StatementQuerySchema(QuerySchema):
    month = month_field("YYYY-MM; default: this month.")


class AccountUpdateSchema(BaseSchema):
    hardship = text(
        32,
        "The elder's hardship category (低保, 特困, ...), or null.",
        required=True,
        allow_none=True,
    )


class GrantSchema(BaseSchema):
    month = month_field("The month to grant, YYYY-MM (at most next month).", required=True)


class GrantResultSchema(BaseSchema):
    month = fields.Date(format="%Y-%m")
    entries = fields.Integer(metadata={"description": "Grants made now (repeats add none)."})
    granted = fields.Decimal(as_string=True, places=2)


class MonthSchema(BaseSchema):
    month = fields.Date(format="%Y-%m")
    closed_at = Instant()
    closed_by = fields.Integer(allow_none=True)
    accounts = fields.Integer()
    expired = Fen(attribute="expired_fen")
    summary = fields.Dict(metadata={"description": "Totals of the month in fen."})
