"""Day plans: optimise a day in a background job, review routes and KPIs, publish, re-plan."""

from __future__ import annotations

from typing import Any

from api.auth import current_actor, roles
from api.blueprint import Blueprint
from api.crud import paged
from api.resources.plans.schemas import (
    InsertionSchema,
    PlanQuerySchema,
    PlanRequestSchema,
    PlanSchema,
    PlanSummarySchema,
    ReplanSchema,
    UrgentRequestSchema,
)
from dispatch.db import Session
from dispatch.services import planning, urgent

blp = Blueprint(
    "plans",
    __name__,
    url_prefix="/api/v1/plans",
    description="Optimised routes of a provider's day, versioned; pinned, published, re-planned.",
)
READ = planning.PLAN_READ
WRITE = planning.PLAN_WRITE


@blp.route("", methods=["POST"], strict_slashes=False)
@roles(*WRITE)
@blp.arguments(PlanRequestSchema)
@blp.response(202, PlanSchema)
def create(data: dict[str, Any]) -> Any:
    """Optimise a day (202; poll GET /plans/{id} until proposed or failed)"""
    options = (
        {"max_visits_per_solve": data["max_visits_per_solve"]}
        if data.get("max_visits_per_solve")
        else None
    )
    return planning.create_plan(
        Session(),
        current_actor(),
        data["date"],
        data.get("provider_id"),
        data.get("time_limit_s"),
        options=options,
    )


@blp.route("", methods=["GET"], strict_slashes=False)
@roles(*READ)
@blp.arguments(PlanQuerySchema, location="query")
@blp.response(200, PlanSummarySchema(many=True))
@blp.paginate()
def list_(args: dict[str, Any], pagination_parameters: Any) -> Any:
    """List plans, newest day and version first"""
    return paged(planning.list_plans, args, pagination_parameters)


@blp.route("/<int:ident>", methods=["GET"])
@roles(*READ)
@blp.response(200, PlanSchema)
def get(ident: int) -> Any:
    """A plan: status, progress, KPIs, routes with times per stop, unassigned visits with reasons"""
    return planning.get_plan(Session(), current_actor(), ident)


@blp.route("/<int:ident>/publish", methods=["POST"])
@roles(*WRITE)
@blp.response(200, PlanSchema)
def publish(ident: int) -> Any:
    """Publish: visits become published and appear in the caregivers' app"""
    return planning.publish(Session(), current_actor(), ident)


@blp.route("/<int:ident>/replan", methods=["POST"])
@roles(*WRITE)
@blp.arguments(ReplanSchema)
@blp.response(202, PlanSchema)
def replan(data: dict[str, Any], ident: int) -> Any:
    """Re-plan during the day: a new version that keeps what started and every pin"""
    return planning.replan(
        Session(),
        current_actor(),
        ident,
        data["unavailable_caregivers"],
        data["urgent_visits"],
        data.get("time_limit_s"),
        data.get("now"),
    )


@blp.route("/<int:ident>/urgent", methods=["POST"])
@roles(*WRITE)
@blp.arguments(UrgentRequestSchema)
@blp.response(200, InsertionSchema)
def insert_urgent(data: dict[str, Any], ident: int) -> Any:
    """Best caregiver and arrival time for an urgent visit (synchronous; changes nothing)"""
    return urgent.urgent_insertion(
        Session(), current_actor(), ident, data["visit_id"], data.get("now")
    )
