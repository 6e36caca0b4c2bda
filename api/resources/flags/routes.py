"""Flags: what the validation rules found on work orders, with evidence."""

from __future__ import annotations

from typing import Any

from api.auth import roles
from api.blueprint import Blueprint
from api.crud import paged
from api.resources.flags.schemas import FlagQuerySchema, FlagSchema
from dispatch.models import Role
from dispatch.services import rules

blp = Blueprint(
    "flags",
    __name__,
    url_prefix="/api/v1/flags",
    description="Flags (异常) raised by the validation rules on work orders.",
)


@blp.route("", strict_slashes=False, methods=["GET"])
@roles(Role.finance, Role.admin, Role.provider_admin, Role.dispatcher, Role.supervisor)
@blp.arguments(FlagQuerySchema, location="query")
@blp.response(200, FlagSchema(many=True))
@blp.paginate()
def list_flags(args: dict[str, Any], pagination_parameters: Any) -> Any:
    """List flags, filtered by status, code, severity, provider or work order"""
    return paged(rules.list_flags, args, pagination_parameters)
