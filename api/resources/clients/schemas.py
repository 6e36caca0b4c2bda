"""Schemas of clients (elders), their absences and refused caregivers."""

from __future__ import annotations

from marshmallow import fields, validate

from api.fields import (
    BaseSchema,
    Instant,
    QuerySchema,
    ident,
    lat_field,
    lon_field,
    ordered_pair,
    text,
)
from dispatch.models import AbsenceReason, FundingSource, Gender, VisitFrequency


class ClientSchema(BaseSchema):
    id = fields.Integer(dump_only=True)
    provider_id = ident(
        "Owning provider; platform users must give it, others get their own.", load_default=None
    )
    code = text(32, "Human code, unique per provider; timesheets refer to it.", required=True)
    name = text(100, "Full name, e.g. 王秀英.", required=True)
    gender = fields.Enum(Gender, by_value=True, allow_none=True)
    birth_date = fields.Date(allow_none=True, metadata={"description": "YYYY-MM-DD"})
    phone = text(32, "Contact phone.", allow_none=True)
    address = text(
        300, "Street and compound address, e.g. 稠城街道 宾王路 88号 3幢 201室.", required=True
    )
    street = text(100, "Sub-district (街道); large days are split by it.", allow_none=True)
    lat = lat_field(required=True)
    lon = lon_field(required=True)
    care_level = fields.Integer(
        validate=validate.Range(0, 4),
        metadata={
            "description": "能力评估等级: 0 intact, 1 mild, 2 moderate, 3 severe, 4 total loss."
        },
    )
    visit_frequency = fields.Enum(
        VisitFrequency,
        by_value=True,
        allow_none=True,
        metadata={"description": "The five colours of check-on visits."},
    )
    funding_source = fields.Enum(FundingSource, by_value=True)
    monthly_entitlement_min = fields.Integer(
        allow_none=True,
        validate=validate.Range(0, 60 * 24 * 31),
        metadata={"description": "Approved minutes of service per month."},
    )
    monthly_allowance = fields.Decimal(
        allow_none=True,
        places=2,
        as_string=True,
        validate=validate.Range(0, 1_000_000),
        metadata={"description": 'Electronic allowance (电子津贴) per month, CNY, e.g. "300.00".'},
    )
    preferred_caregiver_gender = fields.Enum(Gender, by_value=True, allow_none=True)
    language = text(32, "Language or dialect, e.g. 普通话, 义乌话.", allow_none=True)
    notes = text(2000, "Free notes for the dispatcher.", allow_none=True)
    active = fields.Boolean(metadata={"description": "false once the client left the programme."})
    created_at = Instant(dump_only=True)


class ClientQuerySchema(QuerySchema):
    active = fields.Boolean()
    code = fields.String()
    street = fields.String()
    care_level = fields.Integer()
    visit_frequency = fields.Enum(VisitFrequency, by_value=True)
    q = fields.String(metadata={"description": "Part of the name or address."})
    provider_id = ident("Only this provider's clients (platform users).", strict=False)


class AbsenceSchema(BaseSchema):
    id = fields.Integer(dump_only=True)
    client_id = fields.Integer(dump_only=True)
    start_at = Instant(required=True)
    end_at = Instant(required=True)
    reason = fields.Enum(AbsenceReason, by_value=True, required=True)
    note = text(300, "Free note.", allow_none=True)
    created_at = Instant(dump_only=True)

    _order = ordered_pair("start_at", "end_at")


class RefusalSchema(BaseSchema):
    id = fields.Integer(dump_only=True)
    client_id = fields.Integer(dump_only=True)
    caregiver_id = ident("The refused caregiver.", required=True)
    reason = text(300, "Why, as the client said it.", allow_none=True)
    created_at = Instant(dump_only=True)
