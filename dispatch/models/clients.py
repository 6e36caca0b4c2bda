"""Clients (服务对象): the elders who receive care at home."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dispatch.db import Base, UTCDateTime, str_enum, utcnow


class Gender(enum.StrEnum):
    female = "female"
    male = "male"


class VisitFrequency(enum.StrEnum):
    """The "five colours" of regular check-on visits."""

    daily = "daily"
    weekly = "weekly"
    monthly = "monthly"
    quarterly = "quarterly"
    half_yearly = "half_yearly"


class FundingSource(enum.StrEnum):
    government = "government"  # 政府购买服务
    allowance = "allowance"  # 电子津贴
    ltc_insurance = "ltc_insurance"  # 长期护理保险
    self_paid = "self_paid"


class AbsenceReason(enum.StrEnum):
    hospital = "hospital"
    travel = "travel"
    family = "family"
    other = "other"


class Client(Base):
    __tablename__ = "clients"
    __table_args__ = (UniqueConstraint("provider_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    gender: Mapped[Gender | None] = mapped_column(str_enum(Gender))
    birth_date: Mapped[date | None] = mapped_column(Date)
    phone: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(300))
    street: Mapped[str | None] = mapped_column(String(100), index=True)  # 街道, splits large days
    lat: Mapped[float]
    lon: Mapped[float]
    care_level: Mapped[int] = mapped_column(default=0)  # 能力评估等级 0 (intact) .. 4 (total loss)
    visit_frequency: Mapped[VisitFrequency | None] = mapped_column(str_enum(VisitFrequency))
    funding_source: Mapped[FundingSource] = mapped_column(
        str_enum(FundingSource), default=FundingSource.government
    )
    monthly_entitlement_min: Mapped[int | None]
    monthly_allowance: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    preferred_caregiver_gender: Mapped[Gender | None] = mapped_column(str_enum(Gender))
    language: Mapped[str | None] = mapped_column(String(32))
    notes: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    absences: Mapped[list[ClientAbsence]] = relationship(
        back_populates="client", cascade="all, delete-orphan", order_by="ClientAbsence.start_at"
    )
    refusals: Mapped[list[ClientRefusal]] = relationship(
        back_populates="client", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Client {self.id} {self.code}>"


class ClientAbsence(Base):
    """A period when the client is away (hospital, travel): no visit should happen."""

    __tablename__ = "client_absences"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[AbsenceReason] = mapped_column(str_enum(AbsenceReason))
    note: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    client: Mapped[Client] = relationship(back_populates="absences")


class ClientRefusal(Base):
    """A caregiver the client has refused; the router never sends them."""

    __tablename__ = "client_refusals"
    __table_args__ = (UniqueConstraint("client_id", "caregiver_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    caregiver_id: Mapped[int] = mapped_column(ForeignKey("caregivers.id"), index=True)
    reason: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    client: Mapped[Client] = relationship(back_populates="refusals")
