"""Visits: list a day's services, move, pin or cancel one, add an ad-hoc or urgent one."""

from __future__ import annotations

from typing import Any

from api.auth import current_actor, roles
from api.blueprint import Blueprint
from api.crud import read_routes
from api.resources.visits.schemas import (
    MoveAnswerSchema,
    MoveRequestSchema,
    VisitCreateSchema,
    VisitPatchSchema,
    VisitQuerySchema,
    VisitSchema,
)
from dispatch.db import Session
from dispatch.services import moves, visits
from dispatch.services.plans import PLAN_WRITE

blp = Blueprint(
    "visits",
    __name__,
    url_prefix="/api/v1/visits",
    description="One planned service at one client on one day, and who is assigned.",
)

read_routes(
    blp,
    visits.VISIT_READ,
    VisitQuerySchema,
    VisitSchema,
    visits.list_visits,
    visits.get_visit,
    listing="List visits (filters: date, status, caregiver_id, client_id)",
    one="One visit with its assignments",
)


@blp.route("", methods=["POST"], strict_slashes=False)
@roles(*PLAN_WRITE)
@blp.arguments(VisitCreateSchema)
@blp.response(201, VisitSchema)
def create(data: dict[str, Any]) -> Any:
    """Add an ad-hoc or urgent visit (then POST /plans/{id}/urgent or /replan)"""
    return visits.create_visit(Session(), current_actor(), data)


@blp.route("/<int:ident>", methods=["PATCH"])
@roles(*PLAN_WRITE)
@blp.arguments(VisitPatchSchema)
@blp.response(200, VisitSchema)
def update(data: dict[str, Any], ident: int) -> Any:
    """Move a visit to another caregiver or time, pin or unpin it, or cancel it"""
    return visits.update_visit(Session(), current_actor(), ident, data)


@blp.route("/<int:ident>/move", methods=["POST"])
@roles(*PLAN_WRITE)
@blp.arguments(MoveRequestSchema)
@blp.response(200, MoveAnswerSchema)
def move(data: dict[str, Any], ident: int) -> Any:
    """Move a visit to a caregiver and time, checked like the optimiser would (409 with a code
    such as MOVE_SKILL_MISSING, MOVE_REFUSED_BY_CLIENT, MOVE_OUTSIDE_WINDOW, MOVE_OUTSIDE_SHIFT or
    MOVE_OVER_MAX_WORKING_TIME when it cannot); a double-staffed visit moves the seat of
    from_caregiver_id and keeps one start for all; with dry_run only the check and its times"""
    return moves.move_visit(
        Session(),
        current_actor(),
        ident,
        data["caregiver_id"],
        data.get("planned_start"),
        from_caregiver_id=data.get("from_caregiver_id"),
        dry_run=data["dry_run"],
    )
