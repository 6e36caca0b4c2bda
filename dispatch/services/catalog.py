"""The Crud specs of the plain nouns: who may read and write them, filters, references, checks."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from dispatch import error_codes
from dispatch.models import (
    LOGIN_ROLES,
    Caregiver,
    CaregiverSkill,
    CarePlan,
    Certificate,
    Client,
    ClientAbsence,
    ClientRefusal,
    Provider,
    Recurrence,
    Role,
    ServicePoint,
    ServiceType,
    Shift,
    Training,
    User,
)
from dispatch.services.crud import Child, Crud
from dispatch.tenancy import Actor

STAFF_READ = (Role.dispatcher, Role.provider_admin, Role.finance, Role.admin)
STAFF_WRITE = (Role.dispatcher, Role.provider_admin, Role.admin)
# Elders and caregivers are also read by supervisors, inside their area (dispatch.areas).
PEOPLE_READ = (*STAFF_READ, Role.supervisor)


def _ordered(start: Any, end: Any, field: str, *, strict: bool = True) -> None:
    if start is not None and end is not None and (end <= start if strict else end < start):
        raise error_codes.INVALID_FIELD("after_start", name=field, field=field)


def check_absence(_s: Session, _a: Actor, row: ClientAbsence) -> None:
    _ordered(row.start_at, row.end_at, "end_at")


def check_shift(_s: Session, _a: Actor, row: Shift) -> None:
    if (row.weekday is None) == (row.on_date is None):
        raise error_codes.INVALID_FIELD("weekday_or_date", field="weekday")
    if not row.off:
        if row.start_time is None or row.end_time is None:
            raise error_codes.INVALID_FIELD("shift_times", field="start_time")
        _ordered(row.start_time, row.end_time, "end_time")


def check_certificate(_s: Session, _a: Actor, row: Certificate) -> None:
    _ordered(row.issued_on, row.expires_on, "expires_on")


def check_care_plan(_s: Session, _a: Actor, row: CarePlan) -> None:
    _ordered(row.window_start, row.window_end, "window_end")
    # A plan may run for a single day.
    _ordered(row.start_date, row.end_date, "end_date", strict=False)
    if row.recurrence == Recurrence.weekly and not row.days_of_week:
        raise error_codes.INVALID_FIELD("days_of_week", field="days_of_week")
    if row.recurrence == Recurrence.every_n_days and not row.interval_days:
        raise error_codes.INVALID_FIELD("interval_days", field="interval_days")


def check_caregiver(_s: Session, _a: Actor, row: Caregiver) -> None:
    if (row.break_earliest is None) != (row.break_latest is None):
        raise error_codes.INVALID_FIELD("break_both", field="break_latest")
    if row.break_earliest and row.break_latest and row.break_latest < row.break_earliest:
        raise error_codes.INVALID_FIELD("break_order", field="break_latest")


PROVIDERS = Crud(
    Provider,
    read_roles=LOGIN_ROLES,
    write_roles=(Role.admin,),
    filters={"active": lambda v: Provider.active == v, "code": lambda v: Provider.code == v},
)
CLIENTS = Crud(
    Client,
    read_roles=PEOPLE_READ,
    write_roles=STAFF_WRITE,
    filters={
        "active": lambda v: Client.active == v,
        "provider_id": lambda v: Client.provider_id == v,
        "code": lambda v: Client.code == v,
        "street": lambda v: Client.street == v,
        "care_level": lambda v: Client.care_level == v,
        "visit_frequency": lambda v: Client.visit_frequency == v,
        "q": lambda v: (
            Client.name.contains(v, autoescape=True) | Client.address.contains(v, autoescape=True)
        ),
    },
)
CLIENT_ABSENCES = Child(CLIENTS, ClientAbsence, "client_id", check=check_absence)
CLIENT_REFUSALS = Child(CLIENTS, ClientRefusal, "client_id", refs={"caregiver_id": Caregiver})
CAREGIVERS = Crud(
    Caregiver,
    read_roles=PEOPLE_READ,
    write_roles=STAFF_WRITE,
    filters={
        "active": lambda v: Caregiver.active == v,
        "provider_id": lambda v: Caregiver.provider_id == v,
        "code": lambda v: Caregiver.code == v,
        "gender": lambda v: Caregiver.gender == v,
        "street": lambda v: Caregiver.street == v,
        "skill": lambda v: Caregiver.skills.any(CaregiverSkill.skill == v),
        "q": lambda v: Caregiver.name.contains(v, autoescape=True),
    },
    refs={"start_point_id": ServicePoint},
    check=check_caregiver,
)
CAREGIVER_SKILLS = Child(CAREGIVERS, CaregiverSkill, "caregiver_id")
CAREGIVER_CERTIFICATES = Child(CAREGIVERS, Certificate, "caregiver_id", check=check_certificate)
CAREGIVER_SHIFTS = Child(CAREGIVERS, Shift, "caregiver_id", check=check_shift)
CAREGIVER_TRAININGS = Child(CAREGIVERS, Training, "caregiver_id")
SERVICE_TYPES = Crud(
    ServiceType,
    read_roles=LOGIN_ROLES,
    write_roles=(Role.admin,),
    filters={"active": lambda v: ServiceType.active == v, "code": lambda v: ServiceType.code == v},
    order_by=(ServiceType.code,),
)
SERVICE_POINTS = Crud(
    ServicePoint,
    read_roles=STAFF_READ,
    write_roles=STAFF_WRITE,
    filters={
        "active": lambda v: ServicePoint.active == v,
        "provider_id": lambda v: ServicePoint.provider_id == v,
        "kind": lambda v: ServicePoint.kind == v,
    },
)
CARE_PLANS = Crud(
    CarePlan,
    read_roles=STAFF_READ,
    write_roles=STAFF_WRITE,
    filters={
        "active": lambda v: CarePlan.active == v,
        "provider_id": lambda v: CarePlan.provider_id == v,
        "client_id": lambda v: CarePlan.client_id == v,
        "service_type_id": lambda v: CarePlan.service_type_id == v,
        "preferred_caregiver_id": lambda v: CarePlan.preferred_caregiver_id == v,
    },
    refs={
        "client_id": Client,
        "service_type_id": ServiceType,
        "preferred_caregiver_id": Caregiver,
        "service_point_id": ServicePoint,
    },
    check=check_care_plan,
)
USERS = Crud(
    User,
    read_roles=(Role.provider_admin, Role.admin),
    write_roles=(Role.provider_admin, Role.admin),
    filters={
        "active": lambda v: User.active == v,
        "role": lambda v: User.role == v,
        "provider_id": lambda v: User.provider_id == v,
        "q": lambda v: (
            User.username.contains(v, autoescape=True)
            | User.display_name.contains(v, autoescape=True)
        ),
    },
    order_by=(User.username,),
)
