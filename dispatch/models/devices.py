"""Registered devices: elders' pendants, phones and sensors, canteen terminals; each with a key."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.db import Base, UTCDateTime, str_enum, utcnow


class DeviceKind(enum.StrEnum):
    pendant = "pendant"  # 一键呼叫 pendant or bracelet
    phone = "phone"  # an elder's phone with the one-key app
    sensor = "sensor"  # smoke, water or activity sensor (安居守护)
    canteen_terminal = "canteen_terminal"  # card or face reader at a canteen (助餐点)

    @property
    def at_client(self) -> bool:
        """Bound to an elder's home; a canteen terminal is bound to a service point instead."""
        return self is not DeviceKind.canteen_terminal


class Device(Base):
    __tablename__ = "devices"
    __table_args__ = (
        CheckConstraint(
            "(client_id IS NULL AND service_point_id IS NOT NULL)"
            " OR (client_id IS NOT NULL AND service_point_id IS NULL)",
            name="one_owner",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    kind: Mapped[DeviceKind] = mapped_column(str_enum(DeviceKind))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"), index=True)
    service_point_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_points.id"), index=True
    )
    label: Mapped[str] = mapped_column(String(100))
    # SHA-256 of the key (hex); the key itself is shown once, at registration.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The key's first characters, so that people can tell keys apart without seeing them.
    key_prefix: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<Device {self.id} {self.kind} {self.key_prefix}>"
