"""Billing batches: a provider's approved orders for a period; closed ones never change."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Numeric
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.db import Base, UTCDateTime, str_enum, utcnow


class BatchStatus(enum.StrEnum):
    open = "open"
    closed = "closed"


class BillingBatch(Base):
    __tablename__ = "billing_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    status: Mapped[BatchStatus] = mapped_column(str_enum(BatchStatus), default=BatchStatus.open)
    orders: Mapped[int] = mapped_column(default=0)
    minutes: Mapped[int] = mapped_column(default=0)
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal("0.00"))
    # Who pays the orders' amount (#19): the elders' allowances, their co-payments, and the
    # funder the rest (``funder``); and the canteen meals' subsidies on top (``total``).
    allowance: Mapped[Decimal] = mapped_column(
        Numeric(14, 2), default=Decimal("0.00"), server_default="0"
    )
    copay: Mapped[Decimal] = mapped_column(
        Numeric(14, 2), default=Decimal("0.00"), server_default="0"
    )
    meals: Mapped[int] = mapped_column(default=0, server_default="0")
    meal_subsidy: Mapped[Decimal] = mapped_column(
        Numeric(14, 2), default=Decimal("0.00"), server_default="0"
    )
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def funder(self) -> Decimal:
        """The orders' amount less what allowances and co-payments cover."""
        return self.amount - self.allowance - self.copay

    @property
    def total(self) -> Decimal:
        """funder + allowance + copay + meal_subsidy: the orders' amount and the meals'."""
        return self.amount + self.meal_subsidy

    def __repr__(self) -> str:
        return f"<BillingBatch {self.id} {self.period_start}..{self.period_end} {self.status}>"
