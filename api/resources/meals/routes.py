"""Canteen meals (全城通): terminals and canteen staff record meals; canteens set hours, prices."""

from __future__ import annotations

from typing import Any

from api.auth import current_actor, roles
from api.blueprint import Blueprint
from api.crud import paged
from api.device_auth import DEVICE_KEY_PARAMETER, current_device, device_or_roles
from api.resources.meals.schemas import (
    CanteenSchema,
    CanteenWriteSchema,
    MealCreateSchema,
    MealDecisionSchema,
    MealQuerySchema,
    MealSchema,
)
from dispatch.db import Session
from dispatch.models import Role
from dispatch.services import meals

blp = Blueprint(
    "meals",
    __name__,
    url_prefix="/api/v1",
    description="Canteen meals (全城通): any elder at any canteen, subsidy by category, rules.",
)


@blp.route("/meals", methods=["POST"])
@device_or_roles(*meals.RECORDERS)
@blp.doc(parameters=[DEVICE_KEY_PARAMETER])
@blp.arguments(MealCreateSchema)
@blp.response(201, MealSchema)
@blp.alt_response(200, schema=MealSchema, description="A replay: the stored meal.")
def record(data: dict[str, Any]) -> Any:
    """Record a meal from a canteen terminal (X-Device-Key) or canteen staff (token)

    The elder is named by card_no, face_id or client_code. A replay of the same
    idempotency_key answers 200 with the stored meal; DUPLICATE_MEAL and MEAL_OUTSIDE_HOURS
    flag the meal (and hold it from billing).
    """
    meal, created = meals.record(Session(), current_actor(), current_device(), data)
    return meal, 201 if created else 200


@blp.route("/meals", methods=["GET"])
@roles(*meals.READERS)
@blp.arguments(MealQuerySchema, location="query")
@blp.response(200, MealSchema(many=True))
@blp.paginate()
def list_(args: dict[str, Any], pagination_parameters: Any) -> Any:
    """Meals with their flags (filters: canteen_id, date, client_id, status)"""
    return paged(meals.list_meals, args, pagination_parameters)


@blp.route("/meals/<int:ident>", methods=["GET"])
@roles(*meals.READERS)
@blp.response(200, MealSchema)
def get(ident: int) -> Any:
    """One meal with its flags"""
    return meals.get_meal(Session(), current_actor(), ident)


@blp.route("/meals/<int:ident>/decision", methods=["POST"])
@roles(Role.finance)
@blp.arguments(MealDecisionSchema)
@blp.response(200, MealSchema)
def decide(data: dict[str, Any], ident: int) -> Any:
    """Accept a flagged meal (its flags overridden with the reason) or reject a meal"""
    return meals.decide(Session(), current_actor(), ident, data["decision"], data["reason"])


@blp.route("/service-points/<int:ident>/canteen", methods=["GET"])
@roles(*meals.READERS)
@blp.response(200, CanteenSchema)
def canteen(ident: int) -> Any:
    """A canteen's hours and price per slot (defaults until it sets its own)"""
    return meals.get_canteen(Session(), current_actor(), ident)


@blp.route("/service-points/<int:ident>/canteen", methods=["PUT"])
@roles(*meals.KEEPERS)
@blp.arguments(CanteenWriteSchema)
@blp.response(200, CanteenSchema)
def set_canteen(data: dict[str, Any], ident: int) -> Any:
    """Set a canteen's hours (local time) and price per slot; a slot left out is not served"""
    return meals.set_canteen(Session(), current_actor(), ident, data["slots"])
