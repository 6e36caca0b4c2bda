"""Schemas of supervision: figures, five-colour contacts, call-backs, scorecards."""

from __future__ import annotations

from marshmallow import fields, validate

from api.fields import BaseSchema, Instant, QuerySchema, count, ident, text
from api.resources.work_orders.schemas import WorkOrderSchema
from dispatch.models import CallbackStatus, ContactKind, TookPlace, VisitFrequency


def _date(description: str, **kwargs) -> fields.Date:
    return fields.Date(metadata={"description": description}, **kwargs)


def _rate(description: str) -> fields.Decimal:
    return fields.Decimal(as_string=True, allow_none=True, metadata={"description": description})


class PeriodQuerySchema(QuerySchema):
    from_ = _date("First day, YYYY-MM-DD.", data_key="from", required=True)
    to = _date("Last day, YYYY-MM-DD, included.", required=True)


class FiguresQuerySchema(PeriodQuerySchema):
    group_by = fields.String(
        load_default="street",
        validate=validate.OneOf(["street", "provider"]),
        metadata={"description": "street (街道) or provider."},
    )
    provider_id = ident("Only this provider (inside the area).", strict=False)
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "xlsx"]))


class ScorecardQuerySchema(PeriodQuerySchema):
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "xlsx"]))


class FigureRowSchema(BaseSchema):
    key = fields.String(metadata={"description": "The street, or the provider id; '-' no street."})
    name = fields.String(allow_none=True, metadata={"description": "The provider's name."})
    elders_served = fields.Integer(metadata={"description": "Distinct elders with an order."})
    visits_planned = fields.Integer(
        metadata={"description": "Visits dated in the period, not cancelled."}
    )
    visits_done = fields.Integer(metadata={"description": "Completed with the elder at home."})
    on_time_rate = _rate(
        "Orders checked in ≤ 15 min after the planned start / orders with a visit."
    )
    missed = fields.Integer(metadata={"description": "Visits missed."})
    generated = fields.Integer(metadata={"description": "The funnel's generated orders."})
    normal = fields.Integer()
    abnormal = fields.Integer(metadata={"description": "The funnel's abnormal orders."})
    abnormal_rate = _rate("abnormal / generated.")
    appealed = fields.Integer()
    not_billed = fields.Integer()
    billed = fields.Integer()
    billed_minutes = fields.Integer()
    billed_hours = fields.Decimal(as_string=True)
    billed_amount = fields.Decimal(
        as_string=True, metadata={"description": "CNY of billed orders."}
    )
    satisfaction = _rate(
        "Mean 1–5 of the call-backs' satisfaction and the families' ratings of the period."
    )
    callbacks_answered = fields.Integer()
    callbacks_denied = fields.Integer(metadata={"description": "Call-backs answered 'no'."})
    ratings = fields.Integer(metadata={"description": "Families' ratings of the period's visits."})
    complaints_open = fields.Integer(
        metadata={"description": "Complaints filed in the period, not closed (open or answered)."}
    )
    complaints_closed = fields.Integer(
        metadata={"description": "Complaints filed in the period, closed."}
    )
    calls = fields.Integer(metadata={"description": "Calls (一键呼叫) opened in the period."})
    call_to_arrival_p50_min = fields.Float(
        allow_none=True,
        metadata={"description": "Median minutes from call to the caregiver's check-in (KPIs')."},
    )
    certified = fields.Integer(metadata={"description": "Certified caregivers (养老护理员证)."})
    certified_per_10k = _rate("Certified caregivers per 10,000 elders served (target 28).")
    senior_share = _rate("Share of the certified of grade 高级 or above (target 0.18).")
    first_aid_share = _rate("Share of the certified holding a 救护员 certificate (target 0.70).")
    certified_per_10k_met = fields.Boolean(allow_none=True)
    senior_share_met = fields.Boolean(allow_none=True)
    first_aid_share_met = fields.Boolean(allow_none=True)
    contact_compliance = _rate("Share of five-colour elders not overdue on the last day.")


class TargetsSchema(BaseSchema):
    certified_per_10k = fields.Decimal(as_string=True)
    senior_share = fields.Decimal(as_string=True)
    first_aid_share = fields.Decimal(as_string=True)


class FiguresSchema(BaseSchema):
    from_ = fields.Date(data_key="from")
    to = fields.Date()
    group_by = fields.String()
    provider_id = fields.Integer(allow_none=True)
    area = fields.String(allow_none=True, metadata={"description": "The supervisor's area."})
    targets = fields.Nested(TargetsSchema)
    rows = fields.List(fields.Nested(FigureRowSchema))
    totals = fields.Nested(FigureRowSchema)


