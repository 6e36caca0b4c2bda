"""Caregivers (护理员): people, skills, certificates with expiry, and shifts."""

from __future__ import annotations

from api.blueprint import Blueprint
from api.crud import child_routes, crud_routes
from api.resources.caregivers.schemas import (
    CaregiverQuerySchema,
    CaregiverSchema,
    CaregiverSkillSchema,
    CertificateSchema,
    ShiftSchema,
    TrainingSchema,
)
from dispatch.services.catalog import (
    CAREGIVER_CERTIFICATES,
    CAREGIVER_SHIFTS,
    CAREGIVER_SKILLS,
    CAREGIVER_TRAININGS,
    CAREGIVERS,
)

blp = Blueprint(
    "caregivers",
    __name__,
    url_prefix="/api/v1/caregivers",
    description="Caregivers (护理员): home, travel mode, limits, skills, certificates, shifts.",
)
crud_routes(blp, CAREGIVERS, CaregiverSchema, CaregiverQuerySchema, "caregiver")
child_routes(blp, CAREGIVER_SKILLS, CaregiverSkillSchema, "skills", "skill")
child_routes(blp, CAREGIVER_CERTIFICATES, CertificateSchema, "certificates", "certificate")
child_routes(blp, CAREGIVER_SHIFTS, ShiftSchema, "shifts", "shift")
child_routes(blp, CAREGIVER_TRAININGS, TrainingSchema, "trainings", "training")
