"""Schemas of users; passwords go in, never out."""

from __future__ import annotations

from marshmallow import fields, validate

from api.fields import BaseSchema, Instant, QuerySchema, ident, no_control_chars, text
from dispatch.models import Role

ROLE_HELP = (
    "caregiver, dispatcher, provider_admin (bound to one provider), finance or admin "
    "(platform level), supervisor (read-only, bound to an area). Provider admins may grant "
    "only the provider roles."
)


def _area() -> tuple[fields.String, fields.List]:
    district = text(
        100,
        "Supervisors only: the district (区/县级市) they oversee, as providers name it, "
        "e.g. 义乌市.",
        allow_none=True,
    )
    streets = fields.List(
        fields.String(validate=[validate.Length(min=1, max=100), no_control_chars]),
        allow_none=True,
        validate=validate.Length(max=200),
        metadata={
            "description": "Supervisors only: the streets (街道) of a street supervisor; "
            "empty or absent for the whole district."
        },
    )
    return district, streets


def _username(required: bool) -> fields.String:
    return fields.String(
        required=required,
        validate=[
            validate.Length(min=1, max=64),
            validate.Regexp(r"^[A-Za-z0-9_.@-]+$", error="Use letters, digits and _ . @ - only."),
        ],
        metadata={"description": "Login name: letters, digits, _ . @ -."},
    )


def _password(required: bool) -> fields.String:
    return fields.String(
        required=required,
        load_only=True,
        validate=validate.Length(max=256),
        metadata={
            "description": "At least 8 characters; stored as an Argon2 hash, never shown. "
            "Changing it logs the user out everywhere."
        },
    )


class UserSchema(BaseSchema):
    id = fields.Integer(dump_only=True)
    username = _username(required=True)
    password = _password(required=True)
    role = fields.Enum(Role, by_value=True, required=True, metadata={"description": ROLE_HELP})
    provider_id = ident(
        "Provider of a provider-level user; provider admins get their own; empty for "
        "finance and admin.",
        load_default=None,
        allow_none=True,
    )
    caregiver_id = ident(
        "For caregiver users: the caregiver (same provider) this login belongs to.",
        allow_none=True,
    )
    display_name = text(100, "Name shown in the apps, e.g. 张调度.", allow_none=True)
    area_district, area_streets = _area()
    active = fields.Boolean(metadata={"description": "false: the user can no longer log in."})
    created_at = Instant(dump_only=True)
    last_login_at = Instant(dump_only=True, allow_none=True)


class UserUpdateSchema(BaseSchema):
    """What a PATCH may change; the provider of a user is fixed."""

    username = _username(required=False)
    password = _password(required=False)
    role = fields.Enum(Role, by_value=True, metadata={"description": ROLE_HELP})
    caregiver_id = ident("For caregiver users: the linked caregiver.", allow_none=True)
    display_name = text(100, "Name shown in the apps.", allow_none=True)
    area_district, area_streets = _area()
    active = fields.Boolean(metadata={"description": "false: the user can no longer log in."})


class UserQuerySchema(QuerySchema):
    active = fields.Boolean()
    role = fields.Enum(Role, by_value=True)
    provider_id = ident("Only this provider's users (platform admins).", strict=False)
    q = fields.String(metadata={"description": "Part of the username or display name."})
