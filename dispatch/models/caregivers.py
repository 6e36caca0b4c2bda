"""Caregivers (护理员): skills, certificates, shifts."""

from __future__ import annotations

import enum
from datetime import date, datetime, time

from sqlalchemy import Boolean, Date, ForeignKey, String, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dispatch.db import Base, UTCDateTime, str_enum, utcnow
from dispatch.models.clients import Gender
from dispatch.models.supervision import CaregiverGrade


class TravelMode(enum.StrEnum):
    walk = "walk"
    ebike = "ebike"
    car = "car"


class Caregiver(Base):
    __tablename__ = "caregivers"
    __table_args__ = (UniqueConstraint("provider_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    gender: Mapped[Gender] = mapped_column(str_enum(Gender))
    phone: Mapped[str | None] = mapped_column(String(32))
    # SHA-256 of the national id number: one person registered with two providers.
    person_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    home_address: Mapped[str | None] = mapped_column(String(300))
    street: Mapped[str | None] = mapped_column(String(100), index=True)  # 街道 they work from
    grade: Mapped[CaregiverGrade | None] = mapped_column(str_enum(CaregiverGrade))
    home_lat: Mapped[float]
    home_lon: Mapped[float]
    start_point_id: Mapped[int | None] = mapped_column(ForeignKey("service_points.id"))
    travel_mode: Mapped[TravelMode] = mapped_column(str_enum(TravelMode), default=TravelMode.ebike)
    max_minutes_per_day: Mapped[int] = mapped_column(default=480)
    break_minutes: Mapped[int] = mapped_column(default=60)
    break_earliest: Mapped[time | None] = mapped_column(Time)
    break_latest: Mapped[time | None] = mapped_column(Time)
    box_capacity: Mapped[int] = mapped_column(default=0)
    languages: Mapped[str | None] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    skills: Mapped[list[CaregiverSkill]] = relationship(
        back_populates="caregiver", cascade="all, delete-orphan", order_by="CaregiverSkill.skill"
    )
    certificates: Mapped[list[Certificate]] = relationship(
        back_populates="caregiver", cascade="all, delete-orphan", order_by="Certificate.id"
    )
    shifts: Mapped[list[Shift]] = relationship(
        back_populates="caregiver", cascade="all, delete-orphan", order_by="Shift.id"
    )

    def __repr__(self) -> str:
        return f"<Caregiver {self.id} {self.code}>"


class CaregiverSkill(Base):
    __tablename__ = "caregiver_skills"
    __table_args__ = (UniqueConstraint("caregiver_id", "skill"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    caregiver_id: Mapped[int] = mapped_column(ForeignKey("caregivers.id"), index=True)
    skill: Mapped[str] = mapped_column(String(32))

    caregiver: Mapped[Caregiver] = relationship(back_populates="skills")


class Certificate(Base):
    """A certificate (养老护理员证, 健康证, ...), optionally the proof of a skill."""

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    caregiver_id: Mapped[int] = mapped_column(ForeignKey("caregivers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(64))
    number: Mapped[str | None] = mapped_column(String(64))
    skill: Mapped[str | None] = mapped_column(String(32))
    issued_on: Mapped[date | None] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date)

    caregiver: Mapped[Caregiver] = relationship(back_populates="certificates")


class Shift(Base):
    """Availability: weekly (``weekday`` 0=Monday) or for one date; ``off`` marks a day off."""

    __tablename__ = "shifts"

    id: Mapped[int] = mapped_column(primary_key=True)
    caregiver_id: Mapped[int] = mapped_column(ForeignKey("caregivers.id"), index=True)
    weekday: Mapped[int | None]
    on_date: Mapped[date | None] = mapped_column(Date)
    start_time: Mapped[time | None] = mapped_column(Time)
    end_time: Mapped[time | None] = mapped_column(Time)
    off: Mapped[bool] = mapped_column(Boolean, default=False)

    caregiver: Mapped[Caregiver] = relationship(back_populates="shifts")
