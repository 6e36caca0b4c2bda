"""À-la-carte orders (点单): ordered by a family member or a dispatcher, accepted or declined."""

from __future__ import annotations

from typing import Any

from api.auth import current_actor, roles
from api.blueprint import Blueprint
from api.crud import read_routes
from api.resources.orders.schemas import (
    CoverageSchema,
    OrderAcceptSchema,
    OrderCreateSchema,
    OrderDeclineSchema,
    OrderQuerySchema,
    OrderSchema,
)
from dispatch.db import Session
from dispatch.services import orders

blp = Blueprint(
    "orders",
    __name__,
    url_prefix="/api/v1/orders",
    description="Services ordered à la carte (点单): requested → accepted (a visit) | declined.",
)


@blp.route("", methods=["POST"], strict_slashes=False)
@roles(*orders.ORDERERS)
@blp.arguments(OrderCreateSchema)
@blp.response(201, OrderSchema)
def place(data: dict[str, Any]) -> Any:
    """Order a catalogue service for an elder; the answer shows what covers it

    A code outside the catalogue is 422 SERVICE_NOT_IN_CATALOGUE.
    """
    return orders.place(Session(), current_actor(), data)


@blp.route("/quote", methods=["POST"])
@roles(*orders.ORDERERS)
@blp.arguments(OrderCreateSchema)
@blp.response(200, CoverageSchema)
def quote(data: dict[str, Any]) -> Any:
    """What an order would cost the elder, before ordering: price, what is left, co-payment

    The same body and checks as POST /orders (the same coded 422s); nothing is stored.
    """
    return orders.quote(Session(), current_actor(), data)


read_routes(
    blp,
    orders.READERS,
    OrderQuerySchema,
    OrderSchema,
    orders.list_orders,
    orders.get_order,
    listing="Orders, newest first (a family member: for the elders linked to them)",
    one="One order and its state",
)


@blp.route("/<int:ident>/accept", methods=["POST"])
@roles(*orders.DECIDERS)
@blp.arguments(OrderAcceptSchema)
@blp.response(200, OrderSchema)
def accept(data: dict[str, Any], ident: int) -> Any:
    """Accept: the order becomes a visit of its date, planned with the rest"""
    return orders.accept(Session(), current_actor(), ident, data.get("reason"))


@blp.route("/<int:ident>/decline", methods=["POST"])
@roles(*orders.DECIDERS)
@blp.arguments(OrderDeclineSchema)
@blp.response(200, OrderSchema)
def decline(data: dict[str, Any], ident: int) -> Any:
    """Decline with a reason the family sees"""
    return orders.decline(Session(), current_actor(), ident, data["reason"])
