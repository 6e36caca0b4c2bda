"""Placeholder until its routes land."""

from flask_smorest import Blueprint

blp = Blueprint("billing_batches", __name__, url_prefix="/api/v1/billing-batches")
