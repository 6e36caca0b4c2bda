"""Complaints: a family member (or staff for the elder) files one; the provider answers it."""

from __future__ import annotations

from typing import Any

from api.auth import current_actor, roles
from api.blueprint import Blueprint
from api.crud import read_routes
from api.resources.complaints.schemas import (
    ComplaintAnswerSchema,
    ComplaintCreateSchema,
    ComplaintQuerySchema,
    ComplaintSchema,
)
from dispatch.db import Session
from dispatch.services import complaints

blp = Blueprint(
    "complaints",
    __name__,
    url_prefix="/api/v1/complaints",
    description="Complaints (投诉) about an elder's care: open → answered → closed, audited.",
)


@blp.route("", methods=["POST"], strict_slashes=False)
@roles(*complaints.FILERS)
@blp.arguments(ComplaintCreateSchema)
@blp.response(201, ComplaintSchema)
def file(data: dict[str, Any]) -> Any:
    """File a complaint about a linked elder's care, or one of their visits"""
    return complaints.file(Session(), current_actor(), data)


read_routes(
    blp,
    complaints.READERS,
    ComplaintQuerySchema,
    ComplaintSchema,
    complaints.list_complaints,
    complaints.get_complaint,
    listing="Complaints, newest first (a family member: about the elders linked to them)",
    one="One complaint with the provider's answer",
)


@blp.route("/<int:ident>", methods=["PATCH"])
@roles(*complaints.ANSWERERS)
@blp.arguments(ComplaintAnswerSchema)
@blp.response(200, ComplaintSchema)
def answer(data: dict[str, Any], ident: int) -> Any:
    """Answer (status answered, with the answer) or close a complaint"""
    return complaints.answer(Session(), current_actor(), ident, data)
