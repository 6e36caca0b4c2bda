"""Rule settings: the admin-editable thresholds and severities of validation rules."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.db import Base, UTCDateTime, str_enum, utcnow
from dispatch.models.flags import Severity


class RuleSetting(Base):
    __tablename__ = "rule_settings"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    threshold: Mapped[float | None] = mapped_column(Float)
    severity: Mapped[Severity | None] = mapped_column(str_enum(Severity))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<RuleSetting {self.code}>"
