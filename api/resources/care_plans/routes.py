"""Care plans (服务计划): the recurring services from which a day's visits are generated."""

from __future__ import annotations

from api.blueprint import Blueprint
from api.crud import crud_routes
from api.resources.care_plans.schemas import CarePlanQuerySchema, CarePlanSchema
from dispatch.services.catalog import CARE_PLANS

blp = Blueprint(
    "care_plans",
    __name__,
    url_prefix="/api/v1/care-plans",
    description="Recurring services of a client: recurrence, window, duration, usual caregiver.",
)
crud_routes(blp, CARE_PLANS, CarePlanSchema, CarePlanQuerySchema, "care plan")
