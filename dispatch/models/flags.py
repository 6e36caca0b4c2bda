"""Flags (异常): a rule's finding on a work order, with its evidence and resolution."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.db import Base, UTCDateTime, str_enum, utcnow


class Severity(enum.StrEnum):
    block = "block"
    review = "review"
    info = "info"


class FlagStatus(enum.StrEnum):
    open = "open"
    overridden = "overridden"  # finance accepted the order despite it, with a reason
    closed = "closed"  # the rule no longer holds (data or threshold changed)


class Flag(Base):
    __tablename__ = "flags"
    __table_args__ = (
        Index("ix_flags_status_code", "status", "code"),
        # A flag's identity: re-running the rules finds this row again instead of adding one.
        UniqueConstraint("work_order_id", "code", "other_work_order_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    # The other order of a pairwise finding (OVERLAP, DUPLICATE, ...); 0 when there is none,
    # so that the identity above stays unique without NULL semantics.
    other_work_order_id: Mapped[int] = mapped_column(default=0, server_default="0", index=True)
    severity: Mapped[Severity] = mapped_column(str_enum(Severity))
    status: Mapped[FlagStatus] = mapped_column(str_enum(FlagStatus), default=FlagStatus.open)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolution: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"<Flag {self.id} {self.code} {self.status}>"
