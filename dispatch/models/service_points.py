"""Service points: central kitchens, canteens (助餐点) and service centres."""

from __future__ import annotations

import enum

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.db import Base, str_enum


class ServicePointKind(enum.StrEnum):
    kitchen = "kitchen"
    canteen = "canteen"
    centre = "centre"


class ServicePoint(Base):
    __tablename__ = "service_points"
    __table_args__ = (UniqueConstraint("provider_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[ServicePointKind] = mapped_column(str_enum(ServicePointKind))
    address: Mapped[str | None] = mapped_column(String(300))
    lat: Mapped[float]
    lon: Mapped[float]
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def __repr__(self) -> str:
        return f"<ServicePoint {self.id} {self.code}>"