class ProviderRefSchema(BaseSchema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()


class ScorecardSchema(BaseSchema):
    from_ = fields.Date(data_key="from")
    to = fields.Date()
    provider = fields.Nested(ProviderRefSchema)
    providers_compared = fields.Integer()
    figures = fields.Nested(FigureRowSchema)
    area_median = fields.Dict(
        metadata={"description": "The median of each figure over the area's providers."}
    )
    targets = fields.Nested(TargetsSchema)


class ContactsQuerySchema(QuerySchema):
    as_of = _date("The day to judge on; today when omitted.")
    street = fields.String(validate=validate.Length(max=100))
    provider_id = ident("Only this provider's elders.", strict=False)


class ClientRefSchema(BaseSchema):
    """The elder, as supervisors and callers need them."""

    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    street = fields.String(allow_none=True)
    provider_id = fields.Integer(allow_none=True)
    phone = fields.String(allow_none=True)
    address = fields.String()


class OverdueSchema(BaseSchema):
    client = fields.Nested(ClientRefSchema)
    frequency = fields.Enum(VisitFrequency, by_value=True)
    last_contact_at = Instant(allow_none=True)
    due_at = fields.Date(metadata={"description": "The last day the contact was in time."})
    overdue_days = fields.Integer()


class ComplianceQuerySchema(QuerySchema):
    as_of = _date("The day to judge on; today when omitted.")


class ComplianceSchema(BaseSchema):
    street = fields.String(allow_none=True)
    elders = fields.Integer()
    overdue = fields.Integer()
    rate = fields.Float(allow_none=True)


class ContactSchema(BaseSchema):
    id = fields.Integer(dump_only=True)
    client_id = fields.Integer(dump_only=True)
    provider_id = fields.Integer(dump_only=True)
    kind = fields.Enum(
        ContactKind,
        by_value=True,
        required=True,
        metadata={"description": "phone, neighbour (邻里询问), pairing (结对) or visit."},
    )
    at = Instant(required=True)
    note = text(2000, "What was said or seen.", allow_none=True)
    recorded_by = fields.Integer(dump_only=True)
    created_at = Instant(dump_only=True)


class SampleSchema(BaseSchema):
    from_ = _date("First day of the period.", data_key="from", required=True)
    to = _date("Last day, included.", required=True)
    count = count(1, 100_000, "Orders per provider", allow_none=True)
    share = fields.Float(
        allow_none=True,
        validate=validate.Range(0, 1, min_inclusive=False),
        metadata={"description": "Share of each provider's orders, 0 < share ≤ 1."},
    )
    seed = fields.Integer(
        required=True, metadata={"description": "The same seed draws the same sample."}
    )
    provider_id = ident("Only this provider.", allow_none=True)


class SampleStratumSchema(BaseSchema):
    provider_id = fields.Integer()
    eligible = fields.Integer()
    sampled = fields.Integer()
    created = fields.Integer()


class SampleResultSchema(BaseSchema):
    created = fields.Integer()
    seed = fields.Integer()
    from_ = fields.Date(data_key="from")
    to = fields.Date()
    by_provider = fields.List(fields.Nested(SampleStratumSchema))
    work_order_ids = fields.List(fields.Integer())


class CallbackQuerySchema(QuerySchema):
    status = fields.Enum(CallbackStatus, by_value=True)
    took_place = fields.Enum(TookPlace, by_value=True)
    provider_id = ident("Only this provider's call-backs.", strict=False)
    work_order_id = ident("The call-back of this order.", strict=False)


class CallbackFieldsSchema(BaseSchema):
    id = fields.Integer()
    work_order_id = fields.Integer()
    provider_id = fields.Integer()
    client_id = fields.Integer()
    period_from = fields.Date()
    period_to = fields.Date()
    seed = fields.Integer()
    status = fields.Enum(CallbackStatus, by_value=True)
    reached = fields.Boolean(allow_none=True)
    took_place = fields.Enum(TookPlace, by_value=True, allow_none=True)
    satisfaction = fields.Integer(allow_none=True)
    note = fields.String(allow_none=True)
    answered_by = fields.Integer(allow_none=True)
    answered_at = Instant(allow_none=True)
    created_at = Instant()


class CallbackSchema(BaseSchema):
    callback = fields.Nested(CallbackFieldsSchema)
    work_order = fields.Nested(WorkOrderSchema)
    client = fields.Nested(ClientRefSchema)


class CallbackAnswerSchema(BaseSchema):
    reached = fields.Boolean(required=True, metadata={"description": "Was the elder reached?"})
    took_place = fields.Enum(
        TookPlace,
        by_value=True,
        load_default=None,
        allow_none=True,
        metadata={"description": "yes, no or unsure; 'no' blocks the order's approval."},
    )
    satisfaction = count(1, 5, "Stars", allow_none=True)
    note = text(2000, "What the elder said.", allow_none=True)
