"""Appeals (申诉): a provider contests a flagged or rejected order."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.db import Base, UTCDateTime, str_enum, utcnow


class AppealStatus(enum.StrEnum):
    open = "open"
    upheld = "upheld"
    denied = "denied"


class Appeal(Base):
    __tablename__ = "appeals"
    # One open appeal per order, enforced by the database too (two requests can race).
    __table_args__ = (
        Index(
            "uq_appeals_open_work_order_id",
            "work_order_id",
            unique=True,
            postgresql_where=text("status = 'open'"),
            sqlite_where=text("status = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    evidence_photo_id: Mapped[int | None] = mapped_column(ForeignKey("photos.id"))
    status: Mapped[AppealStatus] = mapped_column(str_enum(AppealStatus), default=AppealStatus.open)
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_reason: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"<Appeal {self.id} order={self.work_order_id} {self.status}>"
