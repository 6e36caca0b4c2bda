"""Care plans (服务计划): the recurring services a client is entitled to."""

from __future__ import annotations

import enum
from datetime import date, datetime, time

from sqlalchemy import JSON, Boolean, Date, ForeignKey, String, Time
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.db import Base, UTCDateTime, str_enum, utcnow


class Recurrence(enum.StrEnum):
    weekly = "weekly"  # on ``days_of_week``
    every_n_days = "every_n_days"  # every ``interval_days`` from ``start_date``
    monthly = "monthly"  # on ``day_of_month`` (clamped to the month's last day)
    quarterly = "quarterly"  # on ``day_of_month`` of every third month from ``start_date``
    half_yearly = "half_yearly"  # likewise every sixth month


class CarePlan(Base):
    __tablename__ = "care_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    service_type_id: Mapped[int] = mapped_column(ForeignKey("service_types.id"))
    recurrence: Mapped[Recurrence] = mapped_column(str_enum(Recurrence))
    days_of_week: Mapped[list[int] | None] = mapped_column(JSON)  # 0 = Monday
    interval_days: Mapped[int | None]
    day_of_month: Mapped[int | None]
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    window_start: Mapped[time] = mapped_column(Time)
    window_end: Mapped[time] = mapped_column(Time)
    duration_min: Mapped[int]
    preferred_caregiver_id: Mapped[int | None] = mapped_column(ForeignKey("caregivers.id"))
    service_point_id: Mapped[int | None] = mapped_column(ForeignKey("service_points.id"))
    priority: Mapped[int] = mapped_column(default=1)
    notes: Mapped[str | None] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<CarePlan {self.id} client={self.client_id} {self.recurrence}>"
