"""Placeholder until its routes land."""

from flask_smorest import Blueprint

blp = Blueprint("work_orders", __name__, url_prefix="/api/v1/work-orders")
