"""The demo district: a deterministic home-care world around Yiwu (义乌市) for `make demo`."""

from dispatch.demo.data import CATALOGUE, PASSWORD, PROVIDERS, STREETS, YIWU_BOX
from dispatch.demo.generate import build_district
from dispatch.demo.seed import SeedReport, demo_providers, is_seeded, planned_days, seed_demo
from dispatch.demo.specs import District, age_on, occurs_on

__all__ = [
    "CATALOGUE",
    "PASSWORD",
    "PROVIDERS",
    "STREETS",
    "YIWU_BOX",
    "District",
    "SeedReport",
    "age_on",
    "build_district",
    "demo_providers",
    "is_seeded",
    "occurs_on",
    "planned_days",
    "seed_demo",
]
