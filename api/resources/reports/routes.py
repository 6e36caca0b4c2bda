"""Reports: the validation funnel per provider and period."""

from __future__ import annotations

from typing import Any

from api.auth import current_actor, roles
from api.blueprint import Blueprint
from api.resources.reports.schemas import FunnelQuerySchema, FunnelSchema
from dispatch.db import Session
from dispatch.models import Role
from dispatch.services import reports

blp = Blueprint(
    "reports",
    __name__,
    url_prefix="/api/v1/reports",
    description="Reports: the funnel from generated work orders to billed hours.",
)


@blp.route("/funnel", methods=["GET"])
@roles(Role.finance, Role.admin, Role.provider_admin, Role.supervisor)
@blp.arguments(FunnelQuerySchema, location="query")
@blp.response(200, FunnelSchema)
def funnel(args: dict[str, Any]) -> Any:
    """Generated, normal, abnormal, appealed, not billed, billed and billed hours"""
    return reports.funnel(
        Session(), current_actor(), args["from_"], args["to"], args.get("provider_id")
    )
