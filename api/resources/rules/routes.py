"""Rules: the validation rules, their thresholds and severities, and batch re-rules."""

from __future__ import annotations

from typing import Any

from api.auth import current_actor, roles
from api.blueprint import Blueprint
from api.resources.rules.schemas import (
    RevalidateAnswerSchema,
    RevalidateSchema,
    RuleSchema,
    RuleUpdateSchema,
)
from dispatch.db import Session
from dispatch.models import Role
from dispatch.services import rules

blp = Blueprint(
    "rules",
    __name__,
    url_prefix="/api/v1",
    description="Validation rules (校验规则): thresholds, severities, batch re-rules.",
)


@blp.route("/rules", methods=["GET"])
@roles(Role.admin, Role.finance)
@blp.response(200, RuleSchema(many=True))
def list_rules() -> Any:
    """List every rule with the threshold and severity in force"""
    return rules.describe_rules(Session())


@blp.route("/rules/<string:code>", methods=["PATCH"])
@roles(Role.admin)
@blp.arguments(RuleUpdateSchema)
@blp.response(200, RuleSchema)
def update_rule(data: dict[str, Any], code: str) -> Any:
    """Change a rule's threshold, severity or enabled state (audited)"""
    return rules.update_rule(Session(), current_actor(), code, data)


@blp.route("/rules:revalidate", methods=["POST"])
@roles(Role.admin, Role.finance)
@blp.arguments(RevalidateSchema)
@blp.response(202, RevalidateAnswerSchema)
def revalidate(data: dict[str, Any]) -> Any:
    """Re-run every rule over a period (all providers or one) as a background job"""
    return rules.start_batch(
        Session(), current_actor(), data["from_"], data["to"], data.get("provider_id")
    )
