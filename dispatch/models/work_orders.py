"""Work orders (服务工单): billable claims for performed services."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dispatch.db import Base, UTCDateTime, str_enum, utcnow
from dispatch.models.appeals import Appeal
from dispatch.models.flags import Flag


class WorkOrderSource(enum.StrEnum):
    app = "app"
    timesheet = "timesheet"


class WorkOrderStatus(enum.StrEnum):
    submitted = "submitted"
    flagged = "flagged"
    verified = "verified"
    approved = "approved"
    rejected = "rejected"
    billed = "billed"


class AppealState(enum.StrEnum):
    none = "none"
    open = "open"
    upheld = "upheld"
    denied = "denied"


class WorkOrder(Base):
    __tablename__ = "work_orders"
    __table_args__ = (
        UniqueConstraint("provider_id", "external_id"),
        UniqueConstraint("visit_id", "caregiver_id"),
        Index("ix_work_orders_caregiver_id_start_at", "caregiver_id", "start_at"),
        Index("ix_work_orders_client_id_start_at", "client_id", "start_at"),
        Index("ix_work_orders_provider_id_status", "provider_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    caregiver_id: Mapped[int] = mapped_column(ForeignKey("caregivers.id"))
    service_type_id: Mapped[int] = mapped_column(ForeignKey("service_types.id"))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"))
    source: Mapped[WorkOrderSource] = mapped_column(str_enum(WorkOrderSource))
    external_id: Mapped[str | None] = mapped_column(String(64))
    upload_id: Mapped[int | None] = mapped_column(ForeignKey("timesheet_uploads.id"), index=True)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    billable_min: Mapped[int]
    status: Mapped[WorkOrderStatus] = mapped_column(
        str_enum(WorkOrderStatus), default=WorkOrderStatus.submitted
    )
    appeal_state: Mapped[AppealState] = mapped_column(
        str_enum(AppealState), default=AppealState.none
    )
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    billing_batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("billing_batches.id"), index=True
    )
    # Frozen when the order joins a batch, so that a later change of the catalogue's rate
    # never changes what a batch says (docs/billing.md).
    billing_rate: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    billing_amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    flags: Mapped[list[Flag]] = relationship(order_by="Flag.id", viewonly=True)
    appeals: Mapped[list[Appeal]] = relationship(order_by="Appeal.id", viewonly=True)

    def __repr__(self) -> str:
        return f"<WorkOrder {self.id} {self.source} {self.status}>"
