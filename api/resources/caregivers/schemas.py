"""Schemas of caregivers (护理员), their skills, certificates and shifts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from marshmallow import fields, validate

from api.fields import (
    BaseSchema,
    Instant,
    QuerySchema,
    count,
    ident,
    lat_field,
    lon_field,
    ordered_pair,
    text,
)
from dispatch import config
from dispatch.models import CaregiverGrade, Gender, TravelMode


class CaregiverSkillSchema(BaseSchema):
    id = fields.Integer(dump_only=True)
    caregiver_id = fields.Integer(dump_only=True)
    skill = text(32, "Skill code, matching a service's required_skill, e.g. BATH.", required=True)


class CaregiverSchema(BaseSchema):
    id = fields.Integer(dump_only=True)
    provider_id = ident(
        "Owning provider; platform users must give it, others get their own.", load_default=None
    )
    code = text(32, "Human code, unique per provider; timesheets refer to it.", required=True)
    name = text(100, "Full name, e.g. 李春梅.", required=True)
    gender = fields.Enum(Gender, by_value=True, required=True)
    phone = text(32, "Mobile phone.", allow_none=True)
    home_address = text(300, "Home address.", allow_none=True)
    street = text(100, "Sub-district (街道) the caregiver works from.", allow_none=True)
    grade = fields.Enum(
        CaregiverGrade,
        by_value=True,
        allow_none=True,
        metadata={
            "description": "养老护理员 grade: junior 初级, intermediate 中级, senior 高级, "
            "technician 技师, senior_technician 高级技师."
        },
    )
    home_lat = lat_field(required=True)
    home_lon = lon_field(required=True)
    start_point_id = ident(
        "Service point where the day starts and ends; empty means at home.", allow_none=True
    )
    travel_mode = fields.Enum(
        TravelMode, by_value=True, metadata={"description": "walk, ebike (default) or car."}
    )
    max_minutes_per_day = count(0, 24 * 60, "Most working minutes in a day")
    break_minutes = count(0, 240, "Length of the lunch break in minutes")
    break_earliest = fields.Time(
        allow_none=True, metadata={"description": "Earliest lunch-break start, HH:MM."}
    )
    break_latest = fields.Time(
        allow_none=True, metadata={"description": "Latest lunch-break start, HH:MM."}
    )
    box_capacity = count(0, 100, "Meal boxes carried at once (meal delivery)")
    languages = text(100, "Languages or dialects spoken, comma separated.", allow_none=True)
    active = fields.Boolean(metadata={"description": "false once the caregiver left."})
    created_at = Instant(dump_only=True)
    skills = fields.Pluck(
        CaregiverSkillSchema,
        "skill",
        many=True,
        dump_only=True,
        metadata={"description": "Skill codes; change them under /caregivers/{id}/skills."},
    )

    _break = ordered_pair("break_earliest", "break_latest", strict=False)


class CaregiverQuerySchema(QuerySchema):
    active = fields.Boolean()
    street = fields.String(metadata={"description": "Exact street (街道)."})
    code = fields.String(metadata={"description": "Exact caregiver code."})
    gender = fields.Enum(Gender, by_value=True)
    skill = fields.String(metadata={"description": "Only caregivers with this skill."})
    q = fields.String(metadata={"description": "Part of the name."})
    provider_id = ident("Only this provider's caregivers (platform users).", strict=False)


class CertificateSchema(BaseSchema):
    id = fields.Integer(dump_only=True)
    caregiver_id = fields.Integer(dump_only=True)
    kind = text(64, "Certificate, e.g. 养老护理员证, 健康证.", required=True)
    number = text(64, "Certificate number.", allow_none=True)
    skill = text(32, "Skill this certificate proves, e.g. NURSE.", allow_none=True)
    issued_on = fields.Date(allow_none=True, metadata={"description": "YYYY-MM-DD"})
    expires_on = fields.Date(
        allow_none=True,
        metadata={"description": "YYYY-MM-DD; after it the skill no longer counts."},
    )
    expired = fields.Method(
        "_expired", dump_only=True, metadata={"description": "Expired as of today (local date)."}
    )

    _order = ordered_pair("issued_on", "expires_on")

    def _expired(self, obj: Any) -> bool:
        today = datetime.now(config.zone()).date()
        return obj.expires_on is not None and obj.expires_on < today


class TrainingSchema(BaseSchema):
    id = fields.Integer(dump_only=True)
    caregiver_id = fields.Integer(dump_only=True)
    course = text(200, "Course attended, e.g. 失智老人照护培训.", required=True)
    on_date = fields.Date(required=True, metadata={"description": "YYYY-MM-DD"})
    hours = fields.Decimal(
        as_string=True,
        places=1,
        required=True,
        validate=validate.Range(0, 2000, min_inclusive=False),
        metadata={"description": 'Hours of training, e.g. "16.0".'},
    )
    provider_name = text(200, "Who taught it.", allow_none=True)
    created_at = Instant(dump_only=True)


class ShiftSchema(BaseSchema):
    id = fields.Integer(dump_only=True)
    caregiver_id = fields.Integer(dump_only=True)
    weekday = count(0, 6, "Weekly shift on this weekday, 0=Monday", allow_none=True)
    on_date = fields.Date(
        allow_none=True, metadata={"description": "A shift (or day off) on one date instead."}
    )
    start_time = fields.Time(allow_none=True, metadata={"description": "HH:MM local time."})
    end_time = fields.Time(allow_none=True, metadata={"description": "HH:MM local time."})
    off = fields.Boolean(metadata={"description": "true: a day off (on_date) overriding the week."})

    _order = ordered_pair("start_time", "end_time")
