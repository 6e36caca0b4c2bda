"""Visit events (EVV records): check-in and check-out as the phone sent them."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.db import Base, UTCDateTime, str_enum, utcnow
from dispatch.models.visits import VisitOutcome


class EventKind(enum.StrEnum):
    check_in = "check_in"
    check_out = "check_out"


class Crs(enum.StrEnum):
    wgs84 = "wgs84"
    gcj02 = "gcj02"


class VisitEvent(Base):
    __tablename__ = "visit_events"
    __table_args__ = (
        # One check-in and one check-out per caregiver and visit, even under racing retries.
        UniqueConstraint("visit_id", "caregiver_id", "kind"),
        Index("ix_visit_events_caregiver_id_device_time_at", "caregiver_id", "device_time_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    content_hash: Mapped[str] = mapped_column(String(64))  # of the request; replays must match
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"))
    caregiver_id: Mapped[int] = mapped_column(ForeignKey("caregivers.id"))
    kind: Mapped[EventKind] = mapped_column(str_enum(EventKind))
    device_time_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lat: Mapped[float]  # WGS84, converted when the device sent GCJ-02
    lon: Mapped[float]
    raw_lat: Mapped[float]
    raw_lon: Mapped[float]
    crs: Mapped[Crs] = mapped_column(str_enum(Crs))
    accuracy_m: Mapped[float | None]
    mock_location: Mapped[bool] = mapped_column(Boolean, default=False)
    device_id: Mapped[str | None] = mapped_column(String(128))
    offline: Mapped[bool] = mapped_column(Boolean, default=False)
    photo_id: Mapped[int | None] = mapped_column(ForeignKey("photos.id"), index=True)
    outcome: Mapped[VisitOutcome | None] = mapped_column(str_enum(VisitOutcome))
    tasks_done: Mapped[list[str] | None] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    def __repr__(self) -> str:
        return f"<VisitEvent {self.id} {self.kind} visit={self.visit_id}>"
