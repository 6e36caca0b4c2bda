"""Visits: one planned service at one client on one day, and who is assigned."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dispatch.db import Base, UTCDateTime, str_enum, utcnow


class VisitStatus(enum.StrEnum):
    planned = "planned"
    assigned = "assigned"
    published = "published"
    in_progress = "in_progress"
    completed = "completed"
    missed = "missed"
    cancelled = "cancelled"


class VisitOutcome(enum.StrEnum):
    completed = "completed"
    client_absent = "client_absent"
    refused = "refused"


class Visit(Base):
    __tablename__ = "visits"
    __table_args__ = (
        UniqueConstraint("care_plan_id", "date"),
        Index("ix_visits_provider_id_date", "provider_id", "date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    service_type_id: Mapped[int] = mapped_column(ForeignKey("service_types.id"))
    care_plan_id: Mapped[int | None] = mapped_column(ForeignKey("care_plans.id"))
    date: Mapped[date] = mapped_column(Date)
    window_start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_min: Mapped[int]
    required_skill: Mapped[str | None] = mapped_column(String(32))
    caregivers_needed: Mapped[int] = mapped_column(default=1)
    service_point_id: Mapped[int | None] = mapped_column(ForeignKey("service_points.id"))
    priority: Mapped[int] = mapped_column(default=1)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[VisitStatus] = mapped_column(str_enum(VisitStatus), default=VisitStatus.planned)
    outcome: Mapped[VisitOutcome | None] = mapped_column(str_enum(VisitOutcome))
    planned_start_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sequence: Mapped[int | None]
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("day_plans.id"))
    unassigned_reason: Mapped[str | None] = mapped_column(String(64))
    cancel_reason: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    assignments: Mapped[list[VisitAssignment]] = relationship(
        back_populates="visit", cascade="all, delete-orphan", order_by="VisitAssignment.id"
    )

    def __repr__(self) -> str:
        return f"<Visit {self.id} {self.date} {self.status}>"


class VisitAssignment(Base):
    """A caregiver on a visit; a double-staffed visit has two, starting together."""

    __tablename__ = "visit_assignments"
    __table_args__ = (UniqueConstraint("visit_id", "caregiver_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), index=True)
    caregiver_id: Mapped[int] = mapped_column(ForeignKey("caregivers.id"), index=True)
    sequence: Mapped[int | None]
    planned_arrival_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    planned_start_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    travel_min: Mapped[int | None]

    visit: Mapped[Visit] = relationship(back_populates="assignments")
