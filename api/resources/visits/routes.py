"""Visits: list a day's services, move, pin or cancel one, add an ad-hoc or urgent one."""

from __future__ import annotations

from typing import Any

from api.auth import current_actor, roles
from api.blueprint import Blueprint
from api.crud import paged
from api.resources.visits.schemas import (
    MoveAnswerSchema,
    MoveRequestSchema,
    VisitCreateSchema,
    VisitPatchSchema,
    VisitQuerySchema,
    VisitSchema,
)
from dispatch.db import Session
from dispatch.services import moves, planning

blp = Blueprint(
    "visits",
    __name__,
    url_prefix="/api/v1/visits",
    description="One planned service at one client on one day, and who is assigned.",
)


@blp.route("", methods=["GET"], strict_slashes=False)
@roles(*planning.VISIT_READ)
@blp.arguments(VisitQuerySchema, location="query")
@blp.response(200, VisitSchema(many=True))
@blp.paginate()
def list_(args: dict[str, Any], pagination_parameters: Any) -> Any:
    """List visits (filters: date, status, caregiver_id, client_id)"""
    return paged(planning.list_visits, args, pagination_parameters)


@blp.route("", methods=["POST"], strict_slashes=False)
@roles(*planning.PLAN_WRITE)
@blp.arguments(VisitCreateSchema)
@blp.response(201, VisitSchema)
def create(data: dict[str, Any]) -> Any:
    """Add an ad-hoc or urgent visit (then POST /plans/{id}/urgent or /replan)"""
    return planning.create_visit(Session(), current_actor(), data)


@blp.route("/<int:ident>", methods=["GET"])
@roles(*planning.VISIT_READ)
@blp.response(200, VisitSchema)
def get(ident: int) -> Any:
    """One visit with its assignments"""
    return planning.get_visit(Session(), current_actor(), ident)


@blp.route("/<int:ident>", methods=["PATCH"])
@roles(*planning.PLAN_WRITE)
@blp.arguments(VisitPatchSchema)
@blp.response(200, VisitSchema)
def update(data: dict[str, Any], ident: int) -> Any:
    """Move a visit to another caregiver or time, pin or unpin it, or cancel it"""
    return planning.update_visit(Session(), current_actor(), ident, data)


@blp.route("/<int:ident>/move", methods=["POST"])
@roles(*planning.PLAN_WRITE)
@blp.arguments(MoveRequestSchema)
@blp.response(200, MoveAnswerSchema)
def move(data: dict[str, Any], ident: int) -> Any:
    """Move a visit to a caregiver and time, checked like the optimiser would (409 with a code
    such as MOVE_SKILL_MISSING, MOVE_REFUSED_BY_CLIENT, MOVE_OUTSIDE_WINDOW or MOVE_OUTSIDE_SHIFT
    when it cannot); with dry_run only the check and its new times"""
    return moves.move_visit(
        Session(),
        current_actor(),
        ident,
        data["caregiver_id"],
        data.get("planned_start"),
        dry_run=data["dry_run"],
    )
