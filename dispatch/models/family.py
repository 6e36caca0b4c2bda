"""Family members' links to elders, their ratings and complaints, and the notification outbox."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.db import Base, UTCDateTime, str_enum, utcnow


class FamilyLink(Base):
    """A ``family`` user linked to one elder by the provider, with the elder's consents."""

    __tablename__ = "family_links"
    __table_args__ = (UniqueConstraint("client_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    relation: Mapped[str | None] = mapped_column(String(32))  # 女儿, 儿子, 侄女 ...
    phone: Mapped[str | None] = mapped_column(String(32))
    may_see_photos: Mapped[bool] = mapped_column(Boolean, default=False)
    notify: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    def __repr__(self) -> str:
        return f"<FamilyLink client={self.client_id} user={self.user_id}>"


class Rating(Base):
    """A family member's 1-5 stars for a completed visit: one per visit."""

    __tablename__ = "ratings"
    __table_args__ = (UniqueConstraint("visit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    stars: Mapped[int]
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Rating visit={self.visit_id} {self.stars}>"


class ComplaintStatus(enum.StrEnum):
    open = "open"
    answered = "answered"
    closed = "closed"


class Complaint(Base):
    __tablename__ = "complaints"
    __table_args__ = (Index("ix_complaints_provider_id_status", "provider_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[ComplaintStatus] = mapped_column(
        str_enum(ComplaintStatus), default=ComplaintStatus.open
    )
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Complaint {self.id} {self.status}>"


class NotificationKind(enum.StrEnum):
    check_in = "check_in"
    check_out = "check_out"
    missed = "missed"  # nobody checked in by the end of the visit's window
    call_dispatched = "call_dispatched"
    arrived = "arrived"  # the caregiver checked in at a call's urgent visit (the call answered)
    call_escalated = "call_escalated"
    order_accepted = "order_accepted"
    order_declined = "order_declined"


class Notification(Base):
    """The outbox: one row per event and recipient, sent once by the configured sender."""

    __tablename__ = "notifications"
    __table_args__ = (
        # One message per event and recipient, whoever records the event how often.
        UniqueConstraint("user_id", "event_key"),
        Index("ix_notifications_sent_at_next_attempt_at", "sent_at", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"))
    kind: Mapped[NotificationKind] = mapped_column(str_enum(NotificationKind))
    event_key: Mapped[str] = mapped_column(String(100))  # e.g. visit_event:42
    text: Mapped[str] = mapped_column(Text)
    text_zh: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<Notification {self.id} {self.kind} user={self.user_id}>"
