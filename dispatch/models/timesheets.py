"""Timesheet uploads: a provider's file of visits recorded outside the app."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.db import Base, UTCDateTime, utcnow


class TimesheetUpload(Base):
    __tablename__ = "timesheet_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    filename: Mapped[str | None] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int]
    created: Mapped[int]
    already_received: Mapped[int]
    # "inline" when the orders were validated in the request, else the rq job's id.
    validation: Mapped[str | None] = mapped_column(String(64))
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<TimesheetUpload {self.id} rows={self.rows}>"
