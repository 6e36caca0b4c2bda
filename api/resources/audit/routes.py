"""The audit log: every decision with who, when, what and why."""

from __future__ import annotations

from typing import Any

from api.auth import roles
from api.blueprint import Blueprint
from api.crud import paged
from api.resources.audit.schemas import AuditQuerySchema
from api.resources.work_orders.schemas import AuditEntrySchema
from dispatch.models import Role
from dispatch.services import work_orders

blp = Blueprint(
    "audit",
    __name__,
    url_prefix="/api/v1/audit",
    description="The append-only audit log; provider admins see their provider's entries.",
)


@blp.route("", methods=["GET"], strict_slashes=False)
@roles(Role.provider_admin, Role.finance, Role.admin)
@blp.arguments(AuditQuerySchema, location="query")
@blp.response(200, AuditEntrySchema(many=True))
@blp.paginate()
def list_entries(args: dict[str, Any], pagination_parameters: Any) -> Any:
    """The audit log, newest first"""
    return paged(work_orders.audit_log, args, pagination_parameters)
