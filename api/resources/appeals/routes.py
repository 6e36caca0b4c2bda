"""Appeals: a provider contests a flagged or rejected order; finance upholds or denies."""

from __future__ import annotations

from typing import Any

from api.auth import current_actor, roles
from api.blueprint import Blueprint
from api.crud import paged
from api.resources.appeals.schemas import (
    AppealDecisionSchema,
    AppealEvidenceFileSchema,
    AppealEvidenceSchema,
    AppealQuerySchema,
    AppealSchema,
)
from dispatch.db import Session
from dispatch.models import Role
from dispatch.services import appeals

blp = Blueprint(
    "appeals",
    __name__,
    url_prefix="/api/v1",
    description="Appeals (申诉): one open appeal per order, decided by finance.",
)
READERS = (Role.dispatcher, Role.provider_admin, Role.finance, Role.admin)


@blp.route("/work-orders/<int:ident>/appeals", methods=["POST"])
@roles(Role.provider_admin)
@blp.arguments(AppealSchema)
@blp.response(201, AppealSchema)
def create(data: dict[str, Any], ident: int) -> Any:
    """Appeal a flagged or rejected order (409 while another appeal of it is open)"""
    return appeals.create_appeal(Session(), current_actor(), ident, **data)


@blp.route("/appeals/evidence", methods=["POST"])
@roles(Role.provider_admin)
@blp.arguments(AppealEvidenceFileSchema, location="files")
@blp.response(201, AppealEvidenceSchema)
def upload_evidence(files: dict[str, Any]) -> Any:
    """Upload evidence for an appeal: a photo or a scanned document (JPEG or PNG)"""
    file = files["file"]
    try:
        return appeals.upload_evidence(Session(), current_actor(), file.stream)
    finally:
        file.close()


@blp.route("/appeals", methods=["GET"])
@roles(*READERS)
@blp.arguments(AppealQuerySchema, location="query")
@blp.response(200, AppealSchema(many=True))
@blp.paginate()
def list_appeals(args: dict[str, Any], pagination_parameters: Any) -> Any:
    """List appeals (finance's queue: status=open)"""
    return paged(appeals.list_appeals, args, pagination_parameters)


@blp.route("/appeals/<int:ident>", methods=["GET"])
@roles(*READERS)
@blp.response(200, AppealSchema)
def get(ident: int) -> Any:
    """One appeal"""
    return appeals.get_appeal(Session(), current_actor(), ident)


@blp.route("/appeals/<int:ident>/decision", methods=["POST"])
@roles(Role.finance)
@blp.arguments(AppealDecisionSchema)
@blp.response(200, AppealSchema)
def decide(data: dict[str, Any], ident: int) -> Any:
    """Uphold (the order's open flags are overridden; it returns to approval) or deny"""
    return appeals.decide_appeal(
        Session(), current_actor(), ident, data["decision"], data["reason"]
    )
