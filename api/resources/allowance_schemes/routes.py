"""Allowance schemes (养老服务电子津贴): who gets how much a month; admins keep them."""

from __future__ import annotations

from typing import Any

from api.auth import current_actor, roles
from api.blueprint import Blueprint
from api.crud import read_routes
from api.resources.allowance_schemes.schemas import (
    SchemeCreateSchema,
    SchemeQuerySchema,
    SchemeSchema,
    SchemeWriteSchema,
)
from dispatch.db import Session
from dispatch.services import allowance_schemes as schemes

blp = Blueprint(
    "allowance_schemes",
    __name__,
    url_prefix="/api/v1/allowance-schemes",
    description="Allowance schemes: monthly amount by age band, care level and hardship.",
)

read_routes(
    blp,
    schemes.READERS,
    SchemeQuerySchema,
    SchemeSchema,
    schemes.list_schemes,
    schemes.get_scheme,
    listing="List allowance schemes (filter: active)",
    one="One allowance scheme",
)


@blp.route("", methods=["POST"], strict_slashes=False)
@roles(*schemes.WRITERS)
@blp.arguments(SchemeCreateSchema)
@blp.response(201, SchemeSchema)
def create(data: dict[str, Any]) -> Any:
    """Add a scheme; one overlapping an active scheme's ages, levels and hardship is refused

    422 ALLOWANCE_SCHEME_OVERLAP names the other scheme; a negative amount is a 422 too.
    """
    return schemes.create_scheme(Session(), current_actor(), data)


@blp.route("/<int:ident>", methods=["PATCH"])
@roles(*schemes.WRITERS)
@blp.arguments(SchemeWriteSchema)
@blp.response(200, SchemeSchema)
def update(data: dict[str, Any], ident: int) -> Any:
    """Change a scheme (active=false retires it); grants already made keep their amounts"""
    return schemes.update_scheme(Session(), current_actor(), ident, data)
