"""Clients: the elders served, with absences and refused caregivers."""

from __future__ import annotations

from api.blueprint import Blueprint
from api.crud import child_routes, crud_routes
from api.resources.clients.schemas import (
    AbsenceSchema,
    ClientQuerySchema,
    ClientSchema,
    RefusalSchema,
)
from dispatch.services.catalog import CLIENT_ABSENCES, CLIENT_REFUSALS, CLIENTS

blp = Blueprint(
    "clients",
    __name__,
    url_prefix="/api/v1/clients",
    description="Elders (服务对象): address, location, care level, entitlement, absences.",
)
crud_routes(blp, CLIENTS, ClientSchema, ClientQuerySchema, "client")
child_routes(blp, CLIENT_ABSENCES, AbsenceSchema, "absences", "absence")
child_routes(blp, CLIENT_REFUSALS, RefusalSchema, "refusals", "refused caregiver")
