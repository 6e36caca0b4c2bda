"""Supervision records: five-colour contacts, call-backs (回访), caregivers' training."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.db import Base, UTCDateTime, str_enum, utcnow


class ContactKind(enum.StrEnum):
    """How someone was in touch with an elder (Gongshu §8); a completed visit counts too."""

    phone = "phone"  # 电话问候
    neighbour = "neighbour"  # 邻里询问
    pairing = "pairing"  # 结对探访
    visit = "visit"  # 上门探访 recorded by hand (a completed service visit counts by itself)


class ClientContact(Base):
    """A recorded contact with an elder, entered by the provider that serves them."""

    __tablename__ = "client_contacts"
    __table_args__ = (Index("ix_client_contacts_client_id_at", "client_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    kind: Mapped[ContactKind] = mapped_column(str_enum(ContactKind))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TookPlace(enum.StrEnum):
    yes = "yes"
    no = "no"
    unsure = "unsure"


class CallbackStatus(enum.StrEnum):
    pending = "pending"
    answered = "answered"


class Callback(Base):
    """A sampled completed work order that a caller checks with the elder (回访)."""

    __tablename__ = "callbacks"
    __table_args__ = (Index("ix_callbacks_status_provider_id", "status", "provider_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # One call-back per order: a later sample never draws an order already sampled.
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), unique=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    period_from: Mapped[date] = mapped_column(Date)
    period_to: Mapped[date] = mapped_column(Date)
    seed: Mapped[int]
    status: Mapped[CallbackStatus] = mapped_column(
        str_enum(CallbackStatus), default=CallbackStatus.pending
    )
    reached: Mapped[bool | None] = mapped_column(Boolean)
    took_place: Mapped[TookPlace | None] = mapped_column(str_enum(TookPlace))
    satisfaction: Mapped[int | None]
    note: Mapped[str | None] = mapped_column(Text)
    sampled_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CaregiverGrade(enum.StrEnum):
    """养老护理员 occupational grades (国家职业技能标准), lowest first."""

    junior = "junior"  # 初级（五级）
    intermediate = "intermediate"  # 中级（四级）
    senior = "senior"  # 高级（三级）
    technician = "technician"  # 技师（二级）
    senior_technician = "senior_technician"  # 高级技师（一级）

    @property
    def senior_or_above(self) -> bool:
        return self in SENIOR_GRADES


SENIOR_GRADES = frozenset(
    {CaregiverGrade.senior, CaregiverGrade.technician, CaregiverGrade.senior_technician}
)


class Training(Base):
    """A course a caregiver attended: what, when, how many hours."""

    __tablename__ = "caregiver_trainings"

    id: Mapped[int] = mapped_column(primary_key=True)
    caregiver_id: Mapped[int] = mapped_column(ForeignKey("caregivers.id"), index=True)
    course: Mapped[str] = mapped_column(String(200))
    on_date: Mapped[date] = mapped_column(Date)
    hours: Mapped[Decimal] = mapped_column(Numeric(6, 1))
    provider_name: Mapped[str | None] = mapped_column(String(200))  # who taught it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
