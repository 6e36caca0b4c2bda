"""Health endpoint, no auth: load balancers and `make demo` poll it."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import fields

from api.fields import BaseSchema
from dispatch.db import Session
from dispatch.services.health import health

blp = Blueprint("health", __name__, url_prefix="/api/v1/health", description="Liveness.")


class HealthSchema(BaseSchema):
    status = fields.String(metadata={"description": "ok, or degraded when a part is down"})
    database = fields.String(metadata={"description": "ok or down"})
    queue = fields.String(metadata={"description": "ok (rq on Redis), inline (no Redis), or down"})


@blp.route("", strict_slashes=False, methods=["GET"])
@blp.response(200, HealthSchema)
@blp.doc(security=[])
def get_health() -> Any:
    """Health of the API, its database and its job queue"""
    return health(Session())
