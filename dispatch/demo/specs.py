"""The demo district's rows as plain dataclasses, and when a care plan recurs."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal

from dispatch.demo.data import (
    ProviderInfo,
    ServiceInfo,
)
from dispatch.models import (
    AbsenceReason,
    FundingSource,
    Gender,
    Recurrence,
    Role,
    TravelMode,
    VisitFrequency,
)


@dataclass(frozen=True)
class PointSpec:
    provider_n: int
    code: str
    name: str
    kind: str
    address: str
    lat: float
    lon: float


@dataclass(frozen=True)
class CertSpec:
    kind: str
    number: str
    skill: str | None
    issued_on: date
    expires_on: date


@dataclass(frozen=True)
class ShiftSpec:
    weekday: int | None
    start_time: time | None
    end_time: time | None
    on_date: date | None = None
    off: bool = False


@dataclass(frozen=True)
class CaregiverSpec:
    provider_n: int
    index: int  # 1-based within the provider: the login is caregiver{provider_n}_{index}
    code: str
    name: str
    gender: Gender
    birth_year: int
    phone: str
    street: str
    home_address: str
    home_lat: float
    home_lon: float
    starts_at_centre: bool
    travel_mode: TravelMode
    max_minutes_per_day: int
    break_minutes: int
    break_earliest: time | None
    break_latest: time | None
    box_capacity: int
    languages: str
    skills: tuple[str, ...]
    certificates: tuple[CertSpec, ...]
    shifts: tuple[ShiftSpec, ...]


@dataclass(frozen=True)
class AbsenceSpec:
    start_at: datetime
    end_at: datetime
    reason: AbsenceReason
    note: str


@dataclass(frozen=True)
class ClientSpec:
    provider_n: int
    code: str
    name: str
    gender: Gender
    birth_date: date
    phone: str
    street: str
    address: str
    lat: float
    lon: float
    care_level: int
    visit_frequency: VisitFrequency
    funding_source: FundingSource
    monthly_entitlement_min: int | None
    monthly_allowance: Decimal | None
    preferred_caregiver_gender: Gender | None
    language: str | None
    notes: str | None
    absences: tuple[AbsenceSpec, ...]
    refused: tuple[tuple[str, str], ...]  # (caregiver code, reason)


@dataclass(frozen=True)
class PlanSpec:
    provider_n: int
    client_code: str
    service_code: str
    recurrence: Recurrence
    start_date: date
    window_start: time
    window_end: time
    duration_min: int
    days_of_week: tuple[int, ...] | None = None
    interval_days: int | None = None
    day_of_month: int | None = None
    preferred_caregiver_code: str | None = None
    service_point_code: str | None = None
    priority: int = 1
    notes: str | None = None


@dataclass(frozen=True)
class UserSpec:
    username: str
    role: Role
    provider_n: int | None
    display_name: str
    caregiver_code: str | None = None
    area_district: str | None = None  # supervisors: the district and, maybe, its streets
    area_streets: tuple[str, ...] = ()


@dataclass
class District:
    seed: int
    today: date
    timezone: str
    providers: tuple[ProviderInfo, ...]
    services: tuple[ServiceInfo, ...]
    points: list[PointSpec] = field(default_factory=list)
    caregivers: list[CaregiverSpec] = field(default_factory=list)
    clients: list[ClientSpec] = field(default_factory=list)
    plans: list[PlanSpec] = field(default_factory=list)
    users: list[UserSpec] = field(default_factory=list)

    def plans_on(self, day: date) -> list[PlanSpec]:
        """The plans that recur on ``day`` (the visits a day would be generated from)."""
        return [p for p in self.plans if occurs_on(p, day)]


def clamped_day(year: int, month: int, day: int) -> date:
    """The day of that month, or its last day when the month is shorter (31 -> 30 Apr)."""
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def occurs_on(plan: PlanSpec, day: date) -> bool:
    """Whether a plan recurs on ``day``, per the semantics documented on ``Recurrence``."""
    if day < plan.start_date:
        return False
    if plan.recurrence is Recurrence.weekly:
        return day.weekday() in (plan.days_of_week or ())
    if plan.recurrence is Recurrence.every_n_days:
        return (day - plan.start_date).days % (plan.interval_days or 1) == 0
    step = {Recurrence.monthly: 1, Recurrence.quarterly: 3, Recurrence.half_yearly: 6}
    months = (day.year - plan.start_date.year) * 12 + day.month - plan.start_date.month
    if months % step[plan.recurrence]:
        return False
    return day == clamped_day(day.year, day.month, plan.day_of_month or 1)


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
