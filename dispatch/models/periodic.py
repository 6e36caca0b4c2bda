"""One row per periodic task: when it last ran, and who holds it now (the cross-process lock)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.db import Base, UTCDateTime


class PeriodicRun(Base):
    __tablename__ = "periodic_runs"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when a runner claims the task, cleared when it finishes; a runner that died mid-task
    # holds the task until then at most.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    owner: Mapped[str | None] = mapped_column(String(100))
    runs: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"<PeriodicRun {self.name} runs={self.runs}>"
