"""Emergency calls (一键呼叫) from pendants, sensors, family members or a dispatcher's phone."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.db import Base, UTCDateTime, str_enum, utcnow


class CallKind(enum.StrEnum):
    sos = "sos"  # the elder pressed the button
    fall = "fall"  # a pendant's fall detector
    smoke = "smoke"  # a smoke sensor (安居守护)
    no_activity = "no_activity"  # an activity sensor saw nobody move for too long
    help = "help"  # a non-urgent request for help


class CallStatus(enum.StrEnum):
    open = "open"
    escalated = "escalated"  # handed on (120, community, family); may still be dispatched
    dispatched = "dispatched"  # an urgent visit is on a caregiver's route
    answered = "answered"  # the caregiver checked in at the elder's
    closed = "closed"

    @property
    def undispatched(self) -> bool:
        return self in (CallStatus.open, CallStatus.escalated)


class CallSource(enum.StrEnum):
    device = "device"
    family = "family"
    dispatcher = "dispatcher"


class EscalationTarget(enum.StrEnum):
    ambulance = "120"  # 急救中心
    community = "community"  # 社区 / 网格员
    family = "family"


class Call(Base):
    __tablename__ = "calls"
    __table_args__ = (Index("ix_calls_provider_id_status", "provider_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    kind: Mapped[CallKind] = mapped_column(str_enum(CallKind))
    source: Mapped[CallSource] = mapped_column(str_enum(CallSource))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))
    opened_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[CallStatus] = mapped_column(str_enum(CallStatus), default=CallStatus.open)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)  # to be dispatched by then
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    note: Mapped[str | None] = mapped_column(Text)
    # Presses and alerts merged into this call (a pendant pressed again while help is coming).
    signals: Mapped[int] = mapped_column(default=1)
    # The urgent visit made for the call (proposed, then dispatched).
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"))
    # Urgent insertion's answer: {caregiver_id, arrival, start, plan_id} or {reason, detail}.
    proposal: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    proposed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    caregiver_id: Mapped[int | None] = mapped_column(ForeignKey("caregivers.id"))
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dispatched_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    planned_arrival_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the caregiver's check-in
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # [{to, note, at, by, auto}], oldest first.
    escalations: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    outcome: Mapped[str | None] = mapped_column(String(32))
    close_note: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"<Call {self.id} {self.kind} {self.status}>"


class CallSignal(Base):
    """One received press or alert, by its idempotency key: replays find it and answer again."""

    __tablename__ = "call_signals"
    __table_args__ = (UniqueConstraint("provider_id", "idempotency_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"))
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(64))
    content_hash: Mapped[str] = mapped_column(String(64))  # a replay must say the same
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[CallKind] = mapped_column(str_enum(CallKind))
    device_time_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    def __repr__(self) -> str:
        return f"<CallSignal {self.id} call={self.call_id}>"
