"""Day plans: a provider's optimised routes for one date, versioned."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.db import Base, UTCDateTime, str_enum, utcnow


class PlanStatus(enum.StrEnum):
    draft = "draft"
    optimizing = "optimizing"
    proposed = "proposed"
    published = "published"
    superseded = "superseded"
    failed = "failed"


class DayPlan(Base):
    __tablename__ = "day_plans"
    __table_args__ = (UniqueConstraint("provider_id", "date", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    date: Mapped[date] = mapped_column(Date)
    version: Mapped[int] = mapped_column(default=1)
    status: Mapped[PlanStatus] = mapped_column(str_enum(PlanStatus), default=PlanStatus.draft)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("day_plans.id"))
    job_id: Mapped[str | None] = mapped_column(String(64))
    time_limit_s: Mapped[int] = mapped_column(default=30)
    options: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    progress: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    kpis: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    stats: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    routes: Mapped[list[Any] | None] = mapped_column(JSON)
    unassigned: Mapped[list[Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    # The same in Chinese: both come from the catalogue's entry with the failure's own values.
    error_zh: Mapped[str | None] = mapped_column(Text)
    # Why the plan failed, a stable code (``proposals.PlanFailure``); ``error`` says it in words.
    error_code: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<DayPlan {self.id} {self.date} v{self.version} {self.status}>"
