"""Placeholder until its routes land."""

from flask_smorest import Blueprint

blp = Blueprint("service_types", __name__, url_prefix="/api/v1/service-types")
