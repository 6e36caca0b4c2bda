"""Users: platform admins manage everyone, provider admins the staff of their own provider."""

from __future__ import annotations

from typing import Any

from api.auth import current_actor, roles
from api.blueprint import Blueprint
from api.crud import lister, paged
from api.resources.users.schemas import UserQuerySchema, UserSchema, UserUpdateSchema
from dispatch.db import Session
from dispatch.services import crud, users
from dispatch.services.catalog import USERS

blp = Blueprint(
    "users",
    __name__,
    url_prefix="/api/v1/users",
    description="Logins and roles. Passwords are stored as Argon2 hashes and never shown.",
)


@blp.route("", endpoint="list", strict_slashes=False, methods=["GET"])
@roles(*USERS.read_roles)
@blp.arguments(UserQuerySchema, location="query")
@blp.response(200, UserSchema(many=True))
@blp.paginate()
def list_users(args: dict[str, Any], pagination_parameters: Any) -> Any:
    """List users

    Provider admins see the users of their own provider only.
    """
    return paged(lister(USERS), args, pagination_parameters)


@blp.route("", endpoint="create", strict_slashes=False, methods=["POST"])
@roles(*USERS.write_roles)
@blp.arguments(UserSchema)
@blp.response(201, UserSchema)
def create_user(data: dict[str, Any]) -> Any:
    """Create a user

    A caregiver user links to a caregiver of the same provider. Provider admins may not
    create finance or admin users, nor users of another provider.
    """
    return users.create_user(Session(), current_actor(), data)


@blp.route("/<int:ident>", endpoint="get", methods=["GET"])
@roles(*USERS.read_roles)
@blp.response(200, UserSchema)
def get_user(ident: int) -> Any:
    """Get one user"""
    return crud.get_row(Session(), current_actor(), USERS, ident)


@blp.route("/<int:ident>", endpoint="update", methods=["PATCH"])
@roles(*USERS.write_roles)
@blp.arguments(UserUpdateSchema)
@blp.response(200, UserSchema)
def update_user(data: dict[str, Any], ident: int) -> Any:
    """Change a user

    A new password revokes every token the user holds.
    """
    return users.update_user(Session(), current_actor(), ident, data)


@blp.route("/<int:ident>", endpoint="delete", methods=["DELETE"])
@roles(*USERS.write_roles)
@blp.response(204)
def deactivate_user(ident: int) -> None:
    """Deactivate a user

    The user keeps their history but can no longer log in; their tokens stop working.
    """
    users.deactivate_user(Session(), current_actor(), ident)
