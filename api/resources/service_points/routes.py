"""Placeholder until its routes land."""

from flask_smorest import Blueprint

blp = Blueprint("service_points", __name__, url_prefix="/api/v1/service-points")
