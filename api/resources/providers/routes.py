"""Providers (服务机构): the tenants; platform admins manage them, staff see their own."""

from __future__ import annotations

from api.blueprint import Blueprint
from api.crud import crud_routes
from api.resources.providers.schemas import ProviderQuerySchema, ProviderSchema
from dispatch.services.catalog import PROVIDERS

blp = Blueprint(
    "providers",
    __name__,
    url_prefix="/api/v1/providers",
    description="Care providers (服务机构); provider staff see only their own.",
)
crud_routes(blp, PROVIDERS, ProviderSchema, ProviderQuerySchema, "provider")
