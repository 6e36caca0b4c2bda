"""Schemas of the auth endpoints."""

from __future__ import annotations

from marshmallow import fields

from api.fields import BaseSchema, text


class LoginSchema(BaseSchema):
    username = text(64, "Login name.", required=True)
    password = fields.String(
        required=True, load_only=True, metadata={"description": "Password (never echoed)."}
    )


class UserBriefSchema(BaseSchema):
    id = fields.Integer()
    username = fields.String()
    role = fields.String(
        metadata={"description": "caregiver, dispatcher, provider_admin, finance or admin"}
    )
    provider_id = fields.Integer(allow_none=True)
    caregiver_id = fields.Integer(allow_none=True)
    display_name = fields.String(allow_none=True)


class TokensSchema(BaseSchema):
    access_token = fields.String(metadata={"description": "Short-lived bearer token (30 min)."})
    refresh_token = fields.String(metadata={"description": "Renews the access token (14 days)."})
    user = fields.Nested(UserBriefSchema)


class AccessTokenSchema(BaseSchema):
    access_token = fields.String()
