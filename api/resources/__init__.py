"""The API's resources, in the order their blueprints are registered (and documented)."""

from __future__ import annotations

from importlib import import_module

from flask_smorest import Api

# Explicit and ordered: a resource exists when it is listed here.
RESOURCES = [
    "health",
    "auth",
    "providers",
    "users",
    "clients",
    "caregivers",
    "service_types",
    "service_points",
    "care_plans",
    "visits",
    "days",
    "plans",
    "evv",
    "work_orders",
    "timesheets",
    "appeals",
    "flags",
    "rules",
    "reports",
    "billing_batches",
    "audit",
    # Elders and families (#18)
    "devices",
    "calls",
    "family",
    "orders",
    "complaints",
    # Supervision (#17)
    "supervision",
    # Allowances and meals (#19)
    "allowance_schemes",
    "allowances",
    "meals",
]


def register_resources(api: Api) -> None:
    for name in RESOURCES:
        module = import_module(f"api.resources.{name}.routes")
        api.register_blueprint(module.blp)
