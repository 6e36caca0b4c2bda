"""Service types: the catalogue (MEAL 助餐, CLEAN 助洁, BATH 助浴 ...), kept by admins."""

from __future__ import annotations

from api.blueprint import Blueprint
from api.crud import crud_routes
from api.resources.service_types.schemas import ServiceTypeQuerySchema, ServiceTypeSchema
from dispatch.services.catalog import SERVICE_TYPES

blp = Blueprint(
    "service_types",
    __name__,
    url_prefix="/api/v1/service-types",
    description="The service catalogue: durations, skills, photo proof, billing rates.",
)
crud_routes(blp, SERVICE_TYPES, ServiceTypeSchema, ServiceTypeQuerySchema, "service type")
