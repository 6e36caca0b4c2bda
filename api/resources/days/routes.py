"""A day: generate its visits from care plans; watch its live board."""

from __future__ import annotations

from typing import Any

from api.auth import current_actor, roles
from api.blueprint import Blueprint
from api.resources.days.schemas import (
    BoardQuerySchema,
    BoardSchema,
    DispatchDaySchema,
    DispatchQuerySchema,
    GenerateRequestSchema,
    GenerateResultSchema,
)
from dispatch.db import Session
from dispatch.services import board, dispatch_day, planning

blp = Blueprint(
    "days",
    __name__,
    url_prefix="/api/v1/days",
    description="A provider's day: visits generated from care plans, the live board.",
)


@blp.route("/<day>/visits:generate", methods=["POST"])
@roles(*planning.PLAN_WRITE)
@blp.arguments(GenerateRequestSchema)
@blp.response(200, GenerateResultSchema)
def generate(data: dict[str, Any], day: str) -> Any:
    """Generate the day's visits from care plans (idempotent)"""
    return planning.generate(
        Session(), current_actor(), board.parse_day(day), data.get("provider_id")
    )


@blp.route("/<day>/board", methods=["GET"])
@roles(*board.BOARD_READ)
@blp.arguments(BoardQuerySchema, location="query")
@blp.response(200, BoardSchema)
def live_board(args: dict[str, Any], day: str) -> Any:
    """Live board: each published visit's state with late and missed alerts"""
    return board.board(
        Session(),
        current_actor(),
        board.parse_day(day),
        args.get("late_after_min") or board.DEFAULT_LATE_AFTER_MIN,
        args.get("at"),
        args.get("provider_id"),
    )


@blp.route("/<day>/dispatch", methods=["GET"])
@roles(*planning.PLAN_READ)
@blp.arguments(DispatchQuerySchema, location="query")
@blp.response(200, DispatchDaySchema)
def dispatch(args: dict[str, Any], day: str) -> Any:
    """The dispatcher's day in one read: newest plan, visits, caregivers, clients, kitchens"""
    return dispatch_day.dispatch_day(
        Session(), current_actor(), board.parse_day(day), args.get("provider_id")
    )
