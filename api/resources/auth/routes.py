"""Login, token refresh and who am I."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_jwt_extended import create_access_token, create_refresh_token, get_jwt

from api.auth import claims_for, current_actor, roles
from api.blueprint import Blueprint
from api.resources.auth.schemas import AccessTokenSchema, LoginSchema, TokensSchema
from api.resources.users.schemas import UserSchema
from dispatch.db import Session
from dispatch.services.auth import actor_of, authenticate, current_user

# Prefixed /api/v1 (not /api/v1/auth) so that /me can live here beside /auth/*.
blp = Blueprint(
    "auth", __name__, url_prefix="/api/v1", description="Log in, renew tokens, who am I."
)


@blp.route("/auth/login", methods=["POST"])
@blp.arguments(LoginSchema)
@blp.response(200, TokensSchema)
@blp.alt_response(401, description="Wrong username or password.")
@blp.alt_response(
    429,
    description="Too many failed logins for this account or address; wait Retry-After seconds.",
)
@blp.doc(security=[])
def login(data: dict[str, Any]) -> Any:
    """Log in with username and password

    Answers an access token, a refresh token and who you are.
    """
    user = authenticate(Session(), data["username"], data["password"], request.remote_addr or "")
    claims = claims_for(actor_of(user), user.token_version)
    return {
        "access_token": create_access_token(identity=str(user.id), additional_claims=claims),
        "refresh_token": create_refresh_token(identity=str(user.id), additional_claims=claims),
        "user": user,
    }


@blp.route("/auth/refresh", methods=["POST"])
@roles(refresh=True)
@blp.response(200, AccessTokenSchema)
def refresh() -> Any:
    """Renew the access token (send the refresh token as bearer)"""
    actor = current_actor()
    claims = claims_for(actor, int(get_jwt().get("tv", 0)))
    return {
        "access_token": create_access_token(identity=str(actor.user_id), additional_claims=claims)
    }


@blp.route("/me", methods=["GET"])
@roles()
@blp.response(200, UserSchema)
def me() -> Any:
    """The user the token stands for"""
    return current_user(Session(), current_actor())
