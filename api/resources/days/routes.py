"""Placeholder until its routes land."""

from flask_smorest import Blueprint

blp = Blueprint("days", __name__, url_prefix="/api/v1/days")
