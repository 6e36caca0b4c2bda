"""Health endpoint, no auth: load balancers and `make demo` poll it."""

from __future__ import annotations

from typing import Any

from marshmallow import fields

from api.blueprint import Blueprint
from api.fields import BaseSchema
from dispatch import error_codes
from dispatch.db import Session
from dispatch.services.health import health

blp = Blueprint("health", __name__, url_prefix="/api/v1/health", description="Liveness.")


class HealthSchema(BaseSchema):
    status = fields.String(
        metadata={
            "description": "ok; degraded when the queue is down (200: check-ins and reads "
            "work); down when the database is (503, with Retry-After)"
        }
    )
    database = fields.String(metadata={"description": "ok or down"})
    queue = fields.String(metadata={"description": "ok (rq on Redis), inline (no Redis), or down"})


@blp.route("", strict_slashes=False, methods=["GET"])
@blp.response(200, HealthSchema)
@blp.alt_response(503, schema=HealthSchema, description="The database is down.")
@blp.doc(security=[])
def get_health() -> Any:
    """Health of the API, its database and its job queue

    503 when the database is down, so that a load balancer takes this instance out.
    """
    status = health(Session())
    if status["status"] == "down":
        return status, 503, {"Retry-After": str(error_codes.DATABASE_UNAVAILABLE.retry_after_s)}
    return status
