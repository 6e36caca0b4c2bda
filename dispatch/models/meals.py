"""Canteen meals (助餐, 全城通): a meal served to an elder at a canteen, its subsidy and flags."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dispatch.db import Base, UTCDateTime, str_enum, utcnow
from dispatch.models.flags import FlagStatus, Severity


class MealSlot(enum.StrEnum):
    breakfast = "breakfast"
    lunch = "lunch"
    dinner = "dinner"


class MealMethod(enum.StrEnum):
    card = "card"  # social-security or allowance card
    face = "face"  # the terminal's face match
    manual = "manual"  # canteen staff picked the elder


class MealStatus(enum.StrEnum):
    recorded = "recorded"  # no open block/review flag: billable
    flagged = "flagged"  # held from billing until finance decides
    rejected = "rejected"  # finance refused it: never billed


class Canteen(Base):
    """A canteen's meal service: per slot its hours (local time) and its price in fen."""

    __tablename__ = "canteens"

    service_point_id: Mapped[int] = mapped_column(ForeignKey("service_points.id"), primary_key=True)
    # {"lunch": {"start": "10:30", "end": "13:00", "price_fen": 1500}, ...}
    slots: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Canteen {self.service_point_id}>"


class Meal(Base):
    __tablename__ = "meals"
    __table_args__ = (
        # The terminal's retry of the same meal finds this row instead of adding one.
        UniqueConstraint("canteen_id", "idempotency_key"),
        Index("ix_meals_client_day_slot", "client_id", "day", "slot"),
        Index("ix_meals_canteen_day", "canteen_id", "day"),
        CheckConstraint("subsidy_fen >= 0 AND subsidy_fen <= price_fen", name="subsidy_in_price"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    canteen_id: Mapped[int] = mapped_column(ForeignKey("service_points.id"))
    # The provider running the canteen: it serves, bills and sees the meal.
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    served_at: Mapped[datetime] = mapped_column(UTCDateTime)
    day: Mapped[date] = mapped_column(Date)  # local date of served_at
    slot: Mapped[MealSlot] = mapped_column(str_enum(MealSlot))
    method: Mapped[MealMethod] = mapped_column(str_enum(MealMethod))
    idempotency_key: Mapped[str] = mapped_column(String(100))
    content_hash: Mapped[str] = mapped_column(String(64))
    price_fen: Mapped[int]
    subsidy_fen: Mapped[int]
    status: Mapped[MealStatus] = mapped_column(str_enum(MealStatus), default=MealStatus.recorded)
    billing_batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("billing_batches.id"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    flags: Mapped[list[MealFlag]] = relationship(order_by="MealFlag.id", viewonly=True)

    @property
    def price_to_pay_fen(self) -> int:
        return self.price_fen - self.subsidy_fen

    def __repr__(self) -> str:
        return f"<Meal {self.id} client={self.client_id} {self.day} {self.slot}>"


class MealFlag(Base):
    """A meal rule's finding (DUPLICATE_MEAL, MEAL_OUTSIDE_HOURS) with its evidence."""

    __tablename__ = "meal_flags"
    __table_args__ = (UniqueConstraint("meal_id", "code", "other_meal_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meal_id: Mapped[int] = mapped_column(ForeignKey("meals.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    other_meal_id: Mapped[int] = mapped_column(default=0, server_default="0")
    severity: Mapped[Severity] = mapped_column(str_enum(Severity))
    status: Mapped[FlagStatus] = mapped_column(str_enum(FlagStatus), default=FlagStatus.open)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolution: Mapped[str | None] = mapped_column(String(500))

    def __repr__(self) -> str:
        return f"<MealFlag {self.id} {self.code} {self.status}>"
