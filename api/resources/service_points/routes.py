"""Service points: central kitchens, canteens (助餐点) and service centres."""

from __future__ import annotations

from api.blueprint import Blueprint
from api.crud import crud_routes
from api.resources.service_points.schemas import ServicePointQuerySchema, ServicePointSchema
from dispatch.services.catalog import SERVICE_POINTS

blp = Blueprint(
    "service_points",
    __name__,
    url_prefix="/api/v1/service-points",
    description="Kitchens, canteens and centres where routes start or meals are picked up.",
)
crud_routes(blp, SERVICE_POINTS, ServicePointSchema, ServicePointQuerySchema, "service point")
