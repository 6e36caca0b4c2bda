"""Services ordered à la carte (点单) by an elder, a family member or a dispatcher."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.db import Base, UTCDateTime, str_enum, utcnow


class OrderStatus(enum.StrEnum):
    requested = "requested"
    accepted = "accepted"  # a visit exists for it
    declined = "declined"


class ServiceOrder(Base):
    __tablename__ = "service_orders"
    __table_args__ = (Index("ix_service_orders_provider_id_status", "provider_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    service_type_id: Mapped[int] = mapped_column(ForeignKey("service_types.id"))
    date: Mapped[date] = mapped_column(Date)
    window_start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[OrderStatus] = mapped_column(
        str_enum(OrderStatus), default=OrderStatus.requested
    )
    # What the entitlement and allowance covered when it was ordered, and the co-payment.
    coverage: Mapped[dict[str, Any]] = mapped_column(JSON)
    price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    ordered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    ordered_by_role: Mapped[str] = mapped_column(String(24))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decline_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<ServiceOrder {self.id} {self.status}>"
