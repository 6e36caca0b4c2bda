"""The service catalogue: what a visit can be, and what it is paid."""

from __future__ import annotations

import enum
from decimal import Decimal

from sqlalchemy import Boolean, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.db import Base, str_enum


class BillingUnit(enum.StrEnum):
    visit = "visit"  # a fixed rate per visit (meal delivery)
    hour = "hour"  # rate per hour of billable minutes


class ServiceType(Base):
    __tablename__ = "service_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str | None] = mapped_column(String(64))
    default_duration_min: Mapped[int]
    required_skill: Mapped[str | None] = mapped_column(String(32))
    caregivers_needed: Mapped[int] = mapped_column(default=1)
    photo_required: Mapped[bool] = mapped_column(Boolean, default=True)
    is_meal: Mapped[bool] = mapped_column(Boolean, default=False)
    billing_unit: Mapped[BillingUnit] = mapped_column(str_enum(BillingUnit))
    rate: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def __repr__(self) -> str:
        return f"<ServiceType {self.code}>"
