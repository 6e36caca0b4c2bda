"""Work orders: providers see theirs with flags; finance reviews, decides and bulk-approves."""

from __future__ import annotations

from typing import Any

from api.auth import current_actor, roles
from api.blueprint import Blueprint
from api.crud import paged
from api.resources.work_orders.schemas import (
    AuditEntrySchema,
    BulkApproveResultSchema,
    BulkApproveSchema,
    ClientEntitlementSchema,
    EntitlementQuerySchema,
    WorkOrderDecisionSchema,
    WorkOrderDetailSchema,
    WorkOrderQuerySchema,
    WorkOrderSchema,
)
from dispatch.db import Session
from dispatch.models import Role
from dispatch.services import decisions, entitlements, work_orders

blp = Blueprint(
    "work_orders",
    __name__,
    url_prefix="/api/v1",
    description="Work orders (服务工单) with their flags; finance decisions; entitlements.",
)
READERS = (Role.dispatcher, Role.provider_admin, Role.finance, Role.admin)
# A supervisor reads the orders of its area (and their flags), not their audit history.
AREA_READERS = (*READERS, Role.supervisor)


@blp.route("/work-orders", methods=["GET"])
@roles(*AREA_READERS)
@blp.arguments(WorkOrderQuerySchema, location="query")
@blp.response(200, WorkOrderSchema(many=True))
@blp.paginate()
def list_orders(args: dict[str, Any], pagination_parameters: Any) -> Any:
    """List work orders with their flags

    Providers see their own; finance and admin all. `open_flags=true` is finance's review
    queue: orders with an open block or review flag, each with the evidence.
    """
    return paged(work_orders.list_orders, args, pagination_parameters)


@blp.route("/work-orders/<int:ident>", methods=["GET"])
@roles(*AREA_READERS)
@blp.response(200, WorkOrderDetailSchema)
def get_order(ident: int) -> Any:
    """One work order, with flags, appeals and what approving it does to the entitlement"""
    return work_orders.get_order(Session(), current_actor(), ident)


@blp.route("/work-orders/<int:ident>/history", methods=["GET"])
@roles(*READERS)
@blp.response(200, AuditEntrySchema(many=True))
def history(ident: int) -> Any:
    """The order's whole history: every audited change, who, when and why"""
    return work_orders.history(Session(), current_actor(), ident)


@blp.route("/work-orders/<int:ident>/decision", methods=["POST"])
@roles(Role.finance)
@blp.arguments(WorkOrderDecisionSchema)
@blp.response(200, WorkOrderDetailSchema)
def decide(data: dict[str, Any], ident: int) -> Any:
    """Approve or reject an order

    Approval answers 409 `FLAGS_OPEN` while an open block/review flag is not listed in
    `override_flags`; listed flags become overridden with the reason. 409 `BATCH_CLOSED` once
    the order is billed.
    """
    return decisions.decide(Session(), current_actor(), ident, **data)


@blp.route("/work-orders:bulk-approve", methods=["POST"])
@roles(Role.finance)
@blp.arguments(BulkApproveSchema)
@blp.response(200, BulkApproveResultSchema)
def bulk_approve(data: dict[str, Any]) -> Any:
    """Approve verified orders in bulk; the answer lists those refused and why"""
    filters = data.get("filter")
    return decisions.bulk_approve(
        Session(), current_actor(), data.get("ids"), filters, data.get("reason")
    )


@blp.route("/clients/<int:client_id>/entitlement", methods=["GET"])
@roles(*READERS)
@blp.arguments(EntitlementQuerySchema, location="query")
@blp.response(200, ClientEntitlementSchema)
def entitlement(args: dict[str, Any], client_id: int) -> Any:
    """A client's approved and pending minutes in a month against the entitlement"""
    return entitlements.client_month(Session(), current_actor(), client_id, args["month"])
