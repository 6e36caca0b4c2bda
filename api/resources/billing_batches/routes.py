"""Billing batches: a provider's approved orders for a period, closed and exported."""

from __future__ import annotations

from typing import Any

from flask import Response

from api.auth import current_actor, roles
from api.blueprint import Blueprint
from api.crud import paged
from api.resources.billing_batches.schemas import (
    BillingBatchQuerySchema,
    BillingBatchSchema,
    BillingExportQuerySchema,
)
from dispatch.db import Session
from dispatch.models import Role
from dispatch.services import billing

blp = Blueprint(
    "billing_batches",
    __name__,
    url_prefix="/api/v1/billing-batches",
    description="Billing batches: Decimal amounts, closed batches never change, CSV/XLSX export.",
)
READERS = (Role.provider_admin, Role.finance, Role.admin)


@blp.route("", methods=["POST"], strict_slashes=False)
@roles(Role.finance)
@blp.arguments(BillingBatchSchema)
@blp.response(201, BillingBatchSchema)
def create(data: dict[str, Any]) -> Any:
    """Create a batch of the provider's approved, unbilled orders started in the period"""
    return billing.create_batch(Session(), current_actor(), **data)


@blp.route("", methods=["GET"], strict_slashes=False)
@roles(*READERS)
@blp.arguments(BillingBatchQuerySchema, location="query")
@blp.response(200, BillingBatchSchema(many=True))
@blp.paginate()
def list_batches(args: dict[str, Any], pagination_parameters: Any) -> Any:
    """List billing batches"""
    return paged(billing.list_batches, args, pagination_parameters)


@blp.route("/<int:ident>", methods=["GET"])
@roles(*READERS)
@blp.response(200, BillingBatchSchema)
def get(ident: int) -> Any:
    """One billing batch"""
    return billing.get_batch(Session(), current_actor(), ident)


@blp.route("/<int:ident>", methods=["DELETE"])
@roles(Role.finance)
@blp.response(204)
def delete(ident: int) -> None:
    """Delete an open batch (its orders are approved and unbatched again); 409 once closed"""
    billing.delete_batch(Session(), current_actor(), ident)


@blp.route("/<int:ident>/close", methods=["POST"])
@roles(Role.finance)
@blp.response(200, BillingBatchSchema)
def close(ident: int) -> Any:
    """Close the batch: its orders become billed; 409 on any later change"""
    return billing.close_batch(Session(), current_actor(), ident)


@blp.route("/<int:ident>/export", methods=["GET"])
@roles(*READERS)
@blp.arguments(BillingExportQuerySchema, location="query")
@blp.response(200, content_type="text/csv")
def export(args: dict[str, Any], ident: int) -> Response:
    """Export the batch as CSV (UTF-8 with BOM) or XLSX; no cell is ever a formula"""
    content, mimetype, name = billing.export_batch(
        Session(), current_actor(), ident, args["format"]
    )
    return Response(
        content,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
